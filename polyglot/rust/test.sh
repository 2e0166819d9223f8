#!/usr/bin/env bash
# Run the Rust orchestrator's own unit tests (cargo test): rules in src/core.rs, the loop in src/main.rs.
set -euo pipefail
cd "$(dirname "$0")"
source ./cargo-env.sh
cargo test --release --quiet ${CARGO_SOURCE[@]+"${CARGO_SOURCE[@]}"}
