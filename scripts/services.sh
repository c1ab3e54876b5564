#!/usr/bin/env bash
# Makes sure the services the tests talk to are up: PostgreSQL on 127.0.0.1:5432 (the store's
# second backend), with the database DATABASE_URL names. Prints the DATABASE_URL to use.
# Safe to run again.
# Outside CI a missing PostgreSQL only warns (its tests are skipped, SQLite still runs); in CI
# (CI=true) it fails the run, so PostgreSQL coverage cannot vanish without anyone noticing.
set -euo pipefail
url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
ci=false
case "${CI:-}" in true | 1 | yes) ci=true ;; esac

unavailable() {
  if [ "$ci" = true ]; then
    echo "services: $1; CI=true requires PostgreSQL, failing" >&2
    exit 1
  fi
  echo "services: $1; PostgreSQL store tests will be skipped" >&2
  echo ""
  exit 0
}

command -v pg_isready >/dev/null || unavailable "pg_isready is not installed (apt-get install postgresql)"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 ||
      echo "services: pg_ctlcluster $version main start failed" >&2
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
pg_isready -q -h 127.0.0.1 -p 5432 || unavailable "PostgreSQL is not reachable on 127.0.0.1:5432"

# The tests connect to the database the URL names to create one database per test.
database="${url##*/}"
database="${database%%\?*}"
server="${url%/*}"
if command -v psql >/dev/null; then
  exists="$(psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" 2>&1)" ||
    unavailable "cannot connect to $server/postgres: $exists"
  if [ "$exists" != 1 ]; then
    psql "$server/postgres" -qc "CREATE DATABASE \"$database\"" >&2 ||
      unavailable "cannot create the database $database"
  fi
fi
echo "$url"
