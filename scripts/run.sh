#!/usr/bin/env bash
# Start the web server and a django-q2 worker together; one Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"
# E-mail goes to files in var/mail unless told otherwise, so a new account's
# confirmation link can be opened without a mail server.
export EMAIL_BACKEND="${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}"
export EMAIL_FILE_PATH="${EMAIL_FILE_PATH:-var/mail}"
mkdir -p "$EMAIL_FILE_PATH"

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
  E-mail (confirmation links): $EMAIL_FILE_PATH/ (EMAIL_BACKEND=$EMAIL_BACKEND)
  The demo accounts and their password are listed above. Ctrl-C stops both server and worker.

MSG
# Exit as soon as either process dies, taking the other one down with it.
wait -n "${pids[@]}"
