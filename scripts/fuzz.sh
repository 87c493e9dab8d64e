#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan + fuzzer coverage) in
# build-fuzz/ and runs each one for a bounded time on a temporary copy of its seed corpus
# (tests/fuzz/corpus/<target>/ is never written to). Fails if any target crashes, leaks, times
# out or breaks an invariant; the input is then kept in build-fuzz/findings/.
# See docs/testing.md.
#
# Environment:
#   WSLB_FUZZ_SECONDS   run time per target in seconds (default 20)
#   WSLB_FUZZ_TARGETS   space-separated subset of: http_upgrade frame_tracker config_loader
#                       xds_assignment (default: all)
#   WSLB_FUZZ_BUILD_DIR build directory (default build-fuzz)
#   WSLB_JOBS           parallel compile jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

FUZZ_SECONDS=${WSLB_FUZZ_SECONDS:-20}
TARGETS=${WSLB_FUZZ_TARGETS:-"http_upgrade frame_tracker config_loader xds_assignment"}
BUILD_DIR=${WSLB_FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${WSLB_JOBS:-2}

# clang and its runtime libraries (libFuzzer: libclang-rt-14-dev) come with the project's packages.
bash scripts/install-deps.sh

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DWSLB_FUZZ=ON -DWSLB_SANITIZE=address,undefined -DWSLB_BUILD_TESTS=OFF \
  -DWSLB_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target wslb_fuzz_targets

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wslb-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FINDINGS=$ROOT/$BUILD_DIR/findings
mkdir -p "$FINDINGS"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
printf '%-16s %12s %10s %8s  %s\n' target executions exec/s corpus result >"$WORK/summary"
for target in $TARGETS; do
  binary=$BUILD_DIR/fuzz/${target}_fuzz
  seeds=tests/fuzz/corpus/$target
  if [ ! -x "$binary" ] || [ ! -d "$seeds" ]; then
    echo "fuzz: unknown target '$target'" >&2
    exit 2
  fi
  corpus=$WORK/$target
  cp -r "$seeds" "$corpus"
  log=$WORK/$target.log
  echo "fuzz: $target for ${FUZZ_SECONDS}s ($(find "$seeds" -type f | wc -l) seeds)"
  status=0
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds memory (the machine is
  # shared); -print_final_stats gives the execution count.
  "$binary" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$FINDINGS/$target-" "$corpus" >"$log" 2>&1 ||
    status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    echo "fuzz: $target FAILED (exit $status); last lines of its log:" >&2
    tail -n 60 "$log" >&2
    cp "$log" "$FINDINGS/$target.log"
    result="FAILED"
  else
    result=ok
  fi
  printf '%-16s %12s %10s %8s  %s\n' "$target" "${runs:-?}" "${rate:-?}" "$size" "$result" \
    >>"$WORK/summary"
done

cat "$WORK/summary"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: failing targets: ${failed[*]}; inputs in $FINDINGS/ (reproduce: $BUILD_DIR/fuzz/<target>_fuzz <input>)" >&2
  exit 1
fi
