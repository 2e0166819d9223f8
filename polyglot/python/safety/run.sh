#!/usr/bin/env bash
# Python's demo: no data race (the GIL), but a check-then-act lost update that nothing catches.
set -uo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
echo "\$ python naive.py"
"$PY" naive.py
echo "\$ python fixed.py"
"$PY" fixed.py
exit 0
