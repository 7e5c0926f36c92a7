#!/usr/bin/env bash
# Case handling under load (issue 4 item 11), on SQLite, loopback only, bounded in time:
#   1. submissions/s: the one-request POST /api/v1/cases with three materials of
#      BENCH_FILE_BYTES (100 KiB: a PDF, a PNG, a PDF, new bytes every time) from
#      BENCH_SUBMIT_PROCS node processes of BENCH_SUBMIT_CONNS connections each
#      (bench/cases-load.mjs), against bare SQLite writing the same rows in one process
#      (bench/case_write_bench.c), alternating in rounds; also the CPU time each spends
#      per submission (the server's from /proc), which the machine's other load moves less;
#   2. workflow transitions/s: request_correction (a clerk) and respond (the applicant)
#      round and round on BENCH_ACT_CASES submitted cases over HTTP (target 2,000/s),
#      against bare SQLite making the same moves (case_write_bench ... transitions);
#   3. the workbench queues at BENCH_CASES cases (1,000,000) generated into the database
#      (bench/case_gen.sql): latency p50/p99 of GET /api/v1/workbench/cases?queue=... and
#      of the summary for a clerk of the busy department (wrk --latency; target p99 20 ms).
# Prints markdown table rows on stdout (progress on stderr). BENCH_CASES_PARTS picks
# some of "submit act queue".
# Usage: bench/cases.sh BUILD_DIR WORK_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
build=${1:-build} work=${2:-/tmp/tongban-bench} dur=${3:-10}
bytes=${BENCH_FILE_BYTES:-102400}
procs=${BENCH_SUBMIT_PROCS:-2} conns=${BENCH_SUBMIT_CONNS:-4}
rounds=${BENCH_ROUNDS:-3}
ncases=${BENCH_CASES:-1000000}
mkdir -p "$work"
export TONGBAN_KEY_FILE=$work/bench.key
[ -f "$TONGBAN_KEY_FILE" ] || { openssl rand -hex 32 >"$TONGBAN_KEY_FILE"; chmod 600 "$TONGBAN_KEY_FILE"; }
export TONGBAN_ID_REGISTRY=data/demo/id-registry.json
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; true' EXIT
log() { echo "$*" >&2; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
calc() { awk "BEGIN{print $*}"; }

# a database with the demo catalogue and people and the platform administrator
base="$work/cases-base.db"
rm -f "$base"*
"$build/tongban" import catalog var/demo-catalog.json --db "sqlite:$base" >/dev/null
"$build/tongban" import people data/demo/people.json --db "sqlite:$base" >/dev/null
bootstrap_admin "$build/tongban" "sqlite:$base" >/dev/null
sqlite_fresh() { rm -f "$work/$1"*; cp "$base" "$work/$1"; }
zhang_login() {
  TONGBAN_URL=$SERVER_URL node -e 'import("./tests/cases/lib.mjs").then(async (m) => console.log(await m.login(m.ZHANG)))'
}

want() { [[ " ${BENCH_CASES_PARTS:-submit act queue} " == *" $1 "* ]]; }

# ---- 1. submissions ----
if want submit; then
log "== submissions: POST /api/v1/cases, 3 x $bytes bytes, $procs x $conns connections vs bare SQLite"
sqlite_fresh submit.db
start_server "$build/tongban" "sqlite:$work/submit.db" "$work/submit-server.log" --threads $((procs * conns))
zhang=$(zhang_login)
TONGBAN_URL=$SERVER_URL node bench/cases-load.mjs submit "$zhang" 2 "$conns" "$procs" "$bytes" >/dev/null # warm up
tb_sum=0 ref_sum=0 tb_cpu=0 ref_cpu=0
for r in $(seq 1 "$rounds"); do
  c0=$(cpu_ticks "$SERVER_PID")
  out=$(TONGBAN_URL=$SERVER_URL node bench/cases-load.mjs submit "$zhang" "$dur" "$conns" "$procs" "$bytes")
  c1=$(cpu_ticks "$SERVER_PID")
  grep -q ', 0 errors$' <<<"$out" || { log "submissions failed: $out"; exit 1; }
  n=$(sed -n 's/^submit: \([0-9]*\) cases.*/\1/p' <<<"$out")
  tb=$(calc "$n / $dur")
  tbc=$(calc "($c1 - $c0) * 1000 / $hz / $n")
  rm -f "$work/raw.db"*
  ref_out=$( { /usr/bin/time -f 'cpu %U %S' "$build/case_write_bench" "$work/raw.db" "$dur" "$bytes"; } 2>&1)
  ref=$(sed -n 's/.*(\([0-9]*\) submissions\/s).*/\1/p' <<<"$ref_out")
  refn=$(sed -n 's/^case_write_bench: \([0-9]*\) submissions.*/\1/p' <<<"$ref_out")
  refc=$(awk -v n="$refn" '/^cpu/ {print ($2 + $3) * 1000 / n}' <<<"$ref_out")
  log "round $r: tongban $tb/s (${tbc} ms CPU each), bare SQLite $ref/s (${refc} ms CPU each)"
  tb_sum=$(calc "$tb_sum + $tb"); ref_sum=$(calc "$ref_sum + $ref")
  tb_cpu=$(calc "$tb_cpu + $tbc"); ref_cpu=$(calc "$ref_cpu + $refc")
done
stop_server || true
SERVER_PID=""
rm -f "$work/raw.db"* "$work/submit.db"*
tb=$(calc "$tb_sum / $rounds") ref=$(calc "$ref_sum / $rounds")
tbc=$(calc "$tb_cpu / $rounds") refc=$(calc "$ref_cpu / $rounds")
printf '| submissions (3 x %s KiB, %s connections), cases/s | %.0f | bare SQLite, same rows %.0f/s | %.2fx |\n' \
  "$((bytes / 1024))" "$((procs * conns))" "$tb" "$ref" "$(calc "$tb / $ref")"
printf '| CPU per submission, ms (less is better) | %.2f | bare SQLite %.2f | %.2fx |\n' "$tbc" "$refc" "$(calc "$refc / $tbc")"
fi

# ---- 2. transitions ----
if want act; then
act_cases=${BENCH_ACT_CASES:-400} act_conns=${BENCH_ACT_CONNS:-8}
log "== workflow transitions: request_correction / respond on $act_cases cases, $act_conns connections"
sqlite_fresh act.db
start_server "$build/tongban" "sqlite:$work/act.db" "$work/act-server.log" --threads "$act_conns"
admin_login "$SERVER_URL" >/dev/null
read -r clerk _ < <(TONGBAN_URL=$SERVER_URL node bench/cases-load.mjs clerk)
zhang=$(zhang_login)
# the pool: small files, as many cases as asked (a few seconds of submissions)
: >"$work/act-cases.txt"
while [ "$(wc -l <"$work/act-cases.txt")" -lt "$act_cases" ]; do
  TONGBAN_URL=$SERVER_URL node bench/cases-load.mjs submit "$zhang" 2 4 2 2048 "$work/act-more.txt" >/dev/null
  cat "$work/act-more.txt" >>"$work/act-cases.txt"
done
sed -i '/^$/d' "$work/act-cases.txt"
TONGBAN_URL=$SERVER_URL node bench/cases-load.mjs act "$clerk" "$zhang" "$work/act-cases.txt" 2 "$act_conns" 2 >/dev/null # warm up
tb_sum=0 ref_sum=0 tb_cpu=0
for r in $(seq 1 "$rounds"); do
  c0=$(cpu_ticks "$SERVER_PID")
  out=$(TONGBAN_URL=$SERVER_URL node bench/cases-load.mjs act "$clerk" "$zhang" "$work/act-cases.txt" "$dur" "$act_conns" 2)
  c1=$(cpu_ticks "$SERVER_PID")
  grep -q ', 0 errors$' <<<"$out" || { log "transitions failed: $out"; exit 1; }
  n=$(sed -n 's/^act: \([0-9]*\) transitions.*/\1/p' <<<"$out")
  tb=$(calc "$n / $dur") tbc=$(calc "($c1 - $c0) * 1000 / $hz / $n")
  rm -f "$work/raw.db"*
  ref=$("$build/case_write_bench" "$work/raw.db" "$dur" 2048 transitions | sed -n 's/.*(\([0-9]*\) transitions\/s).*/\1/p')
  log "round $r: tongban $tb/s (${tbc} ms CPU each), bare SQLite $ref/s"
  tb_sum=$(calc "$tb_sum + $tb"); ref_sum=$(calc "$ref_sum + $ref"); tb_cpu=$(calc "$tb_cpu + $tbc")
done
stop_server || true
SERVER_PID=""
rm -f "$work/act.db"* "$work/raw.db"*
tb=$(calc "$tb_sum / $rounds") ref=$(calc "$ref_sum / $rounds")
printf '| workflow transitions (%s connections; target 2000/s), transitions/s | %.0f | bare SQLite, same rows %.0f/s | %.2fx |\n' \
  "$act_conns" "$tb" "$ref" "$(calc "$tb / $ref")"
printf '| CPU per transition, ms | %.2f | | |\n' "$(calc "$tb_cpu / $rounds")"
fi

# ---- 3. queues at BENCH_CASES cases ----
if want queue; then
log "== workbench queues at $ncases cases"
sqlite_fresh queue.db
start_server "$build/tongban" "sqlite:$work/queue.db" "$work/queue-server.log"
admin_login "$SERVER_URL" >/dev/null
read -r clerk clerk_id < <(TONGBAN_URL=$SERVER_URL node bench/cases-load.mjs clerk)
echo "$clerk" >"$work/queue-clerk.token" # for a look afterwards (BENCH_KEEP)
zhang_id=$(sqlite3 "$work/queue.db" "SELECT MIN(id) FROM users WHERE kind = 'person'")
stop_server || true
t0=$(date +%s)
sed -e "s/@N@/$ncases/; s/@CLERK@/$clerk_id/g; s/@APPLICANT@/$zhang_id/g" bench/case_gen.sql | sqlite3 "$work/queue.db" >/dev/null
log "generated $ncases cases in $(($(date +%s) - t0)) s: $(sqlite3 "$work/queue.db" "SELECT COUNT(*) FROM cases WHERE department = '11440100008446488A'") in the clerk's department"
start_server "$build/tongban" "sqlite:$work/queue.db" "$work/queue-server.log"
ms() { # wrk's latency figure (12.3us, 4.5ms, 1.2s) in ms
  awk '{v = $1; if (v ~ /us$/) print v / 1000; else if (v ~ /ms$/) print v + 0; else if (v ~ /s$/) print v * 1000; else print v}'
}
for q in to_accept near_due overdue mine summary; do
  path="/api/v1/workbench/cases?queue=$q"
  [ "$q" = summary ] && path=/api/v1/workbench/summary
  wrk -t1 -c2 -d1s --timeout 30s -H "Authorization: Bearer $clerk" "$SERVER_URL$path" >/dev/null
  c0=$(cpu_ticks "$SERVER_PID")
  out=$(wrk -t2 -c4 -d"${dur}s" --timeout 30s --latency -H "Authorization: Bearer $clerk" "$SERVER_URL$path")
  c1=$(cpu_ticks "$SERVER_PID")
  nreq=$(awk '/requests in/ {print $1}' <<<"$out")
  cpu=$(calc "($c1 - $c0) * 1000 / $hz / $nreq")
  if grep -q 'Non-2xx' <<<"$out"; then log "$q: $out"; exit 1; fi
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out" | ms)
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out" | ms)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  total=$(curl -s -H "Authorization: Bearer $clerk" "$SERVER_URL$path" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
  log "$q: p50 $p50 ms, p99 $p99 ms, $rps req/s, $cpu ms CPU each, total ${total:-n/a}"
  printf '| workbench %s at %s cases (%s in the queue), p50 / p99 ms (CPU ms each) | %.1f / %.1f (%.1f) | target p99 20 ms | %.2fx |\n' \
    "$q" "$ncases" "${total:-all}" "$p50" "$p99" "$cpu" "$(calc "20 / $p99")"
done
stop_server || true
SERVER_PID=""
fi
[ -n "${BENCH_KEEP:-}" ] || rm -f "$work/queue.db"* "$base"*
