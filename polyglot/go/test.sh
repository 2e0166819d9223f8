#!/usr/bin/env bash
# Runs the Go orchestrator's own unit tests (the conformance tests are tests/test_polyglot.py).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v go >/dev/null 2>&1; then
  echo "polyglot/go: the Go toolchain (go) is not installed: apt-get install -y golang-go (Go >= 1.19)" >&2
  exit 1
fi
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
  export GOCACHE="$PWD/.gocache"
fi
export GOPROXY=off GOTOOLCHAIN=local  # std only: never reach for the network
go vet ./...
go test ./... "$@"
