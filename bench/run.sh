#!/usr/bin/env bash
# simgate benchmark: DESIGN.md §9's targets, each beside its floor measured in the same run.
#   bench/run.sh [--sims N] [--duration SECS] [--smoke] [--citus]
#   (default 1000000 SIMs, 10 s per load; CI: --sims 20000 --duration 3 --smoke)
# --citus: the same measures again on the Citus cluster of ../shared/tools/citus (up.sh must have
# started it; SIMGATE_CITUS_TOOLS names another folder), each row beside single-node Postgres in a
# second table (bench/results/<N>/citus.md), with EXPLAIN evidence of the routing (citus-explain.txt).
# Needs the local Postgres (SIMGATE_TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres),
# psql, pgbench, wrk (installed here when missing). Prints a table; exits 1 when a target is missed.
# Targets that DESIGN.md §9 states for 1M SIMs (the ratio to the naive GROUP BY) are shown but only
# enforced from 1M SIMs on. Results, the latency-against-size chart (SVG) and its points go to
# bench/results/<N>/.
set -euo pipefail
trap 'echo "bench/run.sh: line $LINENO failed: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
SIMS=1000000
DUR=10
SMOKE=0
CITUS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sims) SIMS="$2"; shift 2 ;;
    --duration) DUR="$2"; shift 2 ;;
    # The smoke run checks that every measure runs and enforces the targets that hold at any size;
    # the throughput ratio to pgbench swings by a quarter between identical runs on a shared 2-core
    # machine at a few seconds per load, so there it is shown, not enforced; the bulk time targets
    # are scaled by this machine's database speed against the reference machine's (see "bulk").
    --smoke) SMOKE=1; shift ;;
    --citus) CITUS=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
PG="${SIMGATE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
CONC=8
OUT="bench/results/$SIMS"
mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null && command -v psql >/dev/null || { echo "psql and pgbench are needed" >&2; exit 2; }

cargo build --release --quiet
BIN="$PWD/target/release/simgate"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

db_url() { python3 -c 'import sys, urllib.parse as u; p=u.urlparse(sys.argv[1]); print(p._replace(path="/"+sys.argv[2]).geturl())' "$PG" "$1"; }
fresh_db() { psql "$PG" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null; db_url "$1"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
now_ms() { date +%s%3N; }

start_server() { # url port -> pid in $SERVER (the server's log stays quiet: warnings only)
  SIMGATE_LISTEN="127.0.0.1:$2" SIMGATE_DATABASE_URL="$1" SIMGATE_ADMIN_PASSWORD=bench-admin-pass SIMGATE_LOG_FORMAT=json \
    SIMGATE_LOG__LEVEL=warn "$BIN" >>"$WORK/server.log" 2>&1 &
  SERVER=$!
  PIDS+=("$SERVER")
  for _ in $(seq 1 200); do "$BIN" healthcheck --addr "127.0.0.1:$2" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}

# wrk URL TOKEN [CONNECTIONS] [LUA] -> "p50_ms p99_ms rps". Latency is measured with one connection
# (no queueing on a small machine), throughput with $CONC connections on two threads.
load() {
  local c="${3:-1}" script=()
  [ -n "${4:-}" ] && script=(-s "$4")
  # Two client threads for the throughput loads, as pgbench runs (-j 2); one for latency.
  wrk -t"$(( c > 1 ? 2 : 1 ))" -c"$c" -d"${LOAD_DUR:-$DUR}s" --latency "${script[@]}" -H "Authorization: Bearer $2" "$1" >"$WORK/wrk.txt"
  python3 - "$WORK/wrk.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % label, t, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if non2xx:
    sys.exit("wrk saw %s error responses" % non2xx.group(1))
print(f"{ms('50%'):.3f} {ms('99%'):.3f} {rps:.0f}")
PY
}

# random_reads SQL_FN OUT: a wrk script that GETs random SIMs between the lowest and highest id, skipping
# deleted ones (the API answers them 404; the database reads them all the same). SQL_FN runs one query
# and prints its rows, fields separated by spaces. Sets LO and HI for the database side.
# TABLE and PATH (default sims, /api/v1/sim/) name what is read: endpoints, /api/v1/endpoint/ (deleted
# is status 3 for a SIM, 2 for an endpoint).
random_reads() {
  local table="${3:-sims}" path="${4:-/api/v1/sim/}"
  read -r LO HI <<<"$("$1" "SELECT min(id), max(id) FROM $table")"
  # Deleted SIMs stay (status 3); an endpoint is deleted with status 2, and the ids of creates that
  # were refused are missing (Postgres only: the sequence moved on).
  local gone="SELECT id FROM sims WHERE status = 3"
  [ "$table" = endpoints ] && gone="SELECT g.id FROM generate_series($LO, $HI) AS g(id) LEFT JOIN endpoints e ON e.id = g.id WHERE e.id IS NULL OR e.status = 2"
  {
    echo "local deleted = {"
    "$1" "$gone" | sed 's/.*/[&] = true,/'
    echo "}"
    echo "math.randomseed(42)"
    echo "request = function()"
    echo "  local id"
    echo "  repeat id = math.random($LO, $HI) until not deleted[id]"
    echo "  return wrk.format(\"GET\", \"$path\" .. id)"
    echo "end"
  } >"$2"
}
# admin_jwt BASE: an emnify JWT for the ADMIN user.
# The emnify dialect takes the SHA-1 hex of the password.
admin_jwt() { curl -sf -X POST "$1/api/v1/authenticate" -H 'content-type: application/json' -d "{\"username\":\"admin@localhost\",\"password\":\"$(printf %s bench-admin-pass | sha1sum | cut -c1-40)\"}" | json '["auth_token"]'; }

ROWS=()
FAILED=0
row() { # name figure floor ratio target ok ("-": shown, not a target) [smoke-enforced: yes|no]
  local ok="$6"
  if [ "$ok" = no ] && [ "$SMOKE" = 1 ] && [ "${7:-yes}" = no ]; then ok="no (smoke: shown)"; fi
  ROWS+=("$(printf '| %-64s | %14s | %14s | %9s | %-22s | %-4s |' "$1" "$2" "$3" "$4" "$5" "$ok")")
  case "$ok" in yes|-|"n/a"|"no (smoke: shown)") ;; *) FAILED=1 ;; esac
}
cmp() { python3 -c "import sys; print('yes' if $1 else 'no')"; }

echo "== datasets: 1,000 and $SIMS SIMs (simgate demo)"
SMALL_URL=$(fresh_db simgate_bench_small)
LARGE_URL=$(fresh_db simgate_bench_large)
# The same tenant tree in both (the status has one element per holder); only the SIM count differs.
TREE=$(python3 -c "s=$SIMS; print(min(max(s//20000, 3), 50), min(max(s//200, 10), 5000))")
read -r RESELLERS CUSTOMERS <<<"$TREE"
# datasets SMALL_URL LARGE_URL LABEL: the demo data at 1,000 and $SIMS SIMs; sets DEMO_S (seconds for
# the large one) and APP_TOKEN (its application token).
datasets() {
  local t0
  SIMGATE_DATABASE_URL="$1" SIMGATE_ADMIN_PASSWORD=bench-admin-pass "$BIN" demo --sims 1000 --resellers "$RESELLERS" --customers "$CUSTOMERS" >"$WORK/demo-small-$3.txt" 2>&1
  t0=$(now_ms)
  SIMGATE_DATABASE_URL="$2" SIMGATE_ADMIN_PASSWORD=bench-admin-pass "$BIN" demo --sims "$SIMS" --resellers "$RESELLERS" --customers "$CUSTOMERS" >"$WORK/demo-$3.txt" 2>&1
  DEMO_S=$(python3 -c "print(round(($(now_ms) - $t0) / 1000, 1))")
  APP_TOKEN=$(grep -o 'sg_[0-9a-f]*' "$WORK/demo-$3.txt" | tail -1)
  psql "$2" -qc "VACUUM ANALYZE" >/dev/null
}
datasets "$SMALL_URL" "$LARGE_URL" pg
PG_DEMO_S=$DEMO_S

P_LARGE=$(port); start_server "$LARGE_URL" "$P_LARGE"; LARGE_PID=$SERVER
P_SMALL=$(port); start_server "$SMALL_URL" "$P_SMALL"
L="http://127.0.0.1:$P_LARGE"; S="http://127.0.0.1:$P_SMALL"
# List pages measured. Besides the defaults: few matches (1% of the SIMs are activated, all in one
# batch) in an order that puts them at the end of the ICC index; for a reseller also a sort by date.
# Devices (emnify endpoints, ~60% of the SIMs): the default page, and a filter with a sort.
ENDPOINT_LISTS=("/api/v1/endpoint?per_page=100" "/api/v1/endpoint?per_page=100&q=status:0,tags:fleet&sort=-last_updated")
ADMIN_LISTS=("/sim?limit=100" "/api/v1/sim?per_page=100" "/api/v1/sim?per_page=100&q=status:1&sort=iccid" "/mvno?limit=100" "${ENDPOINT_LISTS[@]}")
RESELLER_LISTS=("${ADMIN_LISTS[@]:0:3}" "/api/v1/sim?per_page=100&sort=-production_date" "/mvno?limit=100" "${ENDPOINT_LISTS[@]}")
# A reseller sees its own subtree: the lists filter by scope (the demo's first reseller admin).
reseller_login() { curl -sf -X POST "$1/auth/login" -H 'content-type: application/json' -d '{"username":"ra00@reseller.demo","password":"demo-password","persist":true}' | json '["token"]'; }
login() { curl -sf -X POST "$1/auth/login" -H 'content-type: application/json' -d '{"username":"admin@localhost","password":"bench-admin-pass","persist":true}' | json '["token"]'; }
ADMIN_L=$(login "$L"); ADMIN_S=$(login "$S")
JWT=$(curl -sf -X POST "$L/api/v1/authenticate" -H 'content-type: application/json' -d "{\"application_token\":\"$APP_TOKEN\"}" | json '["auth_token"]')

# status PREFIX BASE ADMIN SMALL_BASE SMALL_ADMIN DB_URL: /sim/status on N and on 1,000 SIMs, and
# against the naive GROUP BY.
status() {
  local l50 s50 naive naive_ok
  read -r l50 _ _ <<<"$(load "$2/sim/status" "$3")"
  read -r s50 _ _ <<<"$(load "$4/sim/status" "$5")"
  naive=$(psql "$6" -Atc "EXPLAIN (ANALYZE) SELECT COALESCE(in_storage_at, 0), network, form_factor, auto_assign, COUNT(*) FROM sims WHERE status <> 3 AND mvno_account_id IS NULL AND endpoint_id IS NULL GROUP BY 1, 2, 3, 4" | sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p' | tail -1)
  row "${1}/sim/status p50, $SIMS vs 1,000 SIMs, same tenants (ms)" "$l50" "$s50" "$(python3 -c "print(round($l50/$s50, 2))")" "<= 2x" "$(cmp "$l50 <= 2 * $s50")"
  if [ "$SIMS" -ge 1000000 ]; then naive_ok=$(cmp "$naive >= 50 * $l50"); else naive_ok="n/a"; fi
  row "${1}/sim/status p50 vs naive GROUP BY (ms)" "$l50" "$naive" "$(python3 -c "print(round($naive/$l50, 1))")x" ">= 50x faster at 1M" "$naive_ok"
}
# lists PREFIX BASE ADMIN RESELLER TARGET(yes|-): list page 1 (limit 100, with total) as the ADMIN and
# as a reseller.
lists() {
  local path p99
  for path in "${ADMIN_LISTS[@]}"; do
    read -r _ p99 _ <<<"$(load "$2$path" "$3")"
    row "${1}GET $path p99 (ms)" "$p99" "-" "-" "$([ "$5" = yes ] && scaled "< 50 ms" || echo -)" "$([ "$5" = yes ] && cmp "$p99 < 50 * $SLOW" || echo -)"
  done
  for path in "${RESELLER_LISTS[@]}"; do
    read -r _ p99 _ <<<"$(load "$2$path" "$4")"
    row "${1}reseller: GET $path p99 (ms)" "$p99" "-" "-" "$([ "$5" = yes ] && scaled "< 50 ms" || echo -)" "$([ "$5" = yes ] && cmp "$p99 < 50 * $SLOW" || echo -)"
  done
}
echo "== /sim/status"
status "" "$L" "$ADMIN_L" "$S" "$ADMIN_S" "$LARGE_URL"

echo "== GET /api/v1/sim/{id} with a JWT vs pgbench, random SIMs on both sides"
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
# single_reads PREFIX BASE DB_URL PGBENCH_SCRIPT: random SIMs by id through the API (ADMIN JWT) and
# through pgbench running PGBENCH_SCRIPT (the same read as SQL), three interleaved rounds, medians.
single_reads() { # ... [TABLE PATH]: endpoints by id instead of SIMs
  local jwt rps_runs=() tps_runs=() what="${6:-/api/v1/sim/}"
  READS_DB="$3"
  pg_sql() { psql "$READS_DB" -Atc "$1" | tr '|' ' '; }
  random_reads pg_sql "$WORK/random.lua" "${5:-sims}" "$what"
  jwt=$(admin_jwt "$2")
  sed -e "s/LO/$LO/" -e "s/HI/$HI/" "$4" >"$WORK/one.sql"
  for _ in 1 2 3; do
    read -r _ _ r <<<"$(load "$2/" "$jwt" "$CONC" "$WORK/random.lua")"; rps_runs+=("$r")
    tps_runs+=("$(pgbench -n -c "$CONC" -j 2 -T "$DUR" -f "$WORK/one.sql" "$3" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)")
  done
  RPS=$(median "${rps_runs[@]}"); TPS=$(median "${tps_runs[@]}")
  echo "req/s ${rps_runs[*]}; pgbench tps ${tps_runs[*]}"
  row "${1}GET ${what}{id} (req/s) vs pgbench (tps), medians of 3" "$RPS" "$TPS" "$(python3 -c "print(round($RPS/$TPS, 2))")" ">= 0.6" "$(cmp "$RPS >= 0.6 * $TPS")" no
}
# Both sides read random SIMs from the same id range (the load generator skips deleted ones, which
# the API answers 404; the database reads them all the same).
printf '\\set id random(LO, HI)\nSELECT * FROM sims WHERE id = :id;\n' >"$WORK/one-pg.sql"
printf '\\set id random(LO, HI)\nSELECT * FROM endpoints WHERE id = :id;\n' >"$WORK/one-endpoint.sql"
single_reads "" "$L" "$LARGE_URL" "$WORK/one-endpoint.sql" endpoints /api/v1/endpoint/
single_reads "" "$L" "$LARGE_URL" "$WORK/one-pg.sql"
PG_LO=$LO; PG_HI=$HI

# The bulk targets are absolute times, set for the machine of BENCHMARKS.md, whose database ran the
# single-SIM select at about 28,000 tps through pgbench. The smoke run runs on whatever machine CI has:
# there they are scaled by how much slower this machine's own database floor (the pgbench figure just
# measured) is than that one's (never tightened); the full run enforces them as they are.
REF_TPS=28000
SLOW=1
if [ "$SMOKE" = 1 ]; then SLOW=$(python3 -c "print(round(max(1.0, $REF_TPS / $TPS), 2))"); fi
scaled() { if [ "$SLOW" = 1 ]; then echo "$1"; else echo "$1 (x$SLOW)"; fi; }
# The list latency targets likewise: a p99 over a few seconds on a database five times slower than the
# reference is not the figure the target was set for (the full run enforces < 50 ms as it is).
echo "== list page 1 (limit 100, with total), as the ADMIN and as a reseller (targets x$SLOW)"
RESELLER_L=$(reseller_login "$L")
lists "" "$L" "$ADMIN_L" "$RESELLER_L" yes

echo "== bulk (time targets x$SLOW on this machine)"
python3 -c "
import json
lines = '\n'.join(f'8999{i:015d};12345678;87654321;1234;4321;NANO;TDC' for i in range(10000))
json.dump({'data': lines}, open('$WORK/import.json', 'w'))
json.dump({'bic': 'BENCH-10K', 'issuer_org': 1, 'sims': [{'iccid': f'8998{i:015d}'} for i in range(10000)]}, open('$WORK/batch.json', 'w'))
with open('$WORK/sims.txt', 'w') as f:
    for i in range($SIMS):
        f.write(f'8997{i:015d};12345678;87654321;1234;4321;NANO;TELIA\n')
"
# bulk BASE ADMIN_TOKEN RESELLER_JWT LABEL TARGETED(yes|-): POST /sim and a batch registration of 10,000.
bulk() {
  local T
  T=$(curl -s -o "$WORK/out.json" -w '%{time_total}' -X POST "$1/sim" -H "Authorization: Bearer $2" -H 'content-type: application/json' --data-binary "@$WORK/import.json")
  [ "$(json '["imported"]' <"$WORK/out.json")" = "10000" ] || { cat "$WORK/out.json"; exit 1; }
  row "${4}POST /sim, 10,000 lines (s)" "$T" "-" "-" "$(scaled "< 1 s")" "$([ "$5" = yes ] && cmp "$T < 1 * $SLOW" || echo -)"
  curl -sf -o /dev/null -X POST "$1/admin/v1/sim-batches" -H "Authorization: Bearer $2" -H 'content-type: application/json' --data-binary "@$WORK/batch.json"
  T=$(curl -s -o "$WORK/out.json" -w '%{time_total}' -X PATCH "$1/api/v1/sim_batch/bic/BENCH-10K" -H "Authorization: Bearer $3" -H 'content-type: application/json' -d '{"id":1}')
  [ "$(python3 -c "import json; print(len(json.load(open('$WORK/out.json'))['sim']))")" = "10000" ] || { head -c 300 "$WORK/out.json"; exit 1; }
  row "${4}register a batch of 10,000 SIMs (s)" "$T" "-" "-" "$(scaled "< 1 s")" "$([ "$5" = yes ] && cmp "$T < 1 * $SLOW" || echo -)"
}
# import_sims URL LABEL TARGETED: the CLI import of $SIMS lines into an empty database. The schema is
# made first and not timed: its 0.2 s is a one-off, and at the smoke run's 20,000 lines it alone was
# 10 s "per 1M" of the extrapolated figure.
import_sims() {
  local t0 IMP IMP_1M
  SIMGATE_DATABASE_URL="$1" "$BIN" migrate >/dev/null 2>&1
  t0=$(now_ms)
  SIMGATE_DATABASE_URL="$1" SIMGATE_ADMIN_PASSWORD=bench-admin-pass "$BIN" admin import-sims "$WORK/sims.txt" >/dev/null 2>&1
  IMP=$(python3 -c "print(round(($(now_ms) - $t0) / 1000, 1))")
  IMP_1M=$(python3 -c "print(round($IMP * 1000000 / $SIMS, 1))")
  row "${2}admin import-sims, $SIMS lines (s; per 1M)" "$IMP" "-" "$IMP_1M/1M" "$(scaled "< 60 s per 1M")" "$([ "$3" = yes ] && cmp "$IMP_1M < 60 * $SLOW" || echo -)"
}
bulk "$L" "$ADMIN_L" "$JWT" "" yes
# usage_ingest BASE ADMIN_TOKEN DB_URL LABEL TARGETED: 100,000 usage records (10 each on up to 10,000
# SIMs in devices whose data quota is enforced), in four NDJSON requests of 25,000 (a body stays under
# http.body_limit_bytes); the figure is the four requests' time together.
usage_ingest() {
  local T=0 t
  psql "$3" -qc "UPDATE service_profiles SET apply_data_quota = TRUE WHERE id = 1" \
    -c "INSERT INTO endpoint_quotas (tenant_org_id, endpoint_id, kind, status, volume, last_volume_added, expiry_date, auto_refill, threshold_percentage, threshold_reported, action, peak_throughput, assigned_at) SELECT e.tenant_org_id, e.id, 1, 1, 1000000, 1000000, now() + interval '30 days', 0, 50, FALSE, 1, NULL, now() - interval '1 day' FROM endpoints e WHERE e.status <> 2 ON CONFLICT DO NOTHING" >/dev/null
  psql "$3" -Atc "SELECT s.id FROM sims s JOIN endpoints e ON e.id = s.endpoint_id AND e.tenant_org_id = s.tenant_org_id ORDER BY s.id LIMIT 10000" >"$WORK/usage-sims.txt"
  python3 - "$WORK/usage-sims.txt" "$WORK/usage" <<'PY'
import datetime, json, sys
ids = [int(l) for l in open(sys.argv[1]) if l.strip()]
at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
recs = [{"sim_id": ids[i % len(ids)], "timestamp": (at - datetime.timedelta(minutes=1 + i // len(ids))).isoformat(),
         "traffic_type": "data", "volume_tx": 0.5, "volume_rx": 1.5} for i in range(100000)]
for part in range(4):
    with open(f"{sys.argv[2]}-{part}.ndjson", "w") as f:
        f.write("\n".join(json.dumps(r) for r in recs[part * 25000:(part + 1) * 25000]))
PY
  for part in 0 1 2 3; do
    t=$(curl -s -o "$WORK/out.json" -w '%{time_total}' -X POST "$1/admin/v1/usage" -H "Authorization: Bearer $2" -H 'content-type: application/x-ndjson' --data-binary "@$WORK/usage-$part.ndjson")
    [ "$(json '["accepted"]' <"$WORK/out.json")" = "25000" ] || { head -c 300 "$WORK/out.json"; exit 1; }
    T=$(python3 -c "print(round($T + $t, 3))")
  done
  row "${4}usage ingest, 100,000 records with quota checks (s)" "$T" "-" "-" "$(scaled "< 2 s")" "$([ "$5" = yes ] && cmp "$T < 2 * $SLOW" || echo -)"
}
import_sims "$(fresh_db simgate_bench_import)" "" yes
# After the import: its fresh database is not measured while Postgres digests 100,000 usage rows.
usage_ingest "$L" "$ADMIN_L" "$LARGE_URL" "" yes

# mixed BASE ADMIN_TOKEN LABEL: 64 clients writing at once (bench/mixed-writes.lua: imports, assigns,
# MVNO creates, updates and deletes, SIM PATCHes) for $DUR s (MIX_DUR=30 for the issue's 30 s drill). The figure is the throughput; refusals
# (4xx: a SIM an account already took) are shown; 5xx answers and socket errors must be zero.
mixed() {
  local orgs plan out
  orgs=$(curl -sf "$1/admin/v1/organisations?limit=500" -H "Authorization: Bearer $2" | python3 -c "import json,sys; print(*[o['oid'] for o in json.load(sys.stdin)['items'] if o['kind'] == 'ENTERPRISE'][:2])")
  plan=$(curl -sf -X POST "$1/admin/v1/rate-plans" -H "Authorization: Bearer $2" -H 'content-type: application/json' -d '{"name":"Mixed load"}' | json '["oid"]')
  read -r C1 C2 <<<"$orgs"
  out=$(MIX_CUSTOMER="$C1" MIX_OTHER="$C2" MIX_PLAN="$plan" MIX_LO="$LO" MIX_HI="$HI" \
    wrk -t2 -c64 -d"${MIX_DUR:-$DUR}s" --timeout 10s -s bench/mixed-writes.lua -H "Authorization: Bearer $2" "$1" | tee "$WORK/mixed.txt" | grep '^MIX ')
  grep '^statuses' "$WORK/mixed.txt" || true
  read -r _ OK REFUSED FAILED_5XX SOCKET RPS <<<"$out"
  echo "mixed writes: $OK 2xx, $REFUSED 4xx, $FAILED_5XX 5xx, $SOCKET socket errors, $RPS req/s"
  row "${3}mixed writes, 64 clients (req/s; 2xx/4xx/5xx+socket)" "$RPS" "-" "$OK/$REFUSED/$((FAILED_5XX + SOCKET))" "0 5xx, 0 socket errors" "$(cmp "$FAILED_5XX + $SOCKET == 0")"
}
echo "== mixed concurrent writes"
mixed "$L" "$ADMIN_L" ""

echo "== latency against dataset size (chart)"
# The same tenant tree at every size; each point with one connection. Sizes between 1k and N are
# generated here (the 1k and N servers are the ones above).
CHART_DUR=$(( DUR < 5 ? DUR : 5 ))
echo "sims,series,ms" >"$OUT/latency-vs-size.csv"
point() { # BASE ADMIN_TOKEN SIMS
  local p50 p99
  read -r p50 _ _ <<<"$(LOAD_DUR=$CHART_DUR load "$1/sim/status" "$2")"
  echo "$3,GET /sim/status p50,$p50" >>"$OUT/latency-vs-size.csv"
  for path in "/sim?limit=100" "/api/v1/sim?per_page=100" "/mvno?limit=100"; do
    read -r _ p99 _ <<<"$(LOAD_DUR=$CHART_DUR load "$1$path" "$2")"
    echo "$3,GET ${path%%\?*} page 1 p99,$p99" >>"$OUT/latency-vs-size.csv"
  done
}
point "$S" "$ADMIN_S" 1000
for size in 10000 100000; do
  [ "$size" -lt "$SIMS" ] || continue
  MID_URL=$(fresh_db simgate_bench_mid)
  SIMGATE_DATABASE_URL="$MID_URL" SIMGATE_ADMIN_PASSWORD=bench-admin-pass "$BIN" demo --sims "$size" --resellers "$RESELLERS" --customers "$CUSTOMERS" >/dev/null 2>&1
  psql "$MID_URL" -qc "VACUUM ANALYZE" >/dev/null
  P_MID=$(port); start_server "$MID_URL" "$P_MID"; MID_PID=$SERVER
  point "http://127.0.0.1:$P_MID" "$(login "http://127.0.0.1:$P_MID")" "$size"
  kill "$MID_PID"; wait "$MID_PID" 2>/dev/null || true
  psql "$PG" -qc "DROP DATABASE IF EXISTS simgate_bench_mid WITH (FORCE)" >/dev/null
done
point "$L" "$ADMIN_L" "$SIMS"
python3 bench/chart.py "$OUT/latency-vs-size.csv" "$OUT/latency-vs-size.svg"

echo "== process"
RSS_MB=$(python3 -c "print(round($(ps -o rss= -p "$LARGE_PID") / 1024, 1))")
row "server RSS after the load (MB)" "$RSS_MB" "-" "-" "< 150 MB" "$(cmp "$RSS_MB < 150")"
kill "$LARGE_PID"; wait "$LARGE_PID" 2>/dev/null || true
P_COLD=$(port)
t0=$(now_ms); start_server "$LARGE_URL" "$P_COLD"; COLD=$(python3 -c "print(round(($(now_ms) - $t0) / 1000, 3))")
row "cold start, migrations applied (s)" "$COLD" "-" "-" "< 1 s" "$(cmp "$COLD < 1")"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
for db in simgate_bench_small simgate_bench_large simgate_bench_import; do psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; done

if [ "$CITUS" = 1 ]; then
  echo "== Citus: the same measures on the cluster (coordinator and two workers on this machine)"
  NEWDB="${SIMGATE_CITUS_TOOLS:-../shared/tools/citus}/newdb.sh"
  citus_db() { bash "$NEWDB" --drop "$1" && bash "$NEWDB" "$1"; }
  C_URL=$(citus_db simgate_bench_citus); C_SMALL_URL=$(citus_db simgate_bench_citus_small)
  datasets "$C_SMALL_URL" "$C_URL" citus
  C_DEMO_S=$DEMO_S; C_APP=$APP_TOKEN
  P_C=$(port); start_server "$C_URL" "$P_C"; C_PID=$SERVER
  P_CS=$(port); start_server "$C_SMALL_URL" "$P_CS"; CS_PID=$SERVER
  C="http://127.0.0.1:$P_C"; CS="http://127.0.0.1:$P_CS"
  ADMIN_C=$(login "$C")
  status "Citus: " "$C" "$ADMIN_C" "$CS" "$(login "$CS")" "$C_URL"
  RESELLER_C=$(reseller_login "$C")
  lists "Citus: " "$C" "$ADMIN_C" "$RESELLER_C" -
  # The floor is the read simgate makes on Citus: the SIM's key from sim_keys, then the SIM on its shard.
  printf '%s\n' '\set id random(LO, HI)' 'SELECT COALESCE(MAX(tenant_org_id), 0) AS t FROM sim_keys WHERE id = :id \gset' \
    'SELECT * FROM sims WHERE tenant_org_id = :t AND id = :id;' >"$WORK/one-citus.sql"
  single_reads "Citus: " "$C" "$C_URL" "$WORK/one-citus.sql"
  C_JWT=$(curl -sf -X POST "$C/api/v1/authenticate" -H 'content-type: application/json' -d "{\"application_token\":\"$C_APP\"}" | json '["auth_token"]')
  bulk "$C" "$ADMIN_C" "$C_JWT" "Citus: " -
  import_sims "$(citus_db simgate_bench_citus_import)" "Citus: " -
  mixed "$C" "$ADMIN_C" "Citus: "
  # Routing evidence: EXPLAIN on the coordinator of the statements simgate runs for a reseller's list
  # page, for a single SIM by id (its key, then the SIM), and an ADMIN list across tenants.
  TENANT=$(psql "$C_URL" -Atc "SELECT tenant_org_id FROM organisations o JOIN users u ON u.org_id = o.id WHERE u.email = 'ra00@reseller.demo'")
  ONE=$(psql "$C_URL" -Atc "SELECT id FROM sims WHERE tenant_org_id = $TENANT LIMIT 1")
  {
    echo "-- reseller (tenant $TENANT) list page 1, walked in id order within its tenant"
    psql "$C_URL" -Atc "EXPLAIN (ANALYZE, COSTS OFF) SELECT s.* FROM sims s WHERE s.status <> 3 AND s.tenant_org_id = $TENANT ORDER BY s.tenant_org_id, s.id LIMIT 100"
    echo "-- single SIM $ONE: its key, then the SIM"
    psql "$C_URL" -Atc "EXPLAIN (ANALYZE, COSTS OFF) SELECT id, tenant_org_id FROM sim_keys WHERE id IN ($ONE)"
    psql "$C_URL" -Atc "EXPLAIN (ANALYZE, COSTS OFF) SELECT s.* FROM sims s WHERE s.tenant_org_id IN ($TENANT) AND s.id IN ($ONE)"
    echo "-- ADMIN list page 1 across tenants"
    psql "$C_URL" -Atc "EXPLAIN (ANALYZE, COSTS OFF) SELECT s.* FROM sims s WHERE s.status <> 3 ORDER BY s.id LIMIT 100"
  } >"$OUT/citus-explain.txt"
  grep -E "^--|Task Count|Execution Time" "$OUT/citus-explain.txt" || true
  kill "$C_PID" "$CS_PID"; wait "$C_PID" "$CS_PID" 2>/dev/null || true
  for db in simgate_bench_citus simgate_bench_citus_small simgate_bench_citus_import; do bash "$NEWDB" --drop "$db"; done
fi

echo "== SQLite, the same measures on the embedded database (figures only: the targets are Postgres's)"
SQ_DB="$WORK/sqlite-large.db"
t0=$(now_ms)
SIMGATE_DATABASE_URL="sqlite://$SQ_DB" SIMGATE_ADMIN_PASSWORD=bench-admin-pass "$BIN" demo --sims "$SIMS" --resellers "$RESELLERS" --customers "$CUSTOMERS" >"$WORK/demo-sqlite.txt" 2>&1
SQ_DEMO_S=$(python3 -c "print(round(($(now_ms) - $t0) / 1000, 1))")
SQ_APP=$(grep -o 'sg_[0-9a-f]*' "$WORK/demo-sqlite.txt" | tail -1)
P_SQ=$(port); start_server "sqlite://$SQ_DB" "$P_SQ"; SQ_PID=$SERVER
Q="http://127.0.0.1:$P_SQ"; ADMIN_Q=$(login "$Q")
read -r Q50 _ _ <<<"$(load "$Q/sim/status" "$ADMIN_Q")"
row "SQLite: /sim/status p50 (ms)" "$Q50" "-" "-" "-" "-"
lists "SQLite: " "$Q" "$ADMIN_Q" "$(reseller_login "$Q")" -
sqlite_sql() { python3 -c "import sqlite3, sys; [print(*r) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]" "$SQ_DB" "$1"; }
random_reads sqlite_sql "$WORK/random-sqlite.lua"
Q_JWT=$(admin_jwt "$Q")
read -r _ _ Q_RPS <<<"$(load "$Q/" "$Q_JWT" "$CONC" "$WORK/random-sqlite.lua")"
row "SQLite: GET /api/v1/sim/{id} with a JWT (req/s)" "$Q_RPS" "-" "-" "-" "-"
Q_RJWT=$(curl -sf -X POST "$Q/api/v1/authenticate" -H 'content-type: application/json' -d "{\"application_token\":\"$SQ_APP\"}" | json '["auth_token"]')
bulk "$Q" "$ADMIN_Q" "$Q_RJWT" "SQLite: " -
read -r LO HI <<<"$(sqlite_sql "SELECT min(id), max(id) FROM sims")"
mixed "$Q" "$ADMIN_Q" "SQLite: "
import_sims "sqlite://$WORK/sqlite-import.db" "SQLite: " -
Q_RSS=$(python3 -c "print(round($(ps -o rss= -p "$SQ_PID") / 1024, 1))")
row "SQLite: server RSS after the load (MB)" "$Q_RSS" "-" "-" "-" "-"

echo
{
  echo "simgate benchmark: $SIMS SIMs (demo data in ${PG_DEMO_S}s on Postgres, ${SQ_DEMO_S}s on SQLite), $(nproc) cores; latency with 1 connection, throughput with $CONC; ${DUR}s per load"
  printf '| %-64s | %14s | %14s | %9s | %-22s | %-4s |\n' "measure" "figure" "floor" "ratio" "target" "met"
  printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------------------------------------" "----------------" "----------------" "-----------" "------------------------" "------"
  printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/table.md"
if [ "$CITUS" = 1 ]; then
  # Each Postgres row beside its Citus row.
  printf '%s\n' "${ROWS[@]}" | python3 -c '
import sys
rows = {}
for line in sys.stdin:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 4:
        rows[cells[0]] = cells
print("| measure | Postgres | Citus (2 workers) | Citus / Postgres |")
print("| --- | --- | --- | --- |")
for name, cells in rows.items():
    c = rows.get("Citus: " + name)
    if c is None:
        continue
    try:
        ratio = "%.2f" % (float(c[1]) / float(cells[1]))
    except ValueError:
        ratio = "-"
    pg, ci = cells[1], c[1]
    if cells[3] not in ("-", ""):
        pg, ci = pg + " (" + cells[3] + ")", ci + " (" + c[3] + ")"
    print("| %s | %s | %s | %s |" % (name, pg, ci, ratio))
' | tee "$OUT/citus.md"
  echo "Citus demo data in ${C_DEMO_S}s; routing: $OUT/citus-explain.txt"
fi
echo "chart: $OUT/latency-vs-size.svg"
exit "$FAILED"
