# Shared by the checks that drive simgate from Python (tests/compat, tests/fuzz): a venv, simgate built
# and started on a fresh database per backend — SQLite, and Postgres when SIMGATE_TEST_DATABASE_URL is
# set — and everything removed afterwards. Source it, then call `each_backend FN`: FN runs once per
# backend with $base (the server's URL) and $backend set, and the server log in $work/server.log.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
admin_password="harness-admin-pass"
work="$(mktemp -d)"
server=""
pgdb=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$pgdb" ]; then psql "$SIMGATE_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# venv DIR PACKAGE...: a venv at DIR with the packages installed.
venv() {
  local dir="$1"; shift
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
}

cargo build --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/debug/simgate"

start_simgate() {
  local db_url="$1" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  backend="${db_url%%:*}"
  SIMGATE_LISTEN="127.0.0.1:$port" SIMGATE_DATABASE_URL="$db_url" SIMGATE_ADMIN_PASSWORD="$admin_password" \
    SIMGATE_AUTH__ARGON2_MEMORY_KIB=1024 SIMGATE_AUTH__ARGON2_ITERATIONS=1 "$bin" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    "$bin" healthcheck --addr "127.0.0.1:$port" >/dev/null 2>&1 && break
    sleep 0.1
  done
}

stop_simgate() {
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

each_backend() {
  local fn="$1"
  start_simgate "sqlite://$work/$fn.db"
  "$fn" || { tail -50 "$work/server.log"; return 1; }
  stop_simgate
  if [ -n "${SIMGATE_TEST_DATABASE_URL:-}" ]; then
    pgdb="simgate_${fn}_$$"
    psql "$SIMGATE_TEST_DATABASE_URL" -qc "CREATE DATABASE $pgdb"
    start_simgate "$(python3 -c 'import sys, urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$SIMGATE_TEST_DATABASE_URL" "$pgdb")"
    "$fn" || { tail -50 "$work/server.log"; return 1; }
    stop_simgate
    psql "$SIMGATE_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null
    pgdb=""
  fi
}
