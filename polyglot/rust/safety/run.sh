#!/usr/bin/env bash
# Rust's demo: the naive shared-map update is refused at compile time; locking each access separately
# compiles and still loses updates (a logic race); the fixed one runs.
# Prints what the toolchain says and exits 0 either way: the compiler's report is the product.
set -uo pipefail
cd "$(dirname "$0")"
if ! command -v cargo >/dev/null 2>&1; then
  echo "rust: cargo is not installed; install it with rustup (https://rustup.rs) or: apt-get install cargo"
  exit 0
fi
# std only: --offline is all it takes, on Debian's registry or crates.io alike (../build.sh needs more).
echo "\$ cargo build --offline --bin naive"
cargo build --offline --bin naive 2>&1
echo "(cargo exited with status $?)"
echo
echo "\$ cargo run --offline --quiet --bin locked-twice"
cargo run --offline --quiet --bin locked-twice 2>&1
echo
echo "\$ cargo run --offline --quiet --bin fixed"
cargo run --offline --quiet --bin fixed 2>&1
exit 0
