#!/usr/bin/env bash
# Sets up a fresh machine and runs every check: generated code fresh, buf lint, ruff, mypy, all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/python scripts/gen_proto.py --check
if [ ! -x .tools/node_modules/.bin/buf ]; then
  npm install --silent --no-audit --no-fund --prefix .tools @bufbuild/buf@1.75.0 >/dev/null
fi
if [ ! -f tests/js/node_modules/@qdrant/js-client-rest/package.json ] \
   || [ ! -f tests/js/node_modules/@qdrant/js-client-grpc/package.json ]; then
  (cd tests/js && npm ci --silent --no-audit --no-fund >/dev/null)
fi
.tools/node_modules/.bin/buf lint
echo "buf lint: ok"
.venv/bin/ruff check src tests scripts
.venv/bin/mypy
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
