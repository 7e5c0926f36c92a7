#!/usr/bin/env bash
# Logins/s: POST /api/v1/auth/login over keep-alive HTTP (wrk, bench/login.lua) against
# bare libsodium crypto_pwhash_str_verify with the same Argon2id parameters on as many
# threads as the server has (bench/pwhash_bench.c), in the same run, alternating in
# rounds. Prints one markdown table row (rounds on stderr). Usage: login.sh BUILD_DIR WORK_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
build=${1:-build} work=${2:-/tmp/tongban-bench} dur=${3:-10}
threads=$(nproc)
# libmicrohttpd's thread pool serves each connection on one worker thread, and a worker
# runs its connections' requests one after another: with as many workers as connections,
# two connections often share a worker and an Argon2id verification (~0.2 s) holds the
# other one up. The server therefore gets 4 workers per core and wrk as many connections,
# so that every core is busy hashing, as the reference's threads are.
conns=$((threads * 4))
mkdir -p "$work"
export TONGBAN_KEY_FILE=$work/bench.key
rm -f "$work/login.db"*
"$build/tongban" import catalog var/demo-catalog.json --db "sqlite:$work/login.db" >/dev/null
"$build/tongban" import people data/demo/people.json --db "sqlite:$work/login.db" >/dev/null
start_server "$build/tongban" "sqlite:$work/login.db" "$work/login-server.log" --threads "$conns"
wrk -t1 -c"$conns" -d2s -s bench/login.lua "$SERVER_URL/api/v1/auth/login" >/dev/null # warm up
# Alternate the two in rounds so that a change in the machine's load hits both alike;
# the figures are the means over the rounds.
rounds=${BENCH_ROUNDS:-3} tb_sum=0 ref_sum=0
for r in $(seq 1 "$rounds"); do
  out=$(wrk -t1 -c"$conns" -d"${dur}s" -s bench/login.lua "$SERVER_URL/api/v1/auth/login")
  grep -q '^non-200: 0$' <<<"$out" || { echo "logins failed: $out" >&2; stop_server || true; exit 1; }
  tb=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  ref=$("$build/pwhash_bench" "$threads" "$dur" | awk '{print $2}')
  echo "round $r: login $tb/s, verify $ref/s" >&2
  tb_sum=$(awk -v a="$tb_sum" -v b="$tb" 'BEGIN{print a+b}')
  ref_sum=$(awk -v a="$ref_sum" -v b="$ref" 'BEGIN{print a+b}')
done
stop_server || true
tb=$(awk -v a="$tb_sum" -v n="$rounds" 'BEGIN{print a/n}')
ref=$(awk -v a="$ref_sum" -v n="$rounds" 'BEGIN{print a/n}')
printf '| login (Argon2id, %s cores busy), logins/s | %.1f | crypto_pwhash_str_verify %.1f/s | %.2fx |\n' \
  "$threads" "$tb" "$ref" "$(awk -v a="$tb" -v b="$ref" 'BEGIN{print a/b}')"
