#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for tests, on a free loopback port in a temporary
# directory, run as an unprivileged user (tongban-test, created when run as root).
#   scripts/pg.sh start DIR [PORT]   initdb + start; prints the database URL
#   scripts/pg.sh stop DIR           stop and remove DIR
#   scripts/pg.sh createdb DIR NAME  another database on the same server; prints its URL
# Sourcing it (". scripts/pg.sh") defines pg_start, pg_stop, pg_server and pg_createdb.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb 2>/dev/null || echo /usr/bin/initdb)")}
PG_USER=tongban-test

pg_as() { # run a command as the unprivileged server user when we are root
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

pg_free_port() { # the first port from $1 on which nothing listens
  local p=${1:-15400}
  while [ "$p" -lt 15500 ]; do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
    p=$((p + 1))
  done
  return 1
}

# pg_start DIR [PORT]: sets PG_URL (database "tongban") and PG_PORT
pg_start() {
  local dir=$1 port=${2:-}
  [ -x "$PG_BIN/initdb" ] || { echo "pg: no initdb in $PG_BIN (scripts/deps.sh installs postgresql-15)" >&2; return 1; }
  if [ "$(id -u)" = 0 ] && ! id "$PG_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" || return 1
  fi
  mkdir -p "$dir" && chmod 0755 "$dir"
  [ "$(id -u)" = 0 ] && chmod a+x "$(dirname "$dir")"  # the server user must reach it
  [ "$(id -u)" = 0 ] && chown "$PG_USER" "$dir"
  [ -n "$port" ] || port=$(pg_free_port 15400) || { echo "pg: no free port" >&2; return 1; }
  pg_as "$PG_BIN/initdb" -D "$dir/data" -A trust -U tongban -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  echo "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >"$dir/opts"
  echo "$port" >"$dir/port"
  pg_server "$dir" start || { cat "$dir/server.log" >&2; return 1; }
  PG_PORT=$port
  pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U tongban tongban || return 1
  PG_URL="postgres://tongban@127.0.0.1:$port/tongban"
}

# pg_server DIR start|stop: only the server process of DIR (its data stays), to test
# what tongban does when PostgreSQL goes away and comes back
pg_server() {
  local dir=$1
  case $2 in
    start) pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$(cat "$dir/opts")" start >/dev/null ;;
    stop) pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null ;;
  esac
}

# pg_createdb DIR NAME: prints the URL of a new database on the server of DIR
pg_createdb() {
  local dir=$1 name=$2 port
  port=$(cat "$dir/port") || return 1
  pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U tongban "$name" || return 1
  echo "postgres://tongban@127.0.0.1:$port/$name"
}

pg_stop() {
  local dir=$1
  [ -d "$dir/data" ] && pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -u
  case ${1:-} in
    start) pg_start "$2" "${3:-}" && echo "$PG_URL" ;;
    stop) pg_stop "$2" ;;
    createdb) pg_createdb "$2" "$3" ;;
    *) echo "usage: $0 start DIR [PORT] | stop DIR | createdb DIR NAME" >&2; exit 2 ;;
  esac
fi
