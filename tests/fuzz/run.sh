#!/usr/bin/env bash
# A bounded OpenAPI fuzz run: schemathesis (from PyPI, in a venv of its own) generates requests from
# /openapi.json against simgate on a fresh database — SQLite, and Postgres when
# SIMGATE_TEST_DATABASE_URL is set — as an ADMIN and as a customer VIEWER, and fails on any 5xx.
# SIMGATE_FUZZ_EXAMPLES (default 10) cases per operation; SIMGATE_FUZZ_SEED (default 1) fixes them.
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../harness.sh"
venv "$here/.venv" "schemathesis==4.32.5"
examples="${SIMGATE_FUZZ_EXAMPLES:-10}"
seed="${SIMGATE_FUZZ_SEED:-1}"

# call METHOD PATH TOKEN [JSON] -> the response body
call() {
  local auth=()
  [ -n "$3" ] && auth=(-H "authorization: Bearer $3")
  curl -sf -X "$1" "$base$2" "${auth[@]}" -H 'content-type: application/json' ${4:+-d "$4"}
}
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

fuzz() {
  # API tokens, not sessions: a fuzzed password change ends sessions, never API tokens.
  local session admin_token org viewer viewer_token token who failed=0
  session=$(call POST /auth/login "" "{\"username\":\"admin@localhost\",\"password\":\"$admin_password\"}" | field token)
  admin_token=$(call POST /admin/v1/users/1/tokens "$session" '{"label":"fuzz"}' | field token)
  org=$(call POST /admin/v1/organisations "$admin_token" '{"name":"Fuzz Customer","kind":"ENTERPRISE","parent":1}' | field id)
  viewer=$(call POST /admin/v1/users "$admin_token" \
    "{\"org\":$org,\"email\":\"viewer@fuzz.test\",\"name\":\"Viewer\",\"password\":\"fuzz-viewer-pass\",\"access_level\":\"VIEWER\"}" | field id)
  viewer_token=$(call POST "/admin/v1/users/$viewer/tokens" "$admin_token" '{"label":"fuzz"}' | field token)
  call POST /sim "$admin_token" '{"data":"8945000000000000001;12345678;87654321;1234;4321;NANO;TDC\n8945000000000000002;12345678;87654321;1234;4321;eSIM;TELIA;;;true"}' >/dev/null
  call POST /admin/v1/rate-plans "$admin_token" '{"name":"Fuzz plan"}' >/dev/null
  for who in admin viewer; do
    token=$admin_token
    [ "$who" = viewer ] && token=$viewer_token
    echo "== schemathesis on $backend as $who ($examples cases per operation, seed $seed)"
    # schemathesis keeps a cache in the working directory: run it in the scratch folder. One worker:
    # with two threads, hypothesis's lambda descriptions call ast.parse concurrently, which CPython 3.11
    # can fail with "AST constructor recursion depth mismatch" (cpython#106905): a runtime error of the
    # tool, reported as a failed run, never an answer of simgate's.
    (cd "$work" && SCHEMATHESIS_HOOKS="$here/hooks.py" "$here/.venv/bin/st" run "$base/openapi.json" --checks not_a_server_error \
      -H "Authorization: Bearer $token" --max-examples "$examples" --seed "$seed" --workers 1 \
      --generation-database none --request-timeout 30 --suppress-health-check all --no-color) || failed=1
  done
  # (errexit does not reach into a function called as `fn || ...`: count the failures by hand.)
  return "$failed"
}
each_backend fuzz
