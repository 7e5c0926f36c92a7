#!/usr/bin/env bash
# make bench: speed of tongban against references measured in the same run.
#   1. guide read over HTTP (wrk) against nginx serving the very same JSON bytes;
#   2. guide read and search over HTTP on PostgreSQL beside SQLite (same data, same wrk);
#   3. writes, one row per transaction through store.h, against pgbench's rate for the
#      same transaction on the same PostgreSQL server (and the same C bench on SQLite);
#   4. import rate of a generated catalogue (BENCH_ITEMS implementations, default 500000);
#   5. search latency at that size against a LIKE scan of the same data;
#   6. logins/s (Argon2id) against bare libsodium verification (bench/login.sh);
#   7. OIDC token endpoint against node's oidc-provider, same grant (bench/oidc.sh);
#   8. case handling (bench/cases.sh): one-request submissions with three 100 KiB files
#      against bare SQLite writing the same rows, workflow transitions/s, and the
#      workbench queues' latency at 1,000,000 cases (BENCH_CASES).
# Loopback only; every load is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/pg.sh
ITEMS=${BENCH_ITEMS:-500000}
DUR=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_WRITE_CLIENTS:-4}
b=${BENCH_BUILD:-build}
work=${BENCH_DIR:-/tmp/tongban-bench}
mkdir -p "$work/www"
nginx_pid=""
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
  kill $(jobs -p) 2>/dev/null || true
  pg_stop "$work/pg"
}
trap cleanup EXIT

rps() { grep 'Requests/sec' | awk '{print $2}'; }

echo "== guide read: tongban vs nginx (same bytes, wrk -t2 -c64 -d${DUR}s)"
rm -f "$work/demo.db"*
$b/tongban import catalog var/demo-catalog.json --db "sqlite:$work/demo.db" >/dev/null
start_server $b/tongban "sqlite:$work/demo.db" "$work/server.log"
impl=$(curl -s "$SERVER_URL/api/v1/items?per_page=1&sort=popular" | sed -n 's/.*"impl_code":"\([0-9A-Z]*\)".*/\1/p' | head -1)
url="/api/v1/items/$impl"
curl -s "$SERVER_URL$url" >"$work/www/guide.json"
bytes=$(wc -c <"$work/www/guide.json")
port=$((20000 + RANDOM % 20000))
cat >"$work/nginx.conf" <<NGX
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$port;
    location = /guide.json { root $work/www; default_type application/json; }
  }
}
NGX
nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
sleep 0.5
wrk -t2 -c64 -d2s "$SERVER_URL$url" >/dev/null  # warm up
tb_rps=$(wrk -t2 -c64 -d"${DUR}s" "$SERVER_URL$url" | rps)
ng_rps=$(wrk -t2 -c64 -d"${DUR}s" "http://127.0.0.1:$port/guide.json" | rps)
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
# search: a two-character query (社保), first page with its total
search="/api/v1/search?q=%E7%A4%BE%E4%BF%9D"
wrk -t2 -c64 -d2s "$SERVER_URL$search" >/dev/null
sq_search=$(wrk -t2 -c64 -d"${DUR}s" "$SERVER_URL$search" | rps)
stop_server || true

echo "== the same on PostgreSQL 15 (throw-away server on loopback, scripts/pg.sh)"
pg_stop "$work/pg"
pg_start "$work/pg" >/dev/null
$b/tongban import catalog var/demo-catalog.json --db "$PG_URL" >/dev/null
start_server $b/tongban "$PG_URL" "$work/server-pg.log"
wrk -t2 -c64 -d2s "$SERVER_URL$url" >/dev/null
pg_rps=$(wrk -t2 -c64 -d"${DUR}s" "$SERVER_URL$url" | rps)
wrk -t2 -c64 -d2s "$SERVER_URL$search" >/dev/null
pg_search=$(wrk -t2 -c64 -d"${DUR}s" "$SERVER_URL$search" | rps)
stop_server || true
pg_search_table=$($b/search_bench "$PG_URL" "${BENCH_SEARCH_RUNS:-50}")

echo "== writes: one row per transaction, $CLIENTS clients, ${DUR}s each"
# pgbench runs the very transaction write_bench runs (BEGIN; prepared INSERT; COMMIT)
# on the same table, with the same number of clients, on the same server.
wdb=$(pg_createdb "$work/pg" writes)
cat >"$work/insert.sql" <<'SQL'
\set v random(1, 1000000000)
BEGIN;
INSERT INTO bench_writes (k, v, t, created_at) VALUES ('pgbench', :v, 'x', '2026-11-25T08:00:00+08:00');
END;
SQL
tb_w_pg=$($b/write_bench "$wdb" "$CLIENTS" "$DUR" | sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p')
pgb_w=$(pgbench -n -M prepared -f "$work/insert.sql" -c "$CLIENTS" -j "$CLIENTS" -T "$DUR" "$wdb" 2>/dev/null \
  | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
rm -f "$work/writes.db"*
tb_w_sq=$($b/write_bench "sqlite:$work/writes.db" "$CLIENTS" "$DUR" | sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p')
pg_stop "$work/pg"

echo "== import: $ITEMS generated implementations"
gen="$work/gen-$ITEMS.jsonl"
[ -s "$gen" ] || $b/tongban gen catalog --items "$ITEMS" --seed var/demo-catalog.json --out "$gen"
rm -f "$work/big.db"*
import_out=$($b/tongban import catalog "$gen" --db "sqlite:$work/big.db" 2>/dev/null)
echo "$import_out"
import_rate=$(echo "$import_out" | sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p')

echo "== search at $ITEMS implementations"
search_table=$($b/search_bench "sqlite:$work/big.db" "${BENCH_SEARCH_RUNS:-50}")

echo "== login: POST /api/v1/auth/login vs crypto_pwhash_str_verify"
login_row=$(bench/login.sh build "$work" "$DUR")

echo "== OIDC token endpoint (bench/oidc.sh)"
oidc_out=$(bench/oidc.sh)
echo "$oidc_out"
oidc_row=$(tail -1 <<<"$oidc_out")

echo "== case handling (bench/cases.sh)"
cases_rows=$(bench/cases.sh "$b" "$work" "$DUR")

echo
echo "| benchmark | tongban | reference | ratio |"
echo "| --- | ---: | ---: | ---: |"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{print a/b}'; }
printf '| guide read (%s bytes), req/s | %.0f | nginx %.0f | %.2fx |\n' "$bytes" "$tb_rps" "$ng_rps" "$(ratio "$tb_rps" "$ng_rps")"
printf '| guide read on PostgreSQL, req/s | %.0f | tongban on SQLite %.0f | %.2fx |\n' "$pg_rps" "$tb_rps" "$(ratio "$pg_rps" "$tb_rps")"
printf '| search 社保 on SQLite (demo catalogue), req/s | %.0f | | |\n' "$sq_search"
printf '| search 社保 on PostgreSQL (demo catalogue), req/s | %.0f | tongban on SQLite %.0f | %.2fx |\n' "$pg_search" "$sq_search" "$(ratio "$pg_search" "$sq_search")"
printf '| writes on PostgreSQL, 1 row/transaction, %s clients, rows/s | %.0f | pgbench %.0f | %.2fx |\n' "$CLIENTS" "$tb_w_pg" "$pgb_w" "$(ratio "$tb_w_pg" "$pgb_w")"
printf '| writes on SQLite, 1 row/transaction, %s clients, rows/s | %.0f | tongban on PostgreSQL %.0f | %.2fx |\n' "$CLIENTS" "$tb_w_sq" "$tb_w_pg" "$(ratio "$tb_w_sq" "$tb_w_pg")"
printf '| catalogue import, rows/s | %s | | |\n' "$import_rate"
echo "$login_row"
echo "$oidc_row"
echo "$cases_rows"
echo
echo "$search_table"
echo
echo "On PostgreSQL, the demo catalogue:"
echo "$pg_search_table"
