#!/usr/bin/env bash
# `make run`: prepare the database and static files, then serve with gunicorn
# (threaded workers) next to a django-q2 worker. Ctrl-C, or SIGTERM to this
# script or to its whole process group (what systemd sends), stops both:
# each gets SIGTERM, has until STOP_GRACE seconds to finish, then whatever is
# left of either (their own child processes included) is killed.
#
# Environment (README, "Configuration"): HOST, PORT, WEB_WORKERS, WEB_THREADS,
# WEB_BACKLOG, WEB_TIMEOUT, WEB_SERVER (runserver: `make dev`), RUN_SETUP (0: no migrate, demo data or
# collectstatic; the database must be ready), DJANGO_SETTINGS_MODULE.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
HOST="${HOST:-127.0.0.1}"
export PORT="${PORT:-8000}"
WEB_WORKERS="${WEB_WORKERS:-2}"
WEB_THREADS="${WEB_THREADS:-8}"
WEB_BACKLOG="${WEB_BACKLOG:-2048}"
WEB_TIMEOUT="${WEB_TIMEOUT:-30}"
STOP_GRACE=10
# The demo's settings (demo data is refused in production); gunicorn would
# otherwise take lms.wsgi's default, the production settings.
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-lms.settings.dev}"
# E-mail goes to files in var/mail unless told otherwise, so a new account's
# confirmation link can be opened without a mail server.
export EMAIL_BACKEND="${EMAIL_BACKEND:-django.core.mail.backends.filebased.EmailBackend}"
export EMAIL_FILE_PATH="${EMAIL_FILE_PATH:-var/mail}"
mkdir -p "$EMAIL_FILE_PATH"

if [ "${RUN_SETUP:-1}" != "0" ]; then
  "$PY" manage.py migrate --noinput
  "$PY" manage.py seed_demo
  # With DEBUG off, WhiteNoise serves only what is in STATIC_ROOT: without
  # this the pages would have no CSS or scripts.
  "$PY" manage.py collectstatic --noinput --verbosity 0
fi

pids=()

# Every descendant of a process, deepest first (gunicorn's and django-q2's
# own workers), found by parent id.
descendants() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null || true); do
    descendants "$child"
    echo "$child"
  done
}

stopping=0
stop() {
  local status=$?
  [ "$stopping" = 1 ] && return
  stopping=1
  trap - INT TERM EXIT
  local pid all=() deadline
  for pid in "${pids[@]}"; do
    all+=($(descendants "$pid") "$pid")
    kill -TERM "$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + STOP_GRACE - 1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    local alive=0
    for pid in "${all[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; break; fi
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${all[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: process $pid did not stop within ${STOP_GRACE}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Its own process group: django-q2 stops cleanly (running tasks finish) on a
# SIGTERM to its main process, but its sentinel process dies at once on a
# SIGTERM of its own and the main process then waits for it forever. A
# signal to our group thus reaches only this script, which passes it on.
# DB_POOL=0: django-q2 forks its processes after its main process has
# touched the database, and a connection pool must not cross a fork (the
# children would share its connections: "connection in transaction status"
# errors and tasks left in the database queue). Each worker process keeps
# one connection of its own instead, as the README's budget counts.
DB_POOL=0 setsid "$PY" manage.py qcluster &
pids+=($!)
if [ "${WEB_SERVER:-gunicorn}" = "runserver" ]; then
  # `make dev`: Django's development server, reloading on code changes. One
  # process, listen backlog 10: not for a room full of people.
  "$PY" manage.py runserver "$HOST:$PORT" &
  server="Django's development server (auto-reload)"
else
  # --keep-alive 75: an idle keep-alive connection stays open longer than
  # clients wait between requests (gunicorn's default, 2 s, closed it just as
  # a client sent its next request on it: a reset the load test counted).
  # --limit-request-line 8190 (gunicorn's most; nginx passes 8 KiB): the API's
  # bounded query parameters, percent-encoded, fit in a request line.
  "$VENV/bin/gunicorn" lms.wsgi:application \
    --bind "$HOST:$PORT" \
    --worker-class gthread --workers "$WEB_WORKERS" --threads "$WEB_THREADS" \
    --backlog "$WEB_BACKLOG" --timeout "$WEB_TIMEOUT" \
    --graceful-timeout $((STOP_GRACE - 3)) \
    --keep-alive 75 \
    --limit-request-line 8190 \
    --no-control-socket \
    --access-logfile - &
  server="gunicorn, $WEB_WORKERS processes x $WEB_THREADS threads"
fi
pids+=($!)

cat <<MSG

  Partner Academy is running:  http://$HOST:$PORT/
  Wagtail admin:               http://$HOST:$PORT/admin/
  API docs:                    http://$HOST:$PORT/api/v1/docs
  E-mail (confirmation links): $EMAIL_FILE_PATH/ (EMAIL_BACKEND=$EMAIL_BACKEND)
  Web server: $server; worker: django-q2.
  The demo accounts and their password are listed above. Ctrl-C stops both server and worker.

MSG
# Return as soon as either process ends; the EXIT trap takes the other down.
set +e
wait -n "${pids[@]}"
exit $?
