#!/usr/bin/env bash
# make deps: install the Debian and npm packages tongban needs that are missing.
# Idempotent; works as root on a fresh Debian 12 machine (uses sudo otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  gcc make pkg-config meson ninja-build            # build
  libmicrohttpd-dev libjansson-dev libsqlite3-dev  # server
  libopencc-dev opencc libssl-dev libsodium-dev    # text folding, crypto
  liboath-dev oathtool                             # TOTP (and its CLI for the tests)
  libmagic-dev                                     # upload type checks (cases/blob.c)
  libpq-dev postgresql-15                          # PostgreSQL backend and its tests
  haproxy patroni etcd-server                      # the multi-node and switchover tests
  libcmocka-dev                                    # unit tests
  nodejs npm chromium fonts-noto-cjk               # portal build and browser tests
  curl ca-certificates sqlite3 openssl
)
[ "${1:-}" = bench ] && pkgs+=(nginx-light wrk sqlite3)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# A machine may have Node from elsewhere; only ask Debian for it when node is absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=($(printf '%s\n' "${missing[@]}" | grep -vx -e nodejs -e npm || true))
fi
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "deps: ok"
