#!/usr/bin/env bash
# Logins/s: POST /api/v1/auth/login over keep-alive HTTP (wrk, bench/login.lua) against
# bare libsodium crypto_pwhash_str_verify with the same Argon2id parameters on as many
# threads as the server has (bench/pwhash_bench.c), in the same run. Prints one
# markdown table row. Usage: login.sh BUILD_DIR WORK_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
build=${1:-build} work=${2:-/tmp/tongban-bench} dur=${3:-10}
threads=$(nproc)
mkdir -p "$work"
export TONGBAN_KEY_FILE=$work/bench.key
rm -f "$work/login.db"*
"$build/tongban" import catalog var/demo-catalog.json --db "sqlite:$work/login.db" >/dev/null
"$build/tongban" import people data/demo/people.json --db "sqlite:$work/login.db" >/dev/null
start_server "$build/tongban" "sqlite:$work/login.db" "$work/login-server.log" --threads "$threads"
wrk -t1 -c"$threads" -d2s -s bench/login.lua "$SERVER_URL/api/v1/auth/login" >/dev/null # warm up
out=$(wrk -t1 -c"$threads" -d"${dur}s" -s bench/login.lua "$SERVER_URL/api/v1/auth/login")
stop_server || true
grep -q '^non-200: 0$' <<<"$out" || { echo "logins failed: $out" >&2; exit 1; }
tb=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
ref=$("$build/pwhash_bench" "$threads" "$dur" | awk '{print $2}')
printf '| login (Argon2id, %s threads), logins/s | %.1f | crypto_pwhash_str_verify %.1f/s | %.2fx |\n' \
  "$threads" "$tb" "$ref" "$(awk -v a="$tb" -v b="$ref" 'BEGIN{print a/b}')"
