#!/usr/bin/env bash
# Sets up what is missing, then runs Mingizuk. Until the desktop app lands, this runs the
# engine demo: a device that works offline, logs one action per run, and prints what it did.
# Its data lives in $MINGIZUK_DATA_DIR (default ~/.local/share/mingizuk); run it again to
# continue the same history.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo run --locked -q -p mingizuk-client --example demo "$@"
