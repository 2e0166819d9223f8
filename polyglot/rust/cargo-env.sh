# Sourced by build.sh and test.sh: check the toolchain, and choose where crates come from.
# (They expand CARGO_SOURCE as ${CARGO_SOURCE[@]+...}: bash 3.2, macOS's, rejects an empty array under set -u.)
if ! command -v cargo >/dev/null 2>&1; then
  echo "rust: cargo is not installed; install it with rustup (https://rustup.rs) or: apt-get install cargo" >&2
  exit 1
fi
# Debian packages crates as source under /usr/share/cargo/registry (apt-get install librust-serde-dev
# librust-serde-derive-dev librust-serde-json-dev, and librust-tokio-dev for the native program).
# Where that directory exists, build from it offline; elsewhere (a laptop with crates.io) cargo fetches
# as usual. No .cargo/config is committed for this.
CARGO_SOURCE=()
DEBIAN_REGISTRY=/usr/share/cargo/registry

# need_debian_crates "PACKAGES" CRATE...: with Debian's registry, stop (exit 1) naming the apt packages
# to install if a crate is missing. Without it, crates.io provides them: nothing to check.
need_debian_crates() {
  local packages=$1 crate
  shift
  [ -d "$DEBIAN_REGISTRY" ] || return 0
  for crate in "$@"; do
    if ! compgen -G "$DEBIAN_REGISTRY/$crate-[0-9]*" >/dev/null; then
      echo "rust: the $crate crate is not installed in $DEBIAN_REGISTRY; install it with: apt-get install $packages" >&2
      exit 1
    fi
  done
}

need_debian_crates "librust-serde-dev librust-serde-derive-dev librust-serde-json-dev" serde serde_derive serde_json
if [ -d "$DEBIAN_REGISTRY" ]; then
  CARGO_SOURCE=(--offline --config 'source.crates-io.replace-with="debian"'
                --config "source.debian.directory=\"$DEBIAN_REGISTRY\"")
fi

# The native-mode program (polyglot/NATIVE.md) is its own crate, native/, so that tokio is a dependency
# of that program only; it builds into this crate's target/, as target/release/native.
NATIVE_CARGO=(--manifest-path native/Cargo.toml --target-dir target)
