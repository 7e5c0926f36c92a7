#!/usr/bin/env bash
# make check: unit tests, API tests over real HTTP (normal and sanitizer builds) and
# browser tests in Chromium. Ends with one summary line.
set -u
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/pg.sh
tmp=$(mktemp -d /tmp/tongban-check.XXXXXX)
# one data key for every server and command of the run (sealed personal data)
export TONGBAN_KEY_FILE=$tmp/data.key
openssl rand -hex 32 >"$TONGBAN_KEY_FILE"; chmod 600 "$TONGBAN_KEY_FILE"
# the built-in verifier's offline registry: a person found there registers at L2
export TONGBAN_ID_REGISTRY=data/demo/id-registry.json
trap 'kill $(jobs -p) 2>/dev/null; pg_stop "$tmp/pg"; rm -rf "$tmp"' EXIT
passed=0 failed=0 suites=()

count() { # count NAME LOG: add the suite's own pass/fail figures
  local name=$1 log=$2 p f
  case $name in
    unit*) p=$(grep -o '^Ok: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$'); f=$(grep -o '^Fail: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$') ;;
    api*) # the API cases' "N passed, M failed", then node:test's "# pass N" of tests/cases
      p=$(grep -o '[0-9]* passed' "$log" | tail -1 | cut -d' ' -f1); f=$(grep -o '[0-9]* failed' "$log" | tail -1 | cut -d' ' -f1)
      p=$(( ${p:-0} + $(grep -o '^# pass [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0) ))
      f=$(( ${f:-0} + $(grep -o '^# fail [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0) )) ;;
    cli*|multinode|patroni|durability*)  p=$(grep -o '[0-9]* passed' "$log" | tail -1 | cut -d' ' -f1); f=$(grep -o '[0-9]* failed' "$log" | tail -1 | cut -d' ' -f1) ;;
    browser*|oidc*) p=$(grep -o '^# pass [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$'); f=$(grep -o '^# fail [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$') ;;
  esac
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); suite_failed=${f:-0}
}

suite() { # suite NAME COMMAND...: run, show, count
  local name=$1; shift
  echo "=== $name"
  local log="$tmp/$name.log" rc=0
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  count "$name" "$log"
  # a suite that exits non-zero without having counted a failure (a crash, a setup
  # error) still counts as one
  if [ $rc -eq 0 ]; then suites+=("ok   $name"); else suites+=("FAIL $name"); [ "$suite_failed" -gt 0 ] || failed=$((failed + 1)); fi
}

catalog=var/demo-catalog.json
[ -f "$catalog" ] || node tools/demo-catalog.mjs "$catalog"

# API tests against a server of the given build, on a fresh database (SQLite, or the
# PostgreSQL URL given).
api_run() {
  local build=$1 name=$2
  local db=${3:-sqlite:$tmp/$name.db} log="$tmp/$name-server.log"
  "$build/tongban" import catalog "$catalog" --db "$db" >/dev/null || { echo "import failed"; return 1; }
  "$build/tongban" import people data/demo/people.json --db "$db" >/dev/null || { echo "import people failed"; return 1; }
  bootstrap_admin "$build/tongban" "$db" || return 1
  start_server "$build/tongban" "$db" "$log" --access-log "$tmp/$name-access.log" || return 1
  local rc=0
  admin_login "$SERVER_URL" || rc=1
  node tests/api/run.mjs "$SERVER_URL" || rc=1
  # case handling over real HTTP (tests/cases): uploads, workflow, queues
  TONGBAN_URL=$SERVER_URL node --test --test-concurrency=1 tests/cases/ || rc=1
  if [ "${BROWSER:-}" = 1 ]; then
    TONGBAN_URL=$SERVER_URL node --test --test-concurrency=1 tests/browser/ || rc=1
  fi
  stop_server || { echo "the server did not stop cleanly on SIGTERM"; rc=1; }
  if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
    echo "sanitizer findings in $log"; rc=1
  fi
  return $rc
}

# The API cases against the ASan/UBSan build: any finding in its log fails the suite.
api_asan_run() (
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
  api_run build-asan api-asan
)

# The portal's browser tests; the identity ones log the bootstrapped administrator in
# (to create staff and OIDC clients) with these.
browser_tests() {
  TONGBAN_URL=$SERVER_URL TONGBAN_ADMIN_LOGIN=$ADMIN_LOGIN TONGBAN_ADMIN_PASSWORD=$ADMIN_PASSWORD \
    TONGBAN_ADMIN_TOTP=$ADMIN_TOTP_SECRET node --test --test-concurrency=1 tests/browser/
}

browser_run() {
  local db="sqlite:$tmp/browser.db" log="$tmp/browser-server.log"
  build/tongban import catalog "$catalog" --db "$db" >/dev/null || return 1
  # the demo people: the case-handling tests apply as 张三 (an L2 person)
  build/tongban import people data/demo/people.json --db "$db" >/dev/null || return 1
  bootstrap_admin build/tongban "$db" || return 1
  start_server build/tongban "$db" "$log" || return 1
  local rc=0
  browser_tests || rc=1
  stop_server || rc=1
  return $rc
}

suite unit meson test -C build --suite unit --print-errorlogs
suite unit-asan meson test -C build-asan --suite unit --print-errorlogs
suite cli tests/cli/run.sh build
suite api api_run build api
suite api-asan api_asan_run
suite browser browser_run

# The same API cases on PostgreSQL 15: a throw-away server on a loopback port
# (scripts/pg.sh), a fresh database loaded by `tongban import`.
api_pg() {
  pg_start "$tmp/pg" || { echo "cannot start PostgreSQL"; return 1; }
  api_run build api-pg "$PG_URL"
}
suite api-pg api_pg

# The store's and the scheduler's unit tests on PostgreSQL (normal and sanitizer builds),
# on a database of their own on the same server.
unit_pg() {
  local db; db=$(pg_createdb "$tmp/pg" "unit_$2") || return 1
  TB_TEST_PG_URL=$db meson test -C "$1" --suite unit test_store_pg test_jobs_pg test_cases_pg --print-errorlogs
}
suite unit-pg unit_pg build plain
suite unit-pg-asan unit_pg build-asan asan

# The API cases on PostgreSQL against the sanitizer build (loaded by the normal build:
# the import is the same code, only slower under ASan).
api_pg_asan() (
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
  db=$(pg_createdb "$tmp/pg" api_asan) || exit 1
  build/tongban import catalog "$catalog" --db "$db" >/dev/null || { echo "import failed"; exit 1; }
  build/tongban import people data/demo/people.json --db "$db" >/dev/null || { echo "import people failed"; exit 1; }
  bootstrap_admin build/tongban "$db" || exit 1
  log="$tmp/api-pg-asan-server.log" rc=0
  start_server build-asan/tongban "$db" "$log" || exit 1
  admin_login "$SERVER_URL" || rc=1
  node tests/api/run.mjs "$SERVER_URL" || rc=1
  TONGBAN_URL=$SERVER_URL node --test --test-concurrency=1 tests/cases/ || rc=1
  stop_server || { echo "the server did not stop cleanly on SIGTERM"; rc=1; }
  if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
    echo "sanitizer findings in $log"; rc=1
  fi
  exit $rc
)
suite api-pg-asan api_pg_asan

# The browser tests on PostgreSQL: another fresh database on the same server.
browser_pg() {
  local db log="$tmp/browser-pg-server.log"
  db=$(pg_createdb "$tmp/pg" browser) || return 1
  build/tongban import catalog "$catalog" --db "$db" >/dev/null || return 1
  # the demo people: the case-handling tests apply as 张三 (an L2 person)
  build/tongban import people data/demo/people.json --db "$db" >/dev/null || return 1
  bootstrap_admin build/tongban "$db" || return 1
  start_server build/tongban "$db" "$log" || return 1
  local rc=0
  browser_tests || rc=1
  stop_server || rc=1
  return $rc
}
suite browser-pg browser_pg
# Submissions survive a SIGKILL of the server under load (tests/cases/durability.sh):
# every case answered 201 is there whole after a restart on the same database, and a
# retried request in flight at the kill makes one case. SQLite, then PostgreSQL.
suite durability tests/cases/durability.sh build
durability_pg() {
  [ -f "$tmp/pg/port" ] || pg_start "$tmp/pg" || { echo "cannot start PostgreSQL"; return 1; }
  local db; db=$(pg_createdb "$tmp/pg" durability) || return 1
  tests/cases/durability.sh build "$db"
}
suite durability-pg durability_pg
suite cli-pg tests/cli/pg.sh build
# Three nodes on one PostgreSQL behind HAProxy (deploy/haproxy.cfg), on loopback: the API
# cases through HAProxy, writes seen at once by the other nodes, a node stopped under
# load, the scheduled job once per slot across the nodes (its own PostgreSQL server).
suite multinode tests/multinode/run.sh build
# A Patroni switchover (etcd + two PostgreSQL under Patroni + HAProxy on the primary)
# under a tongban node under load.
suite patroni tests/multinode/patroni.sh build

# The OpenID Connect provider (docs/oidc.md): its error cases over HTTP and a certified
# relying party (openid-client) signing a person in through Chromium, on a fresh
# database of each store. TONGBAN_DB lets the expired-code case age a code in the
# store itself instead of waiting a minute.
oidc_run() {
  local db=$1 name=$2 log="$tmp/$2-server.log"
  build/tongban import catalog "$catalog" --db "$db" >/dev/null || { echo "import failed"; return 1; }
  build/tongban import people data/demo/people.json --db "$db" >/dev/null || { echo "import people failed"; return 1; }
  bootstrap_admin build/tongban "$db" || return 1
  start_server build/tongban "$db" "$log" || return 1
  local rc=0
  admin_login "$SERVER_URL" || rc=1
  TONGBAN_URL=$SERVER_URL TONGBAN_DB=$db node --test --test-concurrency=1 tests/oidc/ || rc=1
  stop_server || { echo "the server did not stop cleanly on SIGTERM"; rc=1; }
  return $rc
}
suite oidc oidc_run "sqlite:$tmp/oidc.db" oidc
oidc_pg() {
  [ -f "$tmp/pg/port" ] || pg_start "$tmp/pg" || { echo "cannot start PostgreSQL"; return 1; }
  local db; db=$(pg_createdb "$tmp/pg" oidc) || return 1
  oidc_run "$db" oidc-pg
}
suite oidc-pg oidc_pg

echo
printf '%s\n' "${suites[@]}"
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
