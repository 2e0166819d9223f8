#!/usr/bin/env bash
# Builds the Go orchestrator at polyglot/go/bin/orchestrator and the port of the outline's Go listing at
# polyglot/go/bin/seed-orchestrator (where engine/external.py looks for them), and native mode
# (polyglot/NATIVE.md) at polyglot/go/bin/native (where engine/native.py looks for it).
# Not built here: safety/, the memory-safety demo, which is meant to be run with `go run -race` (safety/run.sh).
# Standard library only: no module download, works offline. Idempotent; Go's build cache makes a
# rebuild with nothing changed take a fraction of a second.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v go >/dev/null 2>&1; then
  echo "polyglot/go: the Go toolchain (go) is not installed: apt-get install -y golang-go (Go >= 1.19)" >&2
  exit 1
fi
# Go needs a cache directory; where the environment names none (no HOME, e.g. some CI), use a local one.
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
  export GOCACHE="$PWD/.gocache"
fi
export GOPROXY=off GOTOOLCHAIN=local  # std only: never reach for the network
go build -trimpath -o bin/orchestrator ./cmd/orchestrator
go build -trimpath -o bin/seed-orchestrator ./cmd/seed-orchestrator
go build -trimpath -o bin/native ./cmd/native
