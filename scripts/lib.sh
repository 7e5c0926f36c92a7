# Shared by the check and demo scripts: starting and stopping a tongban server.

# start_server BIN DBURL LOGFILE [extra args...]: starts on a free loopback port and
# sets SERVER_PID and SERVER_URL once the server listens.
start_server() {
  local bin=$1 db=$2 log=$3; shift 3
  "$bin" serve --listen 127.0.0.1:0 --db "$db" --web web/dist \
    --admin-token "${TONGBAN_ADMIN_TOKEN:-test-admin-token}" "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  local port="" i
  for i in $(seq 1 200); do
    port=$( (grep -o 'port [0-9]*' "$log" 2>/dev/null || true) | head -1 | cut -d' ' -f2)
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break  # it exited: say why below
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "server did not start:"; cat "$log"; return 1
  fi
  SERVER_URL="http://127.0.0.1:$port"
}

# stop_server: SIGTERM, and the server must exit 0 on its own (graceful shutdown).
stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || return 1
  local rc=0
  wait "$SERVER_PID" || rc=$?
  return $rc
}
