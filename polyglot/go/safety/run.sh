#!/usr/bin/env bash
# Go's demo: the naive shared-map update compiles, passes `go vet` and runs with a wrong answer; the race
# detector (`go run -race`) reports the data race at run time. Prints what the toolchain says and exits 0
# whatever it says: the report is the product.
set -uo pipefail
cd "$(dirname "$0")/.."   # the Go module root, polyglot/go
if ! command -v go >/dev/null 2>&1; then
  echo "go: the Go toolchain is not installed: apt-get install -y golang-go (Go >= 1.19; -race needs cgo and gcc)"
  exit 0
fi
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
  export GOCACHE="$PWD/.gocache"
fi
export GOPROXY=off GOTOOLCHAIN=local  # std only: never reach for the network
show() {
  echo "\$ $*"
  "$@" 2>&1
  echo "(exit status $?)"
  echo
}
show go vet ./safety
show go run ./safety
show go run -race ./safety
show go run -race ./safety locked-twice
show go run -race ./safety fixed
show go run ./safety increment   # no detector: the map's own check, when it catches the writes in the act
exit 0
