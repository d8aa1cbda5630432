#!/usr/bin/env bash
# The OpenAPI document is a contract clients generate code from: validated with openapi-spec-validator,
# then a Python client is generated from it with openapi-python-client and runs the README's first steps
# (tests/openapi/first_steps.py) against a fresh server, each answer parsed into its documented model.
# Installs both tools in tests/openapi/.venv (PyPI) on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=tests/openapi/.venv
if [ ! -x "$VENV/bin/openapi-python-client" ] || [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    'openapi-spec-validator==0.9.0' 'openapi-python-client==0.29.1'
fi
cargo build --release --quiet
BIN="$PWD/target/release/simgate"
WORK="$(mktemp -d)"
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SIMGATE_ADMIN_PASSWORD=openapi-admin-pass-1
(cd "$WORK" && SIMGATE_LISTEN="127.0.0.1:$PORT" SIMGATE_DATABASE_URL="sqlite://$WORK/simgate.db" \
  SIMGATE_LOG__LEVEL=warn exec "$BIN" serve) >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do "$BIN" healthcheck --ready --addr "127.0.0.1:$PORT" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/openapi.json" -o "$WORK/openapi.json"

echo "== openapi-spec-validator"
"$VENV/bin/openapi-spec-validator" "$WORK/openapi.json"

echo "== openapi-python-client generate"
PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate --path "$WORK/openapi.json" --output-path "$WORK/simgate_client" \
  --meta none --fail-on-warning >"$WORK/generate.log" 2>&1 || { cat "$WORK/generate.log" >&2; exit 1; }

echo "== the README's first steps through the generated client"
PYTHONPATH="$WORK" "$VENV/bin/python" tests/openapi/first_steps.py "http://127.0.0.1:$PORT" || {
  echo "--- server log" >&2; tail -30 "$WORK/server.log" >&2; exit 1; }
