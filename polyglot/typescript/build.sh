#!/usr/bin/env bash
# Builds the TypeScript orchestrator at polyglot/typescript/dist/orchestrator.js, the port of the
# outline's TypeScript listing at dist/seed.js (one tsc project), which engine/external.py runs with
# `node` as "typescript" and "typescript-seed", and native mode's program at dist/native.js
# (polyglot/NATIVE.md; engine/native.py runs it). safety/ is not built here: safety/run.sh compiles it. Idempotent, and quick when nothing changed: `npm ci` only
# when node_modules is missing or was installed from another package-lock.json, `tsc` only when a
# source, tsconfig.json or the dependencies changed. Works offline once node_modules or the npm
# cache holds the lockfile's packages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

die() { echo "polyglot/typescript: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 ||
  die "Node.js is not installed: apt-get install nodejs npm (Node 18 or newer; or see https://nodejs.org)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  die "Node.js $(node --version) is too old: 18 or newer is needed (apt-get install nodejs, or https://nodejs.org)"

stamp=node_modules/.installed-from-lock
lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -x node_modules/.bin/tsc ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock" ]; then
  command -v npm >/dev/null 2>&1 || die "npm is not installed: apt-get install npm (or see https://nodejs.org)"
  flags=(--no-audit --no-fund --loglevel=error)
  # From the npm cache alone if it has the lockfile's packages; else from the registry.
  npm ci --offline "${flags[@]}" 2>/dev/null || npm ci --prefer-offline "${flags[@]}" ||
    die "npm ci failed: the npm registry (or an npm cache holding typescript and @types/node) is needed once"
  echo "$lock" >"$stamp"
fi

if [ ! -f dist/.built ] || [ -n "$(find src tsconfig.json package.json "$stamp" -newer dist/.built -print -quit)" ]; then
  rm -rf dist
  node_modules/.bin/tsc -p .
  for program in dist/orchestrator.js dist/seed.js dist/native.js; do [ -f "$program" ] || die "tsc did not write $program"; done
  touch dist/.built
fi
