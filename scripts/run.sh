#!/usr/bin/env bash
# Start the web server and a django-q2 worker together; one Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$PY manage.py qcluster &
pids+=($!)
$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)

cat <<MSG

  Partner Academy is running:  http://$HOST:$PORT/
  Wagtail admin:               http://$HOST:$PORT/admin/
  API docs:                    http://$HOST:$PORT/api/v1/docs
  The demo accounts and their password are listed above. Ctrl-C stops both server and worker.

MSG
# Exit as soon as either process dies, taking the other one down with it.
wait -n "${pids[@]}"
