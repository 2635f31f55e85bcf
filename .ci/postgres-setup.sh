#!/usr/bin/env bash
# A private PostgreSQL for payswitch-store's tests: installs Debian's `postgresql` when no
# server binaries are found, starts a throwaway cluster on 127.0.0.1 (as the `postgres` user
# when run as root: initdb refuses root), creates the test database, and prints
#   export PAYSWITCH_TEST_DATABASE_URL=postgres://payswitch@127.0.0.1:PORT/payswitch_test
# on stdout (everything else goes to stderr). Use it as: eval "$(bash .ci/postgres-setup.sh)"
# Idempotent: a cluster it already started is reused.
#
# Settings (environment): PAYSWITCH_PG_DIR (default /tmp/payswitch-pg), PAYSWITCH_PG_PORT
# (default 55432), PAYSWITCH_PG_FSYNC (default off: a test server loses nothing that matters
# in a crash; set it to on for benchmarks).
set -euo pipefail

dir="${PAYSWITCH_PG_DIR:-/tmp/payswitch-pg}"
port="${PAYSWITCH_PG_PORT:-55432}"
fsync="${PAYSWITCH_PG_FSYNC:-off}"
database=payswitch_test
role=payswitch

log() { echo "postgres-setup: $*" >&2; }

find_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$found" ] && [ -x "$found/initdb" ]; then
    echo "$found"
  fi
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "no PostgreSQL server found and not root: install Debian's postgresql package"
    exit 1
  fi
  log "installing postgresql with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi
if [ -z "$bin" ]; then
  log "postgresql installed but initdb not found under /usr/lib/postgresql/*/bin"
  exit 1
fi

# Run the server as an unprivileged user: `postgres` when we are root, ourselves otherwise.
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  as_owner() { runuser -u postgres -- "$@"; }
  mkdir -p "$dir"
  chown postgres "$dir"
else
  as_owner() { "$@"; }
  mkdir -p "$dir"
fi
chmod 700 "$dir"

if [ ! -f "$dir/PG_VERSION" ]; then
  log "initdb in $dir"
  as_owner "$bin/initdb" -D "$dir" -U "$role" -A trust --no-sync >"$dir.initdb.log" 2>&1 || {
    cat "$dir.initdb.log" >&2
    exit 1
  }
fi

if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  log "reusing the server already running in $dir"
else
  # A server killed with its machine session leaves its pid file behind; pg_ctl just said no
  # server runs on this directory, so the file is stale.
  rm -f "$dir/postmaster.pid"
  log "starting the server on 127.0.0.1:$port"
  as_owner "$bin/pg_ctl" -D "$dir" -w -t 60 -l "$dir/server.log" \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=$fsync -c max_connections=200" start >&2 || {
    tail -n 40 "$dir/server.log" >&2 || true
    exit 1
  }
fi

psql_bin="$bin/psql"
if ! "$psql_bin" -h 127.0.0.1 -p "$port" -U "$role" -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
  log "creating database $database"
  "$psql_bin" -h 127.0.0.1 -p "$port" -U "$role" -d postgres -qc "CREATE DATABASE $database" >&2
fi

echo "export PAYSWITCH_TEST_DATABASE_URL=postgres://$role@127.0.0.1:$port/$database"
