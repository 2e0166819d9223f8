#!/usr/bin/env bash
# TypeScript's demo: the check-then-act across an `await` type-checks (strict tsc: no error) and runs;
# its output shows the lost update, then the fixed version. Exits 0 either way: the output is the product.
# Compiles into a temporary directory: nothing is written under polyglot/typescript (dist/ is build.sh's).
set -uo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1; then
  echo "typescript: Node.js is not installed: apt-get install nodejs npm (Node 18 or newer)"
  exit 0
fi
if [ ! -x ../node_modules/.bin/tsc ] && ! ../build.sh >/dev/null; then
  echo "typescript: tsc is not installed and ../build.sh could not install it (npm ci needs the registry once)"
  exit 0
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "\$ tsc -p safety/tsconfig.json    # strict, as the project"
../node_modules/.bin/tsc -p tsconfig.json --outDir "$out" 2>&1
status=$?
if [ "$status" = 0 ]; then echo "(tsc exited with status 0: no error, no warning; the bug type-checks)"
else echo "(tsc exited with status $status)"; fi
echo
for version in naive fixed; do
  echo "\$ node withdraw.js $version"
  node "$out/withdraw.js" "$version" 2>&1
  echo "(node exited with status $?)"
  echo
done
exit 0
