#!/usr/bin/env bash
# Run the unit tests (cargo test): the orchestrator's rules in src/core.rs and loop in src/main.rs, and the
# listing's port in src/seed/.
set -euo pipefail
cd "$(dirname "$0")"
source ./cargo-env.sh
cargo test --release --quiet ${CARGO_SOURCE[@]+"${CARGO_SOURCE[@]}"}
