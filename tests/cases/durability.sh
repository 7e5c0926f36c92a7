#!/usr/bin/env bash
# Durability of submissions (docs/cases.md, issue 4 item 10): a server on a fresh
# database with the demo catalogue and people; concurrent clients of 张三 file
# applications with three files each through the one-request POST /api/v1/cases; after
# a few seconds of load the server is killed with SIGKILL, started again on the same
# database, and every case answered 201 must be there whole (tests/cases/durability-load.mjs
# checks it and that a retry of the requests in flight makes one case each).
#   tests/cases/durability.sh BUILD [DBURL]   (default: SQLite in a temporary directory)
# Uses TONGBAN_KEY_FILE and TONGBAN_ID_REGISTRY as scripts/check.sh exports them.
# Loopback only; bounded in time (DURABILITY_SECONDS of load, 3 by default) and count.
set -u
cd "$(dirname "$0")/../.."
. scripts/lib.sh
build=${1:-build}
dir=$(mktemp -d /tmp/tongban-durability.XXXXXX)
db=${2:-sqlite:$dir/durability.db}
catalog=var/demo-catalog.json
[ -f "$catalog" ] || node tools/demo-catalog.mjs "$catalog"
export TONGBAN_ID_REGISTRY=${TONGBAN_ID_REGISTRY:-data/demo/id-registry.json}
if [ -z "${TONGBAN_KEY_FILE:-}" ]; then
  export TONGBAN_KEY_FILE=$dir/data.key
  openssl rand -hex 32 >"$TONGBAN_KEY_FILE"; chmod 600 "$TONGBAN_KEY_FILE"
fi
SERVER_PID="" load_pid=""
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "$*"; echo "0 passed, 1 failed"; exit 1; }

"$build/tongban" import catalog "$catalog" --db "$db" >/dev/null || fail "import catalog failed"
"$build/tongban" import people data/demo/people.json --db "$db" >/dev/null || fail "import people failed"
start_server "$build/tongban" "$db" "$dir/server-1.log" || fail "the server did not start"

# load, then SIGKILL while it runs: the clients stop at their first request without an
# answer (recorded as in flight) or after DURABILITY_SECONDS * 3 at the latest
secs=${DURABILITY_SECONDS:-3}
TONGBAN_URL=$SERVER_URL node tests/cases/durability-load.mjs load "$dir" "${DURABILITY_CLIENTS:-8}" \
  $((secs * 3)) "${DURABILITY_MAX:-3000}" &
load_pid=$!
sleep "$secs"
kill -0 "$load_pid" 2>/dev/null || fail "the load ended before the kill (see above)"
echo "SIGKILL to the server (pid $SERVER_PID) under load: $(wc -l <"$dir/recorded" 2>/dev/null || echo 0) cases answered so far"
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
wait "$load_pid"
load_pid=""

# the same database again
start_server "$build/tongban" "$db" "$dir/server-2.log" || fail "the server did not start again on the same database"
rc=0
TONGBAN_URL=$SERVER_URL node tests/cases/durability-load.mjs check "$dir" || rc=1
stop_server || { echo "the restarted server did not stop cleanly on SIGTERM"; rc=1; }
SERVER_PID=""
exit $rc
