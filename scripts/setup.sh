#!/usr/bin/env bash
# Creates .venv and installs vecinfer with everything it needs (idempotent).
#   bash scripts/setup.sh          # runtime only
#   bash scripts/setup.sh --test   # plus the test tools
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
.venv/bin/python -m pip install --quiet -e ".${extras}"
