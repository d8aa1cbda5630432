#!/usr/bin/env bash
# The official emnify Python SDK against simgate: a venv with emnify-sdk 0.5.3, simgate on a fresh
# database (SQLite; and Postgres when SIMGATE_TEST_DATABASE_URL is set), then sdk_test.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "emnify-sdk==0.5.3"

cargo build --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/debug/simgate"
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "${pgdb:-}" ]; then psql "$SIMGATE_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

run_against() {
  local db_url="$1" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SIMGATE_LISTEN="127.0.0.1:$port" SIMGATE_DATABASE_URL="$db_url" SIMGATE_ADMIN_PASSWORD="compat-admin-pass" \
    SIMGATE_AUTH__ARGON2_MEMORY_KIB=1024 SIMGATE_AUTH__ARGON2_ITERATIONS=1 "$bin" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    "$bin" healthcheck --addr "127.0.0.1:$port" >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "== emnify SDK against simgate on ${db_url%%:*}"
  EMNIFY_SDK_API_ENDPOINT_URL="http://127.0.0.1:$port/api" SIMGATE_URL="http://127.0.0.1:$port" \
    SIMGATE_ADMIN_EMAIL="admin@localhost" SIMGATE_ADMIN_PASSWORD="compat-admin-pass" \
    "$venv/bin/python" "$here/sdk_test.py" || { cat "$work/server.log"; return 1; }
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

run_against "sqlite://$work/compat.db"
if [ -n "${SIMGATE_TEST_DATABASE_URL:-}" ]; then
  pgdb="simgate_compat_$$"
  psql "$SIMGATE_TEST_DATABASE_URL" -qc "CREATE DATABASE $pgdb"
  run_against "$(python3 -c 'import sys, urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$SIMGATE_TEST_DATABASE_URL" "$pgdb")"
fi
