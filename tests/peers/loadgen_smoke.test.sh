#!/usr/bin/env bash
# Smoke test of wslb-loadgen (bench/loadgen): every mode runs for about a second against wslb in
# front of two wslb-echo backends, and once against a wslb-echo directly (the baseline). Each run
# must exit 0 with no errors and a non-zero rate in its JSON line.
#
# Usage: loadgen_smoke.test.sh <path-to-wslb> <path-to-wslb-echo>
#   LOADGEN=path     the load generator (default: <dir of wslb>/bench/wslb-loadgen)
#   PEER_KEEP_WORK=1 keep the temporary directory with configs and logs
set -uo pipefail
# shellcheck source=peer_lib.sh
source "$(dirname "$0")/peer_lib.sh"

WSLB=${1:-}
ECHO=${2:-}
LOADGEN=${LOADGEN:-$(dirname "$WSLB")/bench/wslb-loadgen}

[ -x "$WSLB" ] || die "wslb binary not found: '$WSLB'"
[ -x "$ECHO" ] || die "wslb-echo binary not found: '$ECHO'"
[ -x "$LOADGEN" ] || die "wslb-loadgen not found: '$LOADGEN' (build the wslb-loadgen target)"
command -v curl >/dev/null 2>&1 || die "curl not found"
PY=$(command -v python3 || command -v /usr/bin/python3) || die "python3 not found"

BACKEND_PORTS=()
BACKEND_PIDS=()
for i in 1 2; do
  start_bg "echo$i" "$ECHO" --port 0 --id "echo-$i" -l warning
  BACKEND_PIDS+=("$LAST_PID")
  wait_listening "echo$i" "$LAST_PID" 10
  BACKEND_PORTS+=("$LISTEN_PORT")
done
echo "backends (wslb-echo) on 127.0.0.1:${BACKEND_PORTS[0]} and 127.0.0.1:${BACKEND_PORTS[1]}"

start_wslb "$WSLB" --concurrency 1 -l warning -- "${BACKEND_PORTS[@]}"
echo "wslb listening on 127.0.0.1:$LISTENER_PORT (admin $ADMIN_PORT)"

# run_loadgen NAME EXPECT_OPEN LOADGEN-ARGS...: runs the load generator with --json and checks
# exit 0, errors 0, a non-zero rate and, for idle (EXPECT_OPEN > 0), that many open connections
# and a target RSS.
run_loadgen() {
  local name=$1 expect_open=$2 rc
  shift 2
  echo "--- $name"
  timeout --kill-after=5 60 "$LOADGEN" "$@" --json >"$PEER_WORK/$name.json" 2>"$PEER_WORK/$name.txt"
  rc=$?
  cat "$PEER_WORK/$name.txt"
  if [ "$rc" -ne 0 ]; then
    PEER_FAILED=$((PEER_FAILED + 1))
    [ "$rc" -eq 124 ] && echo "timed out"
    echo "FAIL: $name (exit $rc)"
    return
  fi
  if "$PY" - "$PEER_WORK/$name.json" "$expect_open" <<'PYEOF'; then
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
if len(lines) != 1:
    sys.exit("expected exactly one JSON line on stdout, got %d" % len(lines))
d = json.loads(lines[0])
expect_open = int(sys.argv[2])
for key in ("mode", "connections", "size", "duration_s", "messages", "handshakes", "bytes",
            "rate", "p50_us", "p99_us", "p999_us", "target_cpu_s", "loadgen_cpu_s",
            "target_rss_kb_before", "target_rss_kb_after", "errors"):
    if key not in d:
        sys.exit("missing key " + key)
if d["errors"] != 0:
    sys.exit("errors: %s (%s)" % (d["errors"], d.get("first_error")))
if not d["rate"] > 0:
    sys.exit("rate is %s" % d["rate"])
if not d["p50_us"] > 0:
    sys.exit("p50_us is %s" % d["p50_us"])
if d["mode"] in ("echo", "throughput") and not (d["messages"] > 0 and d["bytes"] > 0):
    sys.exit("no messages measured")
if d["mode"] == "handshake" and not d["handshakes"] > 0:
    sys.exit("no handshakes measured")
if expect_open > 0:
    if d["open"] != expect_open:
        sys.exit("open %s, expected %d" % (d["open"], expect_open))
    if not (d["target_rss_kb_before"] and d["target_rss_kb_after"]):
        sys.exit("no target RSS")
if d["target_cpu_s"] is None:
    sys.exit("no target CPU time")
PYEOF
    PEER_PASSED=$((PEER_PASSED + 1))
    echo "PASS: $name"
  else
    PEER_FAILED=$((PEER_FAILED + 1))
    echo "FAIL: $name (JSON check)"
    cat "$PEER_WORK/$name.json"
  fi
}

COMMON=(--duration 1 --warmup 0.2)
PROXY=(--port "$LISTENER_PORT" --pid "$WSLB_PID")
DIRECT=(--port "${BACKEND_PORTS[0]}" --pid "${BACKEND_PIDS[0]}")

run_loadgen proxy_handshake 0 --mode handshake --connections 4 --count 2000 "${COMMON[@]}" "${PROXY[@]}"
run_loadgen proxy_echo 0 --mode echo --connections 8 --count 20000 "${COMMON[@]}" "${PROXY[@]}"
run_loadgen proxy_throughput 0 --mode throughput --connections 2 --count 2000 "${COMMON[@]}" "${PROXY[@]}"
run_loadgen proxy_idle 200 --mode idle --connections 200 "${COMMON[@]}" "${PROXY[@]}"
run_loadgen proxy_echo_2_threads 0 --mode echo --connections 8 --threads 2 --count 20000 \
  "${COMMON[@]}" "${PROXY[@]}"

run_loadgen direct_handshake 0 --mode handshake --connections 4 --count 2000 "${COMMON[@]}" "${DIRECT[@]}"
run_loadgen direct_echo 0 --mode echo --connections 8 --count 20000 "${COMMON[@]}" "${DIRECT[@]}"
run_loadgen direct_throughput 0 --mode throughput --connections 2 --count 2000 "${COMMON[@]}" "${DIRECT[@]}"
run_loadgen direct_idle 200 --mode idle --connections 200 "${COMMON[@]}" "${DIRECT[@]}"

# A host outside loopback is refused before anything is sent.
echo "--- refuses_non_loopback"
if "$LOADGEN" --mode echo --host 192.0.2.1 --port 80 --duration 1 >"$PEER_WORK/refuse.txt" 2>&1; then
  PEER_FAILED=$((PEER_FAILED + 1))
  echo "FAIL: refuses_non_loopback (exit 0)"
elif grep -q "loopback" "$PEER_WORK/refuse.txt"; then
  PEER_PASSED=$((PEER_PASSED + 1))
  echo "PASS: refuses_non_loopback"
else
  PEER_FAILED=$((PEER_FAILED + 1))
  cat "$PEER_WORK/refuse.txt"
  echo "FAIL: refuses_non_loopback (no reason given)"
fi

if ! kill -0 "$WSLB_PID" 2>/dev/null; then
  PEER_FAILED=$((PEER_FAILED + 1))
  echo "FAIL: wslb exited during the test"
fi
finish
