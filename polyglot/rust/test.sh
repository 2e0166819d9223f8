#!/usr/bin/env bash
# Run the unit tests (cargo test): the orchestrator's rules in src/core.rs and loop in src/main.rs, the
# listing's port in src/seed/, and the native-mode program in native/src/.
set -euo pipefail
cd "$(dirname "$0")"
source ./cargo-env.sh
cargo test --release --quiet ${CARGO_SOURCE[@]+"${CARGO_SOURCE[@]}"}
need_debian_crates librust-tokio-dev tokio tokio-macros
cargo test --release --quiet "${NATIVE_CARGO[@]}" ${CARGO_SOURCE[@]+"${CARGO_SOURCE[@]}"}
