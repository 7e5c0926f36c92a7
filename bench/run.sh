#!/usr/bin/env bash
# make bench: speed of tongban against references measured in the same run.
#   1. guide read over HTTP (wrk) against nginx serving the very same JSON bytes;
#   2. import rate of a generated catalogue (BENCH_ITEMS implementations, default 500000);
#   3. search latency at that size against a LIKE scan of the same data;
#   4. logins/s (Argon2id) against bare libsodium verification (bench/login.sh);
#   5. OIDC token endpoint against node's oidc-provider, same grant (bench/oidc.sh).
# Loopback only; every load is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ITEMS=${BENCH_ITEMS:-500000}
DUR=${BENCH_SECONDS:-10}
work=${BENCH_DIR:-/tmp/tongban-bench}
mkdir -p "$work/www"
nginx_pid=""
cleanup() { [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null; kill $(jobs -p) 2>/dev/null || true; }
trap cleanup EXIT

rps() { grep 'Requests/sec' | awk '{print $2}'; }

echo "== guide read: tongban vs nginx (same bytes, wrk -t2 -c64 -d${DUR}s)"
rm -f "$work/demo.db"*
build/tongban import catalog var/demo-catalog.json --db "sqlite:$work/demo.db" >/dev/null
start_server build/tongban "sqlite:$work/demo.db" "$work/server.log"
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
stop_server || true
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""

echo "== import: $ITEMS generated implementations"
gen="$work/gen-$ITEMS.jsonl"
[ -s "$gen" ] || build/tongban gen catalog --items "$ITEMS" --seed var/demo-catalog.json --out "$gen"
rm -f "$work/big.db"*
import_out=$(build/tongban import catalog "$gen" --db "sqlite:$work/big.db" 2>/dev/null)
echo "$import_out"
import_rate=$(echo "$import_out" | sed -n 's/.*(\([0-9]*\) rows\/s).*/\1/p')

echo "== search at $ITEMS implementations"
search_table=$(build/search_bench "sqlite:$work/big.db" "${BENCH_SEARCH_RUNS:-50}")

echo "== login: POST /api/v1/auth/login vs crypto_pwhash_str_verify"
login_row=$(bench/login.sh build "$work" "$DUR")

echo "== OIDC token endpoint (bench/oidc.sh)"
oidc_out=$(bench/oidc.sh)
echo "$oidc_out"
oidc_row=$(tail -1 <<<"$oidc_out")

echo
echo "| benchmark | tongban | reference | ratio |"
echo "| --- | ---: | ---: | ---: |"
printf '| guide read (%s bytes), req/s | %.0f | nginx %.0f | %.2fx |\n' "$bytes" "$tb_rps" "$ng_rps" "$(awk -v a="$tb_rps" -v b="$ng_rps" 'BEGIN{print a/b}')"
printf '| catalogue import, rows/s | %s | | |\n' "$import_rate"
echo "$login_row"
echo "$oidc_row"
echo
echo "$search_table"
