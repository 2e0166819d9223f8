#!/usr/bin/env bash
# Build the Rust orchestrator at polyglot/rust/target/release/orchestrator (engine/external.py runs it).
# Idempotent; cargo makes it fast when nothing changed. Offline on Debian: see cargo-env.sh.
set -euo pipefail
cd "$(dirname "$0")"
source ./cargo-env.sh
cargo build --release --quiet ${CARGO_SOURCE[@]+"${CARGO_SOURCE[@]}"}
