#!/usr/bin/env bash
# Token endpoint requests/s: tongban against node's oidc-provider (a certified OpenID
# Provider), both on loopback in this run, keep-alive (wrk -t2 -c32), the SAME grant:
# client_credentials with client_secret_basic. That grant is the token endpoint's own
# work — authenticate the client, mint an opaque access token, store it — with no
# browser step per request, so both sides do the same thing every time (a refresh
# chain would need per-connection state in wrk and would measure the rotation
# bookkeeping of each side as much as the endpoint). tongban keeps its tokens in its
# database (SQLite, WAL); oidc-provider in its default in-memory adapter.
# Prints the figures and, last, one markdown table row (bench/run.sh collects it).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
DUR=${BENCH_SECONDS:-10}
work=${BENCH_DIR:-/tmp/tongban-bench}/oidc
rm -rf "$work"; mkdir -p "$work"
op_pid=""
cleanup() { [ -n "$op_pid" ] && kill "$op_pid" 2>/dev/null; kill $(jobs -p) 2>/dev/null || true; }
trap cleanup EXIT
rps() { grep 'Requests/sec' | awk '{print $2}'; }

export TONGBAN_KEY_FILE=$work/data.key
openssl rand -hex 32 >"$TONGBAN_KEY_FILE"; chmod 600 "$TONGBAN_KEY_FILE"
db="sqlite:$work/oidc.db"
bootstrap_admin ${TB_BUILD:-build}/tongban "$db" >/dev/null
start_server ${TB_BUILD:-build}/tongban "$db" "$work/server.log"
admin_login "$SERVER_URL"
secret=$(curl -sS -X POST "$SERVER_URL/api/v1/oidc/clients" -H "authorization: Bearer $TONGBAN_ADMIN_TOKEN" \
  -H 'content-type: application/json' \
  -d '{"client_id":"bench","name":"bench","type":"confidential","redirect_uris":["https://bench.example/cb"],"scopes":["openid","profile"]}' \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).client_secret))')

port=$((20000 + RANDOM % 20000))
node bench/oidc-provider.mjs "$port" bench "$secret" >"$work/op.log" 2>&1 &
op_pid=$!
for i in $(seq 1 100); do grep -q '^listening' "$work/op.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^listening' "$work/op.log" || { echo "oidc-provider did not start:"; cat "$work/op.log"; exit 1; }

export BENCH_CLIENT=bench BENCH_SECRET=$secret
run() { wrk -t2 -c32 -d"$1" -s bench/token.lua "$2"; }
# The machine may be shared: the two sides take turns, twice, and each keeps its better
# run, so that a burst of someone else's load does not decide the ratio.
opv=$(node -p 'require("./node_modules/oidc-provider/package.json").version')
run 2s "$SERVER_URL/api/v1/oidc/token" >/dev/null   # warm up both
run 2s "http://127.0.0.1:$port/token" >/dev/null
tb_out="" op_out="" tb_rps=0 op_rps=0
for round in 1 2; do
  out=$(run "${DUR}s" "$SERVER_URL/api/v1/oidc/token")
  echo "== round $round, tongban:"; echo "$out" | grep -E 'Requests/sec|non-200|Latency'
  r=$(rps <<<"$out"); tb_out+="$out"$'\n'
  awk -v a="$r" -v b="$tb_rps" 'BEGIN{exit !(a>b)}' && tb_rps=$r
  out=$(run "${DUR}s" "http://127.0.0.1:$port/token")
  echo "== round $round, oidc-provider $opv:"; echo "$out" | grep -E 'Requests/sec|non-200|Latency'
  r=$(rps <<<"$out"); op_out+="$out"$'\n'
  awk -v a="$r" -v b="$op_rps" 'BEGIN{exit !(a>b)}' && op_rps=$r
done
if grep 'non-200 responses:' <<<"$tb_out$op_out" | grep -qv 'responses: 0$'; then
  echo "a side answered errors: the figures do not count"; exit 1
fi
stop_server || true
printf '| token endpoint (client_credentials), req/s | %.0f | oidc-provider %.0f | %.2fx |\n' "$tb_rps" "$op_rps" \
  "$(awk -v a="$tb_rps" -v b="$op_rps" 'BEGIN{print a/b}')"
