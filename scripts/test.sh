#!/usr/bin/env bash
# Sets up what is missing, then runs every test of the workspace: formatting, lints, unit and
# property tests, the engine's integration tests, and a smoke run of the benchmark program.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# Thousands of random offline histories per run (override with PROPTEST_CASES).
export PROPTEST_CASES="${PROPTEST_CASES:-2000}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== benchmark smoke run (figures from a debug build are not measurements; see README)"
cargo run --locked -q -p mingizuk-bench --bin engine -- --completions 300 --days 20
cargo run --locked -q -p mingizuk-bench --bin sync -- --clients 8 --seconds 1 --days 3 --docs 10 --repeat 1 --with-node --js-clients 4
# Chat fan-out: our relay on both backends and the Socket.IO baseline, 20 clients, 1 s per phase.
chat_baseline=""
command -v node >/dev/null 2>&1 && chat_baseline="--with-node"
cargo run --locked -q -p mingizuk-bench --bin chat -- --clients 20 --room-size 10 --seconds 1 --backend both $chat_baseline
