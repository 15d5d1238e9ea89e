#!/usr/bin/env bash
# Sets up what is missing, then runs Mingizuk: a local sync server on its embedded SQLite default
# (127.0.0.1:8787, data in $MINGIZUK_DATA_DIR/server) and, until the desktop app lands, the engine
# demo: a device that logs one action per run, signs in to a local demo account and syncs.
# Device data lives in $MINGIZUK_DATA_DIR (default ~/.local/share/mingizuk); run it again to
# continue the same history. The server stops when the demo ends.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

data="${MINGIZUK_DATA_DIR:-$HOME/.local/share/mingizuk}"
listen="${MINGIZUK_LISTEN:-127.0.0.1:8787}"
mkdir -p "$data/server"
cargo build --locked -q -p mingizuk-server -p mingizuk-client --example demo
target="$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')"

# One signing key kept with the server's data, so sessions survive a restart.
secret_file="$data/server/jwt_secret"
if [ ! -s "$secret_file" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 > "$secret_file")
fi

server_pid=""
if (echo > "/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then
  echo "run: something already listens on $listen; using it as the sync server"
else
  MINGIZUK_LISTEN="$listen" MINGIZUK_DATA_DIR="$data/server" MINGIZUK_JWT_SECRET="$(cat "$secret_file")" \
    MIMALLOC_PURGE_DELAY="${MIMALLOC_PURGE_DELAY:-0}" RUST_LOG="${RUST_LOG:-warn}" "$target/debug/mingizuk-server" &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    (echo > "/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null && break
    sleep 0.1
  done
  echo "run: sync server on http://$listen (data in $data/server)"
fi

MINGIZUK_DATA_DIR="$data" MINGIZUK_SERVER="http://$listen" "$target/debug/examples/demo" "$@"
