# Shared by the check and demo scripts: starting and stopping a tongban server.

# start_server BIN DBURL LOGFILE [extra args...]: starts on a free loopback port and
# sets SERVER_PID and SERVER_URL once the server listens.
start_server() {
  local bin=$1 db=$2 log=$3; shift 3
  "$bin" serve --listen 127.0.0.1:0 --db "$db" --web web/dist "$@" >"$log" 2>&1 &
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

# bootstrap_admin BIN DBURL: the first platform administrator of a fresh database
# (`tongban admin bootstrap`); sets ADMIN_LOGIN, ADMIN_PASSWORD and ADMIN_TOTP_SECRET.
bootstrap_admin() {
  local out
  ADMIN_LOGIN=11010519491231002X
  out=$("$1" admin bootstrap --db "$2" --name 平台管理员 --id-number "$ADMIN_LOGIN" \
    --phone 13800000000) || { echo "admin bootstrap failed: $out"; return 1; }
  ADMIN_PASSWORD=$(sed -n 's/^password: //p' <<<"$out")
  ADMIN_TOTP_SECRET=$(sed -n 's/^totp: .*secret=\([A-Z2-7]*\).*/\1/p' <<<"$out")
  [ -n "$ADMIN_PASSWORD" ] && [ -n "$ADMIN_TOTP_SECRET" ] || { echo "admin bootstrap: no password or TOTP secret in: $out"; return 1; }
}

# admin_login URL: log the bootstrapped administrator in through the API (password and
# a TOTP code from oathtool) and export the bearer token as TONGBAN_ADMIN_TOKEN, which
# the API cases use as {{admin_token}}.
admin_login() {
  local code body
  code=$(oathtool --totp -b "$ADMIN_TOTP_SECRET") || return 1
  body=$(curl -sS -X POST "$1/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"login\":\"$ADMIN_LOGIN\",\"password\":\"$ADMIN_PASSWORD\",\"kind\":\"staff\",\"totp\":\"$code\",\"bearer\":true}") || return 1
  TONGBAN_ADMIN_TOKEN=$(node -e 'const b = JSON.parse(process.argv[1]); if (!b.access_token) process.exit(1); console.log(b.access_token)' "$body") \
    || { echo "admin login failed: $body"; return 1; }
  export TONGBAN_ADMIN_TOKEN ADMIN_TOTP_SECRET
}
