#!/usr/bin/env bash
# Builds wslb and its tests with sanitizers and runs them (docs/testing.md):
#   asan: GCC AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/, the ctest suite
#         (unit, integration and peer tests; the peer tests start build-asan's own wslb and
#         wslb-echo, so those run sanitized too).
#   tsan: GCC ThreadSanitizer in build-tsan/, the unit and integration tests (the parts that run
#         threads: workers, access-log writers, xDS sources, the cluster state under contention).
# Every sanitizer report of every process (test binaries and the binaries they start) is written
# to <build dir>/sanitizer-logs/; the stage fails if ctest fails or if any report was written.
#
# Usage: scripts/sanitize.sh [asan] [tsan]   (default: both)
# Environment:
#   WSLB_JOBS             parallel compile jobs (default 2)
#   WSLB_SANITIZE_CTEST   extra ctest arguments for both stages (e.g. "-R Relay")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${WSLB_JOBS:-2}
STAGES=("$@")
[ "${#STAGES[@]}" -gt 0 ] || STAGES=(asan tsan)
read -r -a EXTRA_CTEST <<<"${WSLB_SANITIZE_CTEST:-}"

# The peer tests need the node packages (scripts/test.sh has installed them already; this makes
# the script work on its own).
bash scripts/install-deps.sh >/dev/null

# Load tests hold thousands of sockets: raise the soft open-files limit to the hard limit.
ulimit -n "$(ulimit -Hn)"

# check_logs <dir>: prints every report and fails if there is one.
check_logs() {
  local dir=$1 reports
  reports=$(find "$dir" -type f -size +0 2>/dev/null | sort)
  if [ -n "$reports" ]; then
    echo "sanitize: $(echo "$reports" | wc -l) sanitizer report(s):" >&2
    for f in $reports; do
      echo "===== $f" >&2
      head -n 80 "$f" >&2
    done
    return 1
  fi
}

# run_stage <name> <build dir> <WSLB_SANITIZE> <cmake args...> -- <ctest args...>
run_stage() {
  local name=$1 dir=$2 sanitize=$3
  shift 3
  local cmake_args=() ctest_args=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do cmake_args+=("$1"); shift; done
  [ "$#" -eq 0 ] || shift
  ctest_args=("$@")

  local logs=$ROOT/$dir/sanitizer-logs
  rm -rf "$logs"
  mkdir -p "$logs"
  echo "sanitize: $name: building in $dir"
  local start=$SECONDS
  # -O1 -g1 (line tables only): what the sanitizers' documentation recommends for readable
  # reports, and about half the compile time of -O2 -g with ASan+UBSan instrumentation (a third
  # with TSan), which is what makes these stages affordable in every CI run (docs/testing.md).
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DWSLB_SANITIZE="$sanitize" "${cmake_args[@]}" >/dev/null || return 1
  # (Called in an || list, where set -e does not apply: every step checks its own status.)
  cmake --build "$dir" -j"$JOBS" || { echo "sanitize: $name: build failed" >&2; return 1; }
  local built=$SECONDS
  echo "sanitize: $name: built in $((built - start)) s"

  local status=0
  (
    cd "$dir"
    ctest --output-on-failure -j2 --timeout 900 "${ctest_args[@]}" "${EXTRA_CTEST[@]}"
  ) || status=$?
  check_logs "$logs" || status=1
  echo "sanitize: $name: build $((built - start)) s, tests $((SECONDS - built)) s"
  if [ "$status" -ne 0 ]; then
    echo "sanitize: $name FAILED" >&2
    return 1
  fi
  echo "sanitize: $name passed"
}

failed=()
for stage in "${STAGES[@]}"; do
  case $stage in
    asan)
      # Reports go to files (log_path) so those of wslb processes started by peer tests are
      # caught too; exitcode 23 marks a sanitizer failure in ctest's output.
      export ASAN_OPTIONS="log_path=$ROOT/build-asan/sanitizer-logs/asan:exitcode=23:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1"
      export UBSAN_OPTIONS="log_path=$ROOT/build-asan/sanitizer-logs/ubsan:print_stacktrace=1:halt_on_error=1"
      export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizers/lsan.supp:print_suppressions=0"
      # The benchmarks (and with them the side-by-side and load generator smoke tests, which
      # check throughput figures) are not built: a sanitized binary's figures mean nothing.
      run_stage asan build-asan address,undefined -DWSLB_BUILD_BENCH=OFF -- ||
        failed+=(asan)
      unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
      ;;
    tsan)
      export TSAN_OPTIONS="log_path=$ROOT/build-tsan/sanitizer-logs/tsan:exitcode=23:halt_on_error=0:second_deadlock_stack=1:suppressions=$ROOT/tests/sanitizers/tsan.supp"
      run_stage tsan build-tsan thread -DWSLB_BUILD_BENCH=OFF -- -L '^(unit|integration)$' ||
        failed+=(tsan)
      unset TSAN_OPTIONS
      ;;
    *)
      echo "sanitize: unknown stage '$stage' (asan, tsan)" >&2
      exit 2
      ;;
  esac
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "sanitize: failed: ${failed[*]}" >&2
  exit 1
fi
