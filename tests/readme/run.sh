#!/usr/bin/env bash
# Runs the shell blocks of README.md's "Quick start" and "First API calls" verbatim, in order, in one
# shell, against a fresh server on 127.0.0.1:8080 (the address the README uses), and fails when any
# call does: every curl gets --fail-with-body. `cargo run --release` starts the built binary in a fresh
# directory instead (tests/readme/extract.py). Afterwards the state the walkthrough leaves is checked.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
BIN="$PWD/target/release/simgate"
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  echo "tests/readme: something listens on 127.0.0.1:8080 already; the README's calls need that port" >&2
  exit 1
fi
WORK="$(mktemp -d)"
python3 tests/readme/extract.py README.md >"$WORK/readme.sh"
cat >"$WORK/run.sh" <<HEAD
set -euo pipefail
WORK="$WORK"
BIN="$BIN"
curl() { command curl --fail-with-body --show-error "\$@"; echo; }
start_server() {
  (cd "\$WORK" && exec "\$BIN" >"\$WORK/server.log" 2>&1) &
  echo \$! >"\$WORK/server.pid"
  for _ in \$(seq 1 100); do "\$BIN" healthcheck --addr 127.0.0.1:8080 >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the server did not start" >&2; cat "\$WORK/server.log" >&2; return 1
}
HEAD
cat "$WORK/readme.sh" >>"$WORK/run.sh"
cat >>"$WORK/run.sh" <<'TAIL'
echo '== the state the walkthrough leaves' >&2
accounts=$(command curl -s "$API/mvno" -H "$AUTH" | json '["total"]')
[ "$accounts" = 2 ] || { echo "expected 2 MVNO accounts, found $accounts" >&2; exit 1; }
sims=$(command curl -s "$API/api/v1/sim" -H "authorization: Bearer $JWT" -D - -o /dev/null | tr -d '\r' | sed -n 's/^x-total-count: //Ip')
[ "$sims" = 3 ] || { echo "expected the reseller's 3 SIMs over the emnify API, found '$sims'" >&2; exit 1; }
TAIL
status=0
(cd "$WORK" && bash "$WORK/run.sh") >"$WORK/out.txt" 2>&1 || status=$?
if [ -f "$WORK/server.pid" ]; then kill "$(cat "$WORK/server.pid")" 2>/dev/null || true; fi
if [ "$status" != 0 ]; then
  cat "$WORK/out.txt" >&2
  echo "--- server log" >&2; tail -50 "$WORK/server.log" >&2 || true
  echo "tests/readme: the README's walkthrough failed (exit $status)" >&2
  exit "$status"
fi
grep '^== ' "$WORK/out.txt" >&2 || true
echo "tests/readme: every README shell block ran against a fresh server"
rm -rf "$WORK"
