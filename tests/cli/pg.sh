#!/usr/bin/env bash
# The command line on PostgreSQL: import is all or nothing, export round-trips and gives
# the same bytes as SQLite, a bad URL, a closed port or a wrong password fail at start
# with a message that names the server and never the password, and a server whose
# database connections are cut, or whose PostgreSQL is stopped and started again under
# load, answers 503 with Retry-After, then recovers by itself.
# Starts its own throw-away PostgreSQL (scripts/pg.sh). Usage: pg.sh BUILD_DIR
set -u
cd "$(dirname "$0")/../.."
. scripts/lib.sh
. scripts/pg.sh
bin=${1:-build}/tongban
tmp=$(mktemp -d /tmp/tongban-clipg.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; pg_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/  /' <<<"$2"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
good=var/demo-catalog.json

pg_start "$tmp/pg" || { echo "cli-pg: cannot start PostgreSQL"; echo "cli-pg: 0 passed, 1 failed"; exit 1; }
url=$PG_URL
psql_() { pg_as "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U tongban -d "${DB:-tongban}" -XAtq "$@"; }
count() { DB=${2:-tongban} psql_ -c "SELECT count(*) FROM $1" 2>/dev/null || echo "?"; }

# --- import, idempotent re-import, all-or-nothing
out=$("$bin" import catalog "$good" --db "$url" 2>&1)
check "import of the demo catalogue into PostgreSQL succeeds" grep -q 'implementations in' <<<"$out"
impls=$(count implementations); versions=$(count guide_versions)
check "the demo has at least 10000 implementations on PostgreSQL" test "$impls" -ge 10000
check "item_fts holds one document per item" test "$(count item_fts)" = "$(count items)"
gin=$(psql_ -c "SELECT count(*) FROM pg_indexes WHERE indexname IN ('item_fts_tsv', 'impl_fts_tsv') AND indexdef LIKE '%USING gin (tsv)%'")
check "item_fts and impl_fts are indexed with GIN" test "$gin" = 2
"$bin" import catalog "$good" --db "$url" >/dev/null 2>&1
check "importing the same catalogue again adds no guide version" test "$(count guide_versions)" = "$versions"
bad="$tmp/bad.jsonl"
{
  echo '{"format":"tongban-catalog/1"}'
  echo '{"item":{"catalog_code":"999999999000","name":"新增测试事项","item_type":"20","service_objects":["1"]}}'
  echo 'this is not json'
} >"$bad"
"$bin" import catalog "$bad" --db "$url" >/dev/null 2>&1; rc=$?
check "a bad import exits non-zero" test $rc -ne 0
check "nothing of a bad file is imported" test "$(psql_ -c "SELECT count(*) FROM items WHERE catalog_code = '999999999000'")" = 0

# --- the demo's people: sealed on import, and a second import changes nothing
export TONGBAN_KEY_FILE=${TONGBAN_KEY_FILE:-$tmp/data.key}
[ -f "$TONGBAN_KEY_FILE" ] || { openssl rand -hex 32 >"$TONGBAN_KEY_FILE"; chmod 600 "$TONGBAN_KEY_FILE"; }
check "the demo people import into PostgreSQL" "$bin" import people data/demo/people.json --db "$url"
users=$(count users); enterprises=$(count enterprises); grants=$(count agent_grants)
check "a second import of the same people succeeds" "$bin" import people data/demo/people.json --db "$url"
check "... and adds no user, enterprise or agent grant" test "$(count users)/$(count enterprises)/$(count agent_grants)" = "$users/$enterprises/$grants"
check "no ID number is stored in the clear" test "$(psql_ -c "SELECT count(*) FROM users WHERE id_number_sealed LIKE '%440106199001011235%' OR name = '440106199001011235'")" = 0

# --- export round trip, and the same bytes as SQLite
"$bin" export catalog "$tmp/pg.jsonl" --db "$url"
check "export writes JSON Lines with a format header" grep -q '^{"format":"tongban-catalog/1"}$' <(head -1 "$tmp/pg.jsonl")
copy=$(pg_createdb "$tmp/pg" copy)
"$bin" import catalog "$tmp/pg.jsonl" --db "$copy" >/dev/null 2>&1
check "an export imports into an empty PostgreSQL database" test "$(count implementations copy)" = "$impls"
"$bin" export catalog "$tmp/pg2.jsonl" --db "$copy"
check "export -> import -> export gives the same bytes" cmp -s "$tmp/pg.jsonl" "$tmp/pg2.jsonl"
"$bin" import catalog "$good" --db "sqlite:$tmp/s.db" >/dev/null 2>&1
"$bin" export catalog "$tmp/sqlite.jsonl" --db "sqlite:$tmp/s.db"
check "PostgreSQL and SQLite export the same catalogue byte for byte" cmp -s "$tmp/pg.jsonl" "$tmp/sqlite.jsonl"
check "migrate on PostgreSQL reports the schema version" bash -c "'$bin' migrate --db '$url' 2>&1 | grep -q '^schema version [1-9]'"

# --- start-time faults: clear, non-zero, never the password
closed=$(pg_free_port 15450)
out=$("$bin" migrate --db "postgres://tongban:Sekrit-pw-1@127.0.0.1:$closed/tongban" 2>&1); rc=$?
check "a closed port: non-zero exit" test $rc -ne 0
check "a closed port: the message names host, port and database" grep -q "127.0.0.1:$closed/tongban" <<<"$out"
check "a closed port: the password is not printed" bash -c "! grep -q Sekrit <<<\"\$1\"" _ "$out"
out=$("$bin" serve --listen 127.0.0.1:0 --db "postgresql://tongban:Sekrit-pw-1@127.0.0.1:$closed/tongban" 2>&1); rc=$?
check "serve with the database unreachable exits 1 with a message" bash -c "[ $rc -eq 1 ] && grep -q 'cannot connect to PostgreSQL' <<<\"\$1\" && ! grep -q Sekrit <<<\"\$1\"" _ "$out"
# a role that must give a password (scram), ahead of the trust rules
psql_ -c "CREATE ROLE pwuser LOGIN PASSWORD 'Right-pw-77'" >/dev/null
sed -i '1i host all pwuser 127.0.0.1/32 scram-sha-256' "$tmp/pg/data/pg_hba.conf"
psql_ -c "SELECT pg_reload_conf()" >/dev/null; sleep 0.3
out=$("$bin" migrate --db "postgres://pwuser:Wrong-pw-99@127.0.0.1:$PG_PORT/tongban" 2>&1); rc=$?
check "a wrong password: non-zero exit naming the server and user" bash -c "[ $rc -ne 0 ] && grep -q 'pwuser@127.0.0.1:$PG_PORT/tongban' <<<\"\$1\" && grep -qi 'password' <<<\"\$1\"" _ "$out"
check "a wrong password: the password is not printed" bash -c "! grep -q Wrong-pw <<<\"\$1\"" _ "$out"
out=$("$bin" migrate --db "postgres://tongban:Sekrit-pw-1@127.0.0.1:notaport/tongban" 2>&1); rc=$?
check "a malformed URL: non-zero exit, no password" bash -c "[ $rc -ne 0 ] && grep -q 'PostgreSQL' <<<\"\$1\" && ! grep -q Sekrit <<<\"\$1\"" _ "$out"

# --- connections cut while serving: 503 with Retry-After, then recovery without restart
start_server "$bin" "$url" "$tmp/s.log" --threads 2
q="$SERVER_URL/api/v1/search?q=%E7%A4%BE%E4%BF%9D"
check "the server on PostgreSQL answers a search" test "$(curl -s -o /dev/null -w '%{http_code}' "$q")" = 200
for i in 1 2 3 4 5 6; do curl -s -o /dev/null "$q"; done  # every worker has its connection
psql_ -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'tongban'" >/dev/null
codes="" retry=ok
for i in $(seq 1 12); do
  h=$(curl -s -D - -o /dev/null "$q")
  c=$(head -1 <<<"$h" | cut -d' ' -f2); codes="$codes $c"
  if [ "$c" = 503 ] && ! grep -qi '^retry-after:' <<<"$h"; then retry=missing; fi
done
check "after the connections are cut every answer is 200 or 503 (got:$codes)" bash -c "! grep -qvE '^(200|503)$' <(tr ' ' '\n' <<<\"\$1\" | sed '/^$/d')" _ "$codes"
check "a 503 carries Retry-After" test "$retry" = ok
check "the server recovers without a restart (last answers 200)" bash -c "[ \"\$(tr ' ' '\n' <<<\"\$1\" | tail -3 | sort -u | tr -d '\n')\" = 200 ]" _ "$codes"

# --- PostgreSQL stopped and started again under load: 503s, no crash, recovery
: >"$tmp/load.codes"
(while :; do curl -s -o /dev/null -w '%{http_code}\n' "$q" >>"$tmp/load.codes"; done) &
loader=$!
sleep 0.5
pg_server "$tmp/pg" stop
sleep 0.5
h=$(curl -s -D - -o /dev/null "$q")
check "with PostgreSQL stopped a search is a 503 with Retry-After" bash -c "head -1 <<<\"\$1\" | grep -q ' 503' && grep -qi '^retry-after:' <<<\"\$1\"" _ "$h"
pg_server "$tmp/pg" start
sleep 1
kill "$loader"; wait "$loader" 2>/dev/null
check "the server is still running after PostgreSQL came back" kill -0 "$SERVER_PID"
check "under load every answer was 200 or 503 ($(sort "$tmp/load.codes" | uniq -c | tr -s ' \n' ' '))" bash -c "! grep -qvE '^(200|503)$' '$tmp/load.codes'"
codes=""
for i in $(seq 1 8); do codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$q")"; done
check "after the restart the server answers 200 again without a restart of its own (got:$codes)" bash -c "[ \"\$(tr ' ' '\n' <<<\"\$1\" | tail -3 | sort -u | tr -d '\n')\" = 200 ]" _ "$codes"
stop_server; rc=$?
check "the server then stops with exit 0" test $rc -eq 0

echo "cli-pg: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
