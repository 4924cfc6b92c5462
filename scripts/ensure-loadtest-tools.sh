#!/usr/bin/env bash
# `make loadtest` needs Debian's nginx and redis-server and PostgreSQL's tools
# (pg_ctl, initdb, pg_dump, psql); installed when missing and root.
set -euo pipefail
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v redis-server >/dev/null || need+=(redis-server)
command -v pg_dump >/dev/null || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "make loadtest needs: ${need[*]} (apt-get install them, or run as root)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
