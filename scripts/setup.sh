#!/usr/bin/env bash
# Installs what Mingizuk needs on a Debian/Ubuntu machine, only what is missing; safe to run
# again. Sourced by scripts/run.sh and scripts/test.sh (which adds what only the tests need).
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  # A freshly booted machine's unattended upgrades may hold apt's lock for a while: wait for it.
  if [ -z "$apt_updated" ]; then as_root apt-get -o DPkg::Lock::Timeout=600 update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
}

# A C toolchain for the bundled SQLite and other -sys crates.
apt_install build-essential pkg-config ca-certificates curl

# Rust: the workspace uses edition 2024 (Rust >= 1.90). Use rustup's toolchain when present;
# otherwise try Debian's packages and check the version. Cargo's bin folder is on the PATH either
# way: the tools `cargo install` puts there (tauri-driver) are found on the next run.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v cargo >/dev/null 2>&1; then
  apt_install cargo rustc
fi
rust_minor=$(rustc --version | sed -E 's/rustc 1\.([0-9]+).*/\1/')
if [ "${rust_minor:-0}" -lt 90 ]; then
  echo "setup: Rust $(rustc --version) is too old; Mingizuk needs Rust 1.90 or newer (rustup)." >&2
  exit 1
fi

# Node.js and npm (Debian packages npm apart from nodejs), checked before anything is built.
command -v node >/dev/null 2>&1 || apt_install nodejs
command -v npm >/dev/null 2>&1 || apt_install npm
node_version=$(node --version | sed -E 's/^v([0-9]+)\.([0-9]+).*/\1 \2/')
read -r node_major node_minor <<< "$node_version"
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
  echo "setup: Node.js $(node --version) is too old for the app's build (Vite needs 20.19 or newer)." >&2
  exit 1
fi

# The desktop app: Tauri's system libraries (WebKitGTK 4.1 and friends), a Node.js recent enough
# for Vite, the Svelte app's npm packages, and its web assets (embedded in the app binary, so they
# are built before cargo compiles the shell).
apt_install libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev libssl-dev libxdo-dev \
  libayatana-appindicator3-dev librsvg2-dev file libdbus-1-dev \
  fonts-noto-cjk fonts-noto-color-emoji
if [ ! -f app/node_modules/.package-lock.json ] || [ app/package-lock.json -nt app/node_modules/.package-lock.json ]; then
  echo "setup: installing the app's npm packages (app/)"
  (cd app && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: building the app's web assets (app/dist)"
(cd app && npm run --silent build -- --logLevel warn)
