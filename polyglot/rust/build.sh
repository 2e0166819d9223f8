#!/usr/bin/env bash
# Build the Rust orchestrator at polyglot/rust/target/release/orchestrator, the port of the outline's
# listing at target/release/seed-orchestrator (engine/external.py runs them as "rust" and "rust-seed"),
# and the native-mode program at target/release/native (engine/native.py; its own crate, native/).
# Idempotent; cargo makes it fast when nothing changed. Offline on Debian: see cargo-env.sh.
# Not built here: safety/, the memory-safety demo, which does not compile on purpose (safety/run.sh).
set -euo pipefail
cd "$(dirname "$0")"
source ./cargo-env.sh
cargo build --release --quiet ${CARGO_SOURCE[@]+"${CARGO_SOURCE[@]}"}
need_debian_crates librust-tokio-dev tokio tokio-macros
cargo build --release --quiet "${NATIVE_CARGO[@]}" ${CARGO_SOURCE[@]+"${CARGO_SOURCE[@]}"}
