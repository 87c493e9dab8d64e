#!/usr/bin/env bash
# Installs what is missing, builds wslb with its tests and benchmarks, and runs the whole ctest
# suite; then the sanitizer stages (the suite under ASan+UBSan, the threaded tests under TSan)
# and the fuzz targets for a bounded time (docs/testing.md). Prints the time of every stage.
# Idempotent. Usage: scripts/test.sh [extra ctest arguments for the main suite]
# Environment:
#   WSLB_SANITIZERS    the sanitizer stages (scripts/sanitize.sh) to run: "asan tsan" by default
#                      (ASan+UBSan over the suite, TSan over the unit and integration tests),
#                      "asan" or "tsan" for one, 0 for none (a quick local run; CI runs both).
#                      docs/testing.md has what they cost.
#   WSLB_SKIP_FUZZ=1   skip scripts/fuzz.sh (WSLB_FUZZ_SECONDS sets its time per target)
set -euo pipefail
cd "$(dirname "$0")/.."

declare -a STAGE_TIMES=()
stage_done() {  # stage_done <name> <start>
  STAGE_TIMES+=("$(printf '%-12s %5ds' "$1" $((SECONDS - $2)))")
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

case ${WSLB_SANITIZERS:-1} in
  0) SANITIZER_STAGES=() ;;
  1) SANITIZER_STAGES=(asan tsan) ;;
  *) read -r -a SANITIZER_STAGES <<<"$WSLB_SANITIZERS" ;;
esac
for stage in "${SANITIZER_STAGES[@]}"; do
  start=$SECONDS
  bash scripts/sanitize.sh "$stage" || { stage_done "$stage FAILED" $start; exit 1; }
  stage_done "$stage" $start
done
[ "${#SANITIZER_STAGES[@]}" -gt 0 ] || echo "test: sanitizer stages skipped (WSLB_SANITIZERS=0)"

if [ "${WSLB_SKIP_FUZZ:-0}" != 1 ]; then
  start=$SECONDS
  bash scripts/fuzz.sh
  stage_done fuzz $start
else
  echo "test: fuzzing skipped (WSLB_SKIP_FUZZ=1)"
fi
