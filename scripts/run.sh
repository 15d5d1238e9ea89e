#!/usr/bin/env bash
# Sets up what is missing, then runs Mingizuk: a local sync server on its embedded SQLite default
# (127.0.0.1:8787, data in $MINGIZUK_DATA_DIR/server) and the desktop app, which uses it.
# The device's data lives in $MINGIZUK_DATA_DIR (default ~/.local/share/mingizuk); the server
# stops when the app closes. Without a display (no $DISPLAY or $WAYLAND_DISPLAY) it runs the
# headless engine demo instead: a device that logs one action per run and syncs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

data="${MINGIZUK_DATA_DIR:-$HOME/.local/share/mingizuk}"
listen="${MINGIZUK_LISTEN:-127.0.0.1:8787}"
mkdir -p "$data/server"
with_display=""
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then with_display=1; fi
if [ -n "$with_display" ]; then
  cargo build --locked -q -p mingizuk-server -p mingizuk-app
else
  cargo build --locked -q -p mingizuk-server -p mingizuk-client --example demo
fi
target="$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')"

# One signing key kept with the server's data, so sessions survive a restart.
secret_file="$data/server/jwt_secret"
if [ ! -s "$secret_file" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 > "$secret_file")
fi

server_pid=""
server="${MINGIZUK_SERVER:-http://$listen}"
if [ -n "${MINGIZUK_SERVER:-}" ]; then
  echo "run: using the sync server $MINGIZUK_SERVER (MINGIZUK_SERVER); none started here"
elif (echo > "/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null; then
  echo "run: something already listens on $listen; using it as the sync server"
else
  MINGIZUK_LISTEN="$listen" MINGIZUK_DATA_DIR="$data/server" MINGIZUK_JWT_SECRET="$(cat "$secret_file")" \
    MIMALLOC_PURGE_DELAY="${MIMALLOC_PURGE_DELAY:-0}" RUST_LOG="${RUST_LOG:-warn}" "$target/debug/mingizuk-server" &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    (echo > "/dev/tcp/${listen%:*}/${listen##*:}") 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run: the sync server stopped at once (its log is above); the app still works offline" >&2
    server_pid=""
  else
    echo "run: sync server on http://$listen (data in $data/server)"
  fi
fi

if [ -n "$with_display" ]; then
  echo "run: starting the app (device data in $data)"
  MINGIZUK_DATA_DIR="$data" MINGIZUK_SERVER="$server" "$target/debug/mingizuk" "$@"
else
  echo "run: no display; running the headless engine demo instead of the app"
  MINGIZUK_DATA_DIR="$data" MINGIZUK_SERVER="$server" "$target/debug/examples/demo" "$@"
fi
