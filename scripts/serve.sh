#!/usr/bin/env bash
# Sets up a fresh machine and starts the server (embedded storage in ./storage).
# Extra arguments go to `vecinfer serve`, e.g. --grpc-port 6334 --storage-dir /data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/vecinfer serve "$@"
