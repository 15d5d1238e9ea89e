#!/usr/bin/env bash
# Sets up what is missing, then runs every test of the workspace: formatting, lints, unit and
# property tests, the engine's integration tests, and a smoke run of the benchmark program.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# Debian's cargo comes without `cargo fmt` and `cargo clippy`: they are packaged apart.
if [ "$(command -v cargo)" = /usr/bin/cargo ]; then
  apt_install rustfmt rust-clippy
fi

# MariaDB for the server's MySQL backend tests: install it if missing, start it if stopped (as the
# mysql user: Debian's configuration leaves `user = mysql` commented out, and mariadbd refuses to
# run as root).
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  apt_install mariadb-server
fi
if ! (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null; then
  echo "test: starting MariaDB"
  as_root mkdir -p /run/mysqld && as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql || true
  for _ in $(seq 1 30); do (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null && break; sleep 1; done
  if ! (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null; then
    echo "test: MariaDB did not start on 127.0.0.1:3306" >&2
    exit 1
  fi
fi
# The tests and benchmarks sign in as root with no password over TCP unless told otherwise. A
# fresh Debian MariaDB lets root in only through its socket: then an account of their own is made
# through the socket (once; the statements are safe to repeat).
mariadb_client="$(command -v mariadb || command -v mysql || true)"
if [ -z "${MINGIZUK_TEST_MYSQL_URL:-}" ] && [ -n "$mariadb_client" ] &&
  ! "$mariadb_client" --protocol=TCP -h 127.0.0.1 -P 3306 -u root -e 'SELECT 1' >/dev/null 2>&1; then
  echo "test: MariaDB refuses root over TCP; the tests use the account mingizuk_test"
  as_root "$mariadb_client" -e "CREATE USER IF NOT EXISTS 'mingizuk_test'@'127.0.0.1' IDENTIFIED BY 'mingizuk_test';
    CREATE USER IF NOT EXISTS 'mingizuk_test'@'localhost' IDENTIFIED BY 'mingizuk_test';
    GRANT ALL PRIVILEGES ON *.* TO 'mingizuk_test'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON *.* TO 'mingizuk_test'@'localhost';"
  export MINGIZUK_TEST_MYSQL_URL="mysql://mingizuk_test:mingizuk_test@127.0.0.1:3306"
  export MINGIZUK_BENCH_MYSQL_URL="${MINGIZUK_BENCH_MYSQL_URL:-$MINGIZUK_TEST_MYSQL_URL}"
fi

# The JavaScript automerge-repo packages: the interop test syncs the JavaScript client through our
# server, and the sync benchmark runs the reference automerge-repo server beside ours.
if [ ! -f interop/node_modules/.package-lock.json ] || [ interop/package-lock.json -nt interop/node_modules/.package-lock.json ]; then
  echo "test: installing the JavaScript automerge-repo packages (interop/)"
  # `npm install` (not `npm ci`): it keeps the locked versions, and npm 11's `npm ci` refuses this
  # lock file over cbor-extract's platform packages, which npm leaves out of it.
  (cd interop && npm install --no-audit --no-fund --loglevel=error)
fi

# The end-to-end tests run the real app in a real window: an X server in memory (Xvfb), the
# WebKitGTK WebDriver and tauri-driver between it and the tests.
apt_install xvfb xauth webkit2gtk-driver
# The reminders reach a real notification server (dunst, on a private D-Bus), whose popup on the
# X screen is photographed with xwd.
apt_install dunst x11-apps
# The session's tokens in a real OS keychain: GNOME Keyring on a private D-Bus.
apt_install gnome-keyring dbus-daemon
# Redis: the chat tests run two server instances whose rooms fan out through it.
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
fi
if ! (echo > /dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "setup: starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
  for _ in $(seq 1 30); do (echo > /dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 1; done
  if ! (echo > /dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    echo "test: Redis did not start on 127.0.0.1:6379" >&2
    exit 1
  fi
fi
if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "setup: installing tauri-driver"
  cargo install tauri-driver --locked --version '^2'
fi

# A one-off build (CI's fresh clone) gains nothing from incremental caches but their disk space.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

# Thousands of random offline histories per run (override with PROPTEST_CASES).
export PROPTEST_CASES="${PROPTEST_CASES:-2000}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== app: svelte-check, TypeScript, Vitest"
(cd app && npm run --silent check && npm test --silent)
echo "== cargo test"
cargo test --workspace --locked --exclude mingizuk-e2e
echo "== the session's tokens in a real keychain (GNOME Keyring on a private D-Bus, its files in a temporary folder)"
keyring_home="$(mktemp -d)"
XDG_DATA_HOME="$keyring_home" dbus-run-session -- bash -c \
  'printf mingizuk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
   cargo test --locked -q -p mingizuk-client --test tokens -- --ignored'
rm -rf "$keyring_home"
echo "== the app's types against what the shell answered (samples written by src-tauri/tests/contract.rs)"
(cd app && npm run --silent check:contract)
echo "== end to end: the desktop app under Xvfb (screenshots in target/e2e-screenshots)"
cargo build --locked -q -p mingizuk-app
xvfb-run -a -s "-screen 0 1280x1024x24" cargo test --locked -q -p mingizuk-e2e -- --test-threads=1
echo "== the Linux package (.deb, debug profile: the release one is the README's command)"
npm --prefix app exec --offline -- tauri build --debug --bundles deb --ci
target="$(cargo metadata --format-version 1 --no-deps | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')"
deb="$(ls -t "$target"/debug/bundle/deb/*.deb | head -n 1)"
dpkg-deb -c "$deb" | grep -Eq ' (\./)?usr/bin/mingizuk$' || { echo "test: $deb lacks usr/bin/mingizuk" >&2; exit 1; }
echo "test: $deb holds usr/bin/mingizuk ($(du -h "$deb" | cut -f1))"
echo "== benchmark smoke run (figures from a debug build are not measurements; see README)"
cargo run --locked -q -p mingizuk-bench --bin engine -- --completions 300 --days 20
cargo run --locked -q -p mingizuk-bench --bin sync -- --clients 8 --seconds 1 --days 3 --docs 10 --repeat 1 --with-node --js-clients 4
# Chat fan-out: our relay on both backends and the Socket.IO baseline, 20 clients, 1 s per phase.
chat_baseline=""
command -v node >/dev/null 2>&1 && chat_baseline="--with-node"
cargo run --locked -q -p mingizuk-bench --bin chat -- --clients 20 --room-size 10 --seconds 1 --backend both $chat_baseline
