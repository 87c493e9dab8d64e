#!/usr/bin/env bash
# Installs what is missing, builds wslb with its tests and benchmarks, and runs the whole ctest
# suite; then the fuzz targets for a bounded time (docs/testing.md).
# Idempotent. Usage: scripts/test.sh [extra ctest arguments for the main suite]
# Environment:
#   WSLB_SANITIZERS=1  also run scripts/sanitize.sh (ASan+UBSan suite, TSan on the threaded
#                      tests); not yet part of the default run, see docs/testing.md
#   WSLB_SKIP_FUZZ=1   skip scripts/fuzz.sh (WSLB_FUZZ_SECONDS sets its time per target)
set -euo pipefail
cd "$(dirname "$0")/.."

declare -a STAGE_TIMES=()
stage_done() {  # stage_done <name> <start>
  STAGE_TIMES+=("$(printf '%-12s %4ds' "$1" $((SECONDS - $2)))")
}
report_times() {
  echo "test: stage times:"
  for t in "${STAGE_TIMES[@]}"; do echo "  $t"; done
}
trap report_times EXIT

start=$SECONDS
bash scripts/install-deps.sh

BUILD_DIR=${WSLB_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j2

# Load tests hold thousands of sockets: raise the soft open-files limit to the hard limit.
ulimit -n "$(ulimit -Hn)"

(cd "$BUILD_DIR" && ctest --output-on-failure -j2 --timeout 600 "$@")
stage_done main $start

if [ "${WSLB_SANITIZERS:-0}" = 1 ]; then
  start=$SECONDS
  bash scripts/sanitize.sh asan
  stage_done asan $start
  start=$SECONDS
  bash scripts/sanitize.sh tsan
  stage_done tsan $start
else
  echo "test: sanitizer stages not run (WSLB_SANITIZERS=1 runs them)"
fi

if [ "${WSLB_SKIP_FUZZ:-0}" != 1 ]; then
  start=$SECONDS
  bash scripts/fuzz.sh
  stage_done fuzz $start
else
  echo "test: fuzzing skipped (WSLB_SKIP_FUZZ=1)"
fi
