#!/usr/bin/env bash
# Builds, then runs the TypeScript orchestrator's own tests (node:test) on the compiled output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
./build.sh
node --test dist/*.test.js
