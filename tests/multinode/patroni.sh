#!/usr/bin/env bash
# A Patroni switchover under a tongban node, all on 127.0.0.1: one etcd member, two
# PostgreSQL 15 servers managed by Patroni (primary and replica), HAProxy sending
# connections to whichever Patroni says is the primary (GET /primary), one tongban node
# on HAProxy's port. Under a stream of requests the primary is switched over: every
# answer is 200 or 503 with Retry-After, the node keeps running, and it then writes
# through the new primary (its heartbeat moves on) without a restart.
# The `patroni` suite of `make check`; needs Debian 12's patroni and etcd-server
# (scripts/deps.sh installs them).
# Usage: tests/multinode/patroni.sh [BUILD_DIR]. Last line: "patroni: N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
. scripts/lib.sh
. scripts/pg.sh
bin=${1:-build}/tongban
tmp=$(mktemp -d /tmp/tongban-patroni.XXXXXX)
etcd_pid="" patroni_pid=() haproxy_pid=""
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/  /' <<<"$2"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
finish() { echo "patroni: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }
fatal() { not_ok "$1" "${2:-}"; finish; }
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill -TERM "$SERVER_PID" 2>/dev/null
  [ -n "$haproxy_pid" ] && kill "$haproxy_pid" 2>/dev/null
  # Patroni stops its PostgreSQL on SIGTERM; as root it runs under runuser, which does
  # not pass the signal on: signal runuser's child too, and wait for both
  local p all=()
  for p in "${patroni_pid[@]}"; do all+=("$p" $(pgrep -P "$p")); done
  for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${all[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null
  kill $(jobs -p) 2>/dev/null
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
command -v patroni >/dev/null && command -v etcd >/dev/null || fatal "patroni and etcd are installed (apt-get install patroni etcd-server)"
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

# --- etcd, one member
ec=$(free_port) ep=$(free_port)
etcd --name e1 --data-dir "$tmp/etcd" --listen-client-urls "http://127.0.0.1:$ec" \
  --advertise-client-urls "http://127.0.0.1:$ec" --listen-peer-urls "http://127.0.0.1:$ep" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ep" --initial-cluster "e1=http://127.0.0.1:$ep" \
  >"$tmp/etcd.log" 2>&1 &
etcd_pid=$!

# --- two Patroni members, run as the unprivileged PostgreSQL user of scripts/pg.sh
if [ "$(id -u)" = 0 ] && ! id "$PG_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
fi
chmod 0755 "$tmp"
# Patroni (Python) needs a working directory its user can enter: the checkout may sit
# under a 0700 directory (a fresh clone in `mktemp -d`). Called in a subshell, and exec'd
# so that $! is the process itself.
in_tmp_as_pg() {
  cd "$tmp" || return 1
  if [ "$(id -u)" = 0 ]; then exec runuser -u "$PG_USER" -- "$@"; else exec "$@"; fi
}
declare -A rest pgp
primary_is() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${rest[$1]}/primary" | grep -q 200; }
replica_ok() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${rest[$1]}/replica" | grep -q 200; }
for m in pg1 pg2; do
  rest[$m]=$(free_port) pgp[$m]=$(free_port)
  mkdir -p "$tmp/$m" && chmod 0700 "$tmp/$m"
  [ "$(id -u)" = 0 ] && chown "$PG_USER" "$tmp/$m"
  cat >"$tmp/$m.yml" <<YML
scope: tongban-test
namespace: /service/
name: $m
restapi:
  listen: 127.0.0.1:${rest[$m]}
  connect_address: 127.0.0.1:${rest[$m]}
etcd3:
  hosts: 127.0.0.1:$ec
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 5
    synchronous_mode: true
    postgresql:
      parameters:
        max_connections: 100
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 5
        max_replication_slots: 5
        wal_log_hints: "on"
  initdb:
    - encoding: UTF8
    - locale: C
  pg_hba:
    - host replication all 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:${pgp[$m]}
  connect_address: 127.0.0.1:${pgp[$m]}
  data_dir: $tmp/$m/data
  bin_dir: $PG_BIN
  pgpass: $tmp/$m/pgpass
  authentication:
    replication: {username: tongban, password: unused}
    superuser: {username: tongban, password: unused}
  parameters:
    unix_socket_directories: $tmp/$m
    fsync: "off"
YML
  chmod 0644 "$tmp/$m.yml"
  (in_tmp_as_pg patroni "$tmp/$m.yml") >"$tmp/$m.log" 2>&1 &
  patroni_pid+=($!)
  # pg2 starts only once pg1 leads, so that it joins as a replica rather than racing pg1
  # for the leader key (a busy machine can take many seconds to initdb)
  if [ "$m" = pg1 ]; then
    for _ in $(seq 1 600); do primary_is pg1 && break; sleep 0.2; done
  fi
done
for _ in $(seq 1 300); do primary_is pg1 && replica_ok pg2 && break; sleep 0.2; done
check "Patroni bootstrapped pg1 as primary and pg2 as a replica" bash -c "$(declare -f primary_is replica_ok); $(declare -p rest); primary_is pg1 && replica_ok pg2"

# --- HAProxy: the primary only
hp=$(free_port)
cat >"$tmp/haproxy.cfg" <<CFG
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
listen pg_primary
    bind 127.0.0.1:$hp
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
    server pg1 127.0.0.1:${pgp[pg1]} check port ${rest[pg1]}
    server pg2 127.0.0.1:${pgp[pg2]} check port ${rest[pg2]}
CFG
haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
haproxy_pid=$!
url="postgres://tongban@127.0.0.1:$hp/postgres"
for _ in $(seq 1 50); do "$PG_BIN/psql" "$url" -XAtqc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
"$bin" migrate --db "$url" >"$tmp/migrate.log" 2>&1 || fatal "tongban migrate through HAProxy" "$(cat "$tmp/migrate.log")"
start_server "$bin" "$url" "$tmp/node.log" --jobs-tick 1 || fatal "the tongban node starts"
ok "tongban runs on the Patroni primary through HAProxy"

# --- switchover under load
node tests/multinode/nodes.mjs load "$SERVER_URL" "$tmp/stop-load" 503 >"$tmp/load.log" 2>&1 &
load_pid=$!
sleep 2
(in_tmp_as_pg patronictl -c "$tmp/pg1.yml" switchover --leader pg1 --candidate pg2 --force) >"$tmp/switch.log" 2>&1
for _ in $(seq 1 300); do primary_is pg2 && break; sleep 0.2; done
check "Patroni switched the primary over to pg2" primary_is pg2
seen() { "$PG_BIN/psql" "$url" -XAtqc "SELECT max(seen_ms) FROM nodes" 2>/dev/null; }
t0=$(date +%s%3N)
for _ in $(seq 1 100); do s=$(seen); [ -n "$s" ] && [ "$s" -gt "$t0" ] && break; sleep 0.2; done
check "the node heartbeats through the new primary, without a restart" bash -c '[ -n "$1" ] && [ "$1" -gt "$2" ]' _ "$(seen)" "$t0"
sleep 1
touch "$tmp/stop-load"
wait "$load_pid"
load=$(cat "$tmp/load.log")
check "every answer during the switchover was 200 or 503 with Retry-After ($(head -1 <<<"$load"))" \
  grep -q '^load: [1-9][0-9]* requests, 0 not 200' <<<"$load"
sed 's/^/  /' <<<"$load"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER_URL/healthz")
check "the node answers 200 after the switchover" test "$code" = 200
check "the node stops cleanly" stop_server
SERVER_PID=""
finish
