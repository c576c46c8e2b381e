#!/usr/bin/env bash
# Sets up everything the tests need and runs them: the virtual environment,
# Debian's chromium for the browser tests, and a throwaway PostgreSQL server on
# loopback for the storage tests. Run as root on a fresh machine, or as a user
# who already has chromium and PostgreSQL installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${need_apt[*]} (install them, or run as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

scripts/setup.sh --dev
# axe-core, injected into pages by the accessibility tests (test-only).
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  npm ci --no-audit --no-fund --silent
fi
# shellcheck disable=SC1091
. .venv/bin/activate

# A PostgreSQL server of our own, on a private socket and a loopback port,
# stopped again when the tests end.
pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
pg_dir=$(mktemp -d /tmp/veiviser-pg.XXXXXX)
pg_port=${VEIVISER_TEST_PG_PORT:-55432}
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$pg_dir"
  as_pg=(runuser -u postgres --)
fi
stop_pg() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U veiviser --auth=trust -E UTF8 \
  --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
  -o "-k $pg_dir -p $pg_port -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U veiviser veiviser_test
export VEIVISER_TEST_POSTGRES_URL="postgresql+psycopg://veiviser@127.0.0.1:$pg_port/veiviser_test"
export VEIVISER_TEST_PG_CTL="${as_pg[*]} $pg_bin/pg_ctl -D $pg_dir/data"

ruff format --check src tests benchmarks scripts
ruff check src tests benchmarks scripts
cd "$root"
python -m pytest "$@"
