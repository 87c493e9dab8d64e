#!/usr/bin/env bash
# wslb demo: three WebSocket echo pods (127.0.0.1:9001-9003) behind wslb (127.0.0.1:10000,
# admin 127.0.0.1:9901), configured by conf/demo.yaml.
#
# Usage: scripts/demo.sh            runs until Ctrl-C
#        DEMO_SECONDS=30 scripts/demo.sh   stops by itself after 30 s (automated smoke runs)
#        DEMO_SKIP_BUILD=1 ...      reuse an existing build-release/
# Stops exactly the processes it started. Re-running is fine; it fails clearly if one of its
# ports is taken by another program.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=build-release
CONFIG=conf/demo.yaml
POD_PORTS=(9001 9002 9003)
LISTENER_PORT=10000
ADMIN_PORT=9901
READY_TIMEOUT_S=20
PID_FILE=$BUILD_DIR/demo.pids
DEMO_SECONDS=${DEMO_SECONDS:-}

if [ -n "$DEMO_SECONDS" ] && ! [[ $DEMO_SECONDS =~ ^[0-9]+$ ]]; then
  echo "demo: DEMO_SECONDS must be a whole number of seconds, got '$DEMO_SECONDS'" >&2
  exit 2
fi

PIDS=()
LOG_DIR=""

# shellcheck source=scripts/lib/processes.sh
. "$ROOT/scripts/lib/processes.sh"

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "${#PIDS[@]}" -gt 0 ]; then
    echo
    echo "demo: stopping wslb and the pods (pids ${PIDS[*]})"
    stop_pids "${PIDS[@]}"
  fi
  rm -f "$PID_FILE"
  [ -n "$LOG_DIR" ] && echo "demo: logs are in $LOG_DIR"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
  echo "demo: $*" >&2
  exit 1
}

show_log_and_die() {
  local log=$1
  shift
  echo "demo: $*" >&2
  [ -f "$log" ] && tail -n 50 "$log" >&2
  exit 1
}

# A previous run that was killed with SIGKILL cannot clean up; its pid file names what it
# started. Stop those processes only if they still run our binaries.
stop_leftovers() {
  [ -f "$PID_FILE" ] || return 0
  local pid exe leftovers=()
  while read -r pid; do
    [[ $pid =~ ^[0-9]+$ ]] || continue
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    exe=${exe% (deleted)}
    if [ "$exe" = "$ROOT/$BUILD_DIR/wslb" ] || [ "$exe" = "$ROOT/$BUILD_DIR/wslb-echo" ]; then
      leftovers+=("$pid")
    fi
  done <"$PID_FILE"
  if [ "${#leftovers[@]}" -gt 0 ]; then
    echo "demo: stopping processes left by a previous demo run (pids ${leftovers[*]})"
    stop_pids "${leftovers[@]}"
  fi
  rm -f "$PID_FILE"
}

port_in_use() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

check_port_free() {
  local port=$1
  if port_in_use "$port"; then
    echo "demo: port 127.0.0.1:$port is already taken by another program:" >&2
    if command -v ss >/dev/null 2>&1; then
      ss -ltnpH "sport = :$port" >&2 || true
    fi
    die "free it (or stop that program) and run the demo again"
  fi
}

# Prints a python3 that has the websockets module (Debian's python3-websockets lives in
# /usr/bin/python3, which another python3 on PATH may shadow).
websockets_python() {
  local candidate
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import websockets' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo python3
}

start_bg() {
  local name=$1
  shift
  "$@" >"$LOG_DIR/$name.out" 2>"$LOG_DIR/$name.log" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  echo "$LAST_PID" >>"$PID_FILE"
}

wait_listening() {
  local name=$1 pid=$2 i
  for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
    grep -q '^listening on ' "$LOG_DIR/$name.out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || show_log_and_die "$LOG_DIR/$name.log" "$name exited at start:"
    sleep 0.1
  done
  show_log_and_die "$LOG_DIR/$name.log" "$name did not start within ${READY_TIMEOUT_S}s:"
}

wait_ready() {
  local pid=$1 i
  for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
    curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$ADMIN_PORT/ready" && return 0
    kill -0 "$pid" 2>/dev/null || show_log_and_die "$LOG_DIR/wslb.log" "wslb exited at start:"
    sleep 0.1
  done
  show_log_and_die "$LOG_DIR/wslb.log" \
    "wslb not ready on http://127.0.0.1:$ADMIN_PORT/ready within ${READY_TIMEOUT_S}s:"
}

# --- 1. dependencies and build ---------------------------------------------------------------
echo "demo: checking dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh
if [ "${DEMO_SKIP_BUILD:-0}" != 1 ]; then
  echo "demo: building Release into $BUILD_DIR/"
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DWSLB_BUILD_TESTS=OFF \
    -DWSLB_BUILD_BENCH=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j2
fi
[ -x "$BUILD_DIR/wslb" ] || die "$BUILD_DIR/wslb was not built"
[ -x "$BUILD_DIR/wslb-echo" ] || die "$BUILD_DIR/wslb-echo was not built"
[ -f "$CONFIG" ] || die "$CONFIG not found"

# --- 2. processes ----------------------------------------------------------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || echo "demo: could not raise ulimit -n (now $(ulimit -n))"
stop_leftovers
for port in "${POD_PORTS[@]}" "$LISTENER_PORT" "$ADMIN_PORT"; do
  check_port_free "$port"
done

LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wslb-demo.XXXXXX")
for i in "${!POD_PORTS[@]}"; do
  pod="pod-$((i + 1))"
  start_bg "$pod" "$BUILD_DIR/wslb-echo" --address 127.0.0.1 --port "${POD_PORTS[$i]}" --id "$pod"
  wait_listening "$pod" "$LAST_PID"
  echo "demo: $pod listening on 127.0.0.1:${POD_PORTS[$i]} (pid $LAST_PID)"
done

start_bg wslb "$BUILD_DIR/wslb" -c "$CONFIG" -l info
WSLB_PID=$LAST_PID
wait_ready "$WSLB_PID"
echo "demo: wslb ready on ws://127.0.0.1:$LISTENER_PORT/ (admin http://127.0.0.1:$ADMIN_PORT, pid $WSLB_PID)"

# --- 3. how to use it ------------------------------------------------------------------------
PY=$(websockets_python)
WS_MODULE="$ROOT/tests/peers/node_modules/ws"
cat <<EOF

============================================================================================
 wslb is balancing WebSockets over three echo pods.

 Talk to it interactively (type lines, each is echoed by one pod; Ctrl-D to leave):
   $PY -m websockets ws://127.0.0.1:$LISTENER_PORT/

 One message with node, showing which pod answered:
   node -e 'const W=require("$WS_MODULE"); const ws=new W("ws://127.0.0.1:$LISTENER_PORT/");
     ws.on("upgrade",r=>console.log("pod:",r.headers["x-backend-id"]));
     ws.on("open",()=>ws.send("hello")); ws.on("message",m=>{console.log("echo:",String(m));ws.close()})'

 Hold 30 connections open (Ctrl-C to drop them) and watch them spread over the pods:
   node -e 'const W=require("$WS_MODULE"); for(let i=0;i<30;i++){const ws=new W("ws://127.0.0.1:$LISTENER_PORT/");
     ws.on("upgrade",r=>console.log(i,r.headers["x-backend-id"]))}'

 Connections per pod (live, in a browser): http://127.0.0.1:$ADMIN_PORT/
   curl -s 127.0.0.1:$ADMIN_PORT/clusters | grep cx_active
   curl -s 127.0.0.1:$ADMIN_PORT/stats/prometheus | grep endpoint_cx_active
   curl -s 127.0.0.1:9001/stats; curl -s 127.0.0.1:9002/stats; curl -s 127.0.0.1:9003/stats

 Logs: $LOG_DIR
============================================================================================
EOF

# --- 4. run until Ctrl-C (or DEMO_SECONDS) ---------------------------------------------------
if [ -n "$DEMO_SECONDS" ]; then
  echo "demo: running for $DEMO_SECONDS s (DEMO_SECONDS)"
else
  echo "demo: press Ctrl-C to stop"
fi
SECONDS=0
while [ -z "$DEMO_SECONDS" ] || [ "$SECONDS" -lt "$DEMO_SECONDS" ]; do
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null && rc=0 || rc=$?
      die "process $pid exited unexpectedly (status $rc); see the logs in $LOG_DIR"
    fi
  done
  sleep 1
done
echo "demo: DEMO_SECONDS elapsed"
