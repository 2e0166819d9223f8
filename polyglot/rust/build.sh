#!/usr/bin/env bash
# Build the Rust orchestrator at polyglot/rust/target/release/orchestrator, and the port of the outline's
# listing at target/release/seed-orchestrator (engine/external.py runs them as "rust" and "rust-seed").
# Idempotent; cargo makes it fast when nothing changed. Offline on Debian: see cargo-env.sh.
set -euo pipefail
cd "$(dirname "$0")"
source ./cargo-env.sh
cargo build --release --quiet ${CARGO_SOURCE[@]+"${CARGO_SOURCE[@]}"}
