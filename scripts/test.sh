#!/usr/bin/env bash
# Installs what is missing, builds wslb with its tests and benchmarks, and runs the whole ctest
# suite. Idempotent. Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

BUILD_DIR=${WSLB_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j2

# Load tests hold thousands of sockets: raise the soft open-files limit to the hard limit.
ulimit -n "$(ulimit -Hn)"

cd "$BUILD_DIR"
ctest --output-on-failure -j2 --timeout 600 "$@"
