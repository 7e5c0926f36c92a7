#!/usr/bin/env bash
# Several tongban nodes on one PostgreSQL behind HAProxy, all on 127.0.0.1:
#   - PostgreSQL 15 (scripts/pg.sh), migrated and loaded with the demo catalogue;
#   - three nodes (scripts/lib.sh start_server) with a 1-second scheduler tick;
#   - HAProxy with deploy/haproxy.cfg (roundrobin, httpchk GET /healthz).
# Then: every API case through HAProxy; a guide written through node A is read at once
# through B, C and HAProxy, and found by search; the lease holder is stopped under a
# stream of requests through HAProxy, which all succeed, and another node takes the
# lease; the scheduled job ran exactly once per time slot across the nodes, with no
# slot missed. Everything is stopped at the end.
# Usage: tests/multinode/run.sh [BUILD_DIR]. Last line: "multinode: N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
. scripts/lib.sh
. scripts/pg.sh
bin=${1:-build}/tongban
tick=1
job=prune-nodes # registered by `tongban serve` with an interval of 5 ticks
tmp=$(mktemp -d /tmp/tongban-multinode.XXXXXX)
# every node seals and opens personal data with the same data key
if [ -z "${TONGBAN_KEY_FILE:-}" ]; then
  export TONGBAN_KEY_FILE=$tmp/data.key
  openssl rand -hex 32 >"$TONGBAN_KEY_FILE"; chmod 600 "$TONGBAN_KEY_FILE"
fi
export TONGBAN_ID_REGISTRY=${TONGBAN_ID_REGISTRY:-data/demo/id-registry.json}
node_pid=() node_url=() haproxy_pid=""

cleanup() {
  local p
  for p in "${node_pid[@]}" $haproxy_pid; do kill -TERM "$p" 2>/dev/null; done
  kill $(jobs -p) 2>/dev/null
  wait 2>/dev/null
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/  /' <<<"$2"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
finish() { echo "multinode: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }
fatal() { not_ok "$1" "${2:-}"; finish; }
# Run a command that prints ok/not ok lines itself; show them and count them.
counted() {
  local line
  while IFS= read -r line; do
    echo "$line"
    case $line in
      "ok - "*) passed=$((passed + 1)) ;;
      "not ok - "*) failed=$((failed + 1)) ;;
    esac
  done < <("$@" 2>&1)
}
free_port() {
  local p i
  for i in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
stop_node() { # stop_node I: SIGTERM, and the node must exit 0 by itself
  SERVER_PID=${node_pid[$1]}
  stop_server
  local rc=$?
  node_pid[$1]=""
  return $rc
}
node_of_pid() { # the index of the node whose process id is $1
  local i
  for i in 1 2 3; do [ "${node_pid[$i]}" = "$1" ] && { echo "$i"; return 0; }; done
  return 1
}
psql_() { "$PG_BIN/psql" "$PG_URL" -XAtq -c "$1"; }

catalog=var/demo-catalog.json
[ -f "$catalog" ] || node tools/demo-catalog.mjs "$catalog"

# --- PostgreSQL, schema, catalogue
pg_start "$tmp/pg" || fatal "PostgreSQL starts"
"$bin" migrate --db "$PG_URL" >"$tmp/migrate.log" 2>&1 || fatal "tongban migrate on PostgreSQL" "$(cat "$tmp/migrate.log")"
"$bin" import catalog "$catalog" --db "$PG_URL" >"$tmp/import.log" 2>&1 || fatal "the demo catalogue imports" "$(cat "$tmp/import.log")"
"$bin" import people data/demo/people.json --db "$PG_URL" >"$tmp/people.log" 2>&1 || fatal "the demo people import" "$(cat "$tmp/people.log")"
bootstrap_admin "$bin" "$PG_URL" >"$tmp/bootstrap.log" 2>&1 || fatal "the first platform admin is bootstrapped" "$(cat "$tmp/bootstrap.log")"
ok "PostgreSQL started, migrated and loaded"

# --- three nodes, then HAProxy in front of them
for i in 1 2 3; do
  start_server "$bin" "$PG_URL" "$tmp/node$i.log" --jobs-tick "$tick" --trust-proxy || fatal "node $i starts"
  node_pid[$i]=$SERVER_PID node_url[$i]=$SERVER_URL
done
ok "three nodes started (${node_url[*]})"

TB_HAPROXY_BIND=127.0.0.1:$(free_port) TB_HAPROXY_STATS=127.0.0.1:$(free_port)
TB_NODE1=${node_url[1]#http://} TB_NODE2=${node_url[2]#http://} TB_NODE3=${node_url[3]#http://}
export TB_HAPROXY_BIND TB_HAPROXY_STATS TB_NODE1 TB_NODE2 TB_NODE3
haproxy -c -q -f deploy/haproxy.cfg >"$tmp/haproxy-check.log" 2>&1 || fatal "deploy/haproxy.cfg is valid" "$(cat "$tmp/haproxy-check.log")"
haproxy -db -f deploy/haproxy.cfg >"$tmp/haproxy.log" 2>&1 &
haproxy_pid=$!
ha=http://$TB_HAPROXY_BIND
servers_up() { curl -s "http://$TB_HAPROXY_STATS/;csv" | awk -F, '$1 == "tongban_nodes" && $2 ~ /^node/ && $18 ~ /^UP/' | wc -l; }
for _ in $(seq 1 100); do [ "$(servers_up)" = 3 ] && break; sleep 0.2; done
check "HAProxy's health checks (GET /healthz) see the three nodes up" test "$(servers_up)" = 3
check "the platform admin logs in through HAProxy (password and TOTP)" admin_login "$ha"

# every socket of ours listens on loopback only
pids="${node_pid[*]} $haproxy_pid $(head -1 "$tmp/pg/data/postmaster.pid")"
listening=$(ss -Hltnp 2>/dev/null | grep -E "pid=($(tr ' ' '|' <<<"$pids" | sed 's/|*$//')),")
check "nodes, HAProxy and PostgreSQL listen on 127.0.0.1 only" \
  bash -c '[ -n "$1" ] && ! awk "{print \$4}" <<<"$1" | grep -v "^127\.0\.0\.1:"' _ "$listening"

# --- the whole API suite through HAProxy (requests spread over the three nodes)
node tests/api/run.mjs "$ha" >"$tmp/api.log" 2>&1
sed 's/^/  /' "$tmp/api.log" | grep -v '^  ok ' || true
p=$(grep -o '[0-9]* passed' "$tmp/api.log" | tail -1 | cut -d' ' -f1)
f=$(grep -o '[0-9]* failed' "$tmp/api.log" | tail -1 | cut -d' ' -f1)
passed=$((passed + ${p:-0})) failed=$((failed + ${f:-1}))
echo "api cases through HAProxy: ${p:-0} passed, ${f:-?} failed"
# case handling through HAProxy: a case filed on one node moves on the others
TONGBAN_URL=$ha node --test --test-concurrency=1 tests/cases/ >"$tmp/cases.log" 2>&1
grep -E '^(not ok|# (pass|fail))' "$tmp/cases.log" | sed 's/^/  /' || true
p=$(grep -o '^# pass [0-9]*' "$tmp/cases.log" | tail -1 | grep -o '[0-9]*$')
f=$(grep -o '^# fail [0-9]*' "$tmp/cases.log" | tail -1 | grep -o '[0-9]*$')
passed=$((passed + ${p:-0})) failed=$((failed + ${f:-1}))
spread=0
for i in 1 2 3; do
  n=$(curl -s "${node_url[$i]}/metrics" | awk '/^tongban_http_requests_total/ {s += $2} END {print s + 0}')
  [ "$n" -gt 50 ] && spread=$((spread + 1))
done
check "HAProxy spread the API cases over the three nodes" test "$spread" = 3

# --- a write on one node is read at once on the others
counted node tests/multinode/nodes.mjs crossnode "${node_url[1]}" "${node_url[2]}" "${node_url[3]}" "$ha"

# --- the scheduler: one lease holder; stop it under load through HAProxy
check "the three nodes heartbeat into the nodes table" test "$(node tests/multinode/nodes.mjs total "$ha")" = 3
holder=$(node tests/multinode/nodes.mjs holder "$ha")
hi=$(node_of_pid "$(cut -d: -f2 <<<"$holder")") || fatal "the scheduler lease is held by one of the nodes" "holder: $holder"
ok "node $hi ($holder) holds the scheduler lease"
node tests/multinode/nodes.mjs load "$ha" "$tmp/stop-load" >"$tmp/load.log" 2>&1 &
load_pid=$!
sleep 2
check "the lease holder (node $hi) stops cleanly on SIGTERM under load" stop_node "$hi"
for _ in $(seq 1 50); do [ "$(servers_up)" = 2 ] && break; sleep 0.2; done
check "HAProxy takes the stopped node out of service" test "$(servers_up)" = 2
sleep 2 # requests keep flowing to the two nodes left
touch "$tmp/stop-load"
wait "$load_pid"
load=$(cat "$tmp/load.log")
check "every request through HAProxy succeeded while a node stopped ($(head -1 <<<"$load"))" \
  grep -q '^load: [1-9][0-9]* requests, 0 not 200$' <<<"$load"
[ "$failed" -gt 0 ] && sed 's/^/  /' <<<"$load"
new_holder=$(node tests/multinode/nodes.mjs holder "$ha")
check "another node took the lease ($new_holder)" bash -c '[ -n "$1" ] && [ "$1" != "$2" ]' _ "$new_holder" "$holder"
check "the stopped node left the node list" test "$(node tests/multinode/nodes.mjs total "$ha")" = 2

# wait until the new holder has run the job for a slot of its own
for _ in $(seq 1 100); do
  [ "$(psql_ "SELECT count(*) FROM job_runs WHERE job = '$job' AND node = '$new_holder'")" -ge 1 ] && break
  sleep 0.2
done

# --- exactly once per slot: the rows, and what the nodes' logs say they ran
runs=$(psql_ "SELECT count(*) FROM job_runs WHERE job = '$job'")
span=$(psql_ "SELECT max(slot) - min(slot) + 1 FROM job_runs WHERE job = '$job'")
runners=$(psql_ "SELECT count(DISTINCT node) FROM job_runs WHERE job = '$job'")
notok=$(psql_ "SELECT count(*) FROM job_runs WHERE job = '$job' AND status <> 'ok'")
logged=$(cat "$tmp"/node[123].log | grep '"event":"job.run"' | grep -o "job $job slot [0-9]*" | sort)
echo "  $job: $runs runs over $span slots by $runners nodes"
check "the job ran in every slot since the first node started, none missed (runs $runs = slots $span)" \
  bash -c '[ "$1" -ge 3 ] && [ "$1" = "$2" ]' _ "$runs" "$span"
check "no slot ran twice across the three nodes' logs" test -z "$(uniq -d <<<"$logged")"
check "the logs show as many runs as job_runs holds" test "$(grep -c . <<<"$logged")" = "$runs"
check "the runs were shared by the holder before and after the hand-over" test "$runners" -ge 2
check "every run finished ok" test "$notok" = 0

# --- stop everything
rc=0
for i in 1 2 3; do
  [ -n "${node_pid[$i]}" ] || continue
  stop_node "$i" || rc=1
done
check "the other nodes stop cleanly" test $rc = 0
kill -TERM "$haproxy_pid"; wait "$haproxy_pid" 2>/dev/null; haproxy_pid=""
check "nothing listens on the HAProxy port any more" bash -c '! (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null' _ "$TB_HAPROXY_BIND"
finish
