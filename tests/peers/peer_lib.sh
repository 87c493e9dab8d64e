# shellcheck shell=bash
# Helpers shared by tests/peers/*.test.sh (sourced, not run).
# Every wait is bounded; only the PIDs started through start_bg are stopped.

PEERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEER_PIDS=()
PEER_LOGS=()
PEER_PASSED=0
PEER_FAILED=0
PEER_WORK=$(mktemp -d "${TMPDIR:-/tmp}/wslb-peers.XXXXXX")

# shellcheck source=../../scripts/lib/processes.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib/processes.sh"

peer_cleanup() {
  stop_pids "${PEER_PIDS[@]}"
  PEER_PIDS=()
  if [ "${PEER_KEEP_WORK:-0}" = 1 ]; then
    echo "work dir kept: $PEER_WORK" >&2
  else
    rm -rf "$PEER_WORK"
  fi
}
trap peer_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

peer_dump_logs() {
  local log
  for log in "${PEER_LOGS[@]}"; do
    [ -s "$log" ] || continue
    echo "----- $(basename "$log") -----" >&2
    tail -n 200 "$log" >&2
  done
}

# die MESSAGE: prints the logs of everything started and exits 1.
die() {
  echo "FAIL: $*" >&2
  peer_dump_logs
  echo "$PEER_PASSED passed, $((PEER_FAILED + 1)) failed" >&2
  exit 1
}

# start_bg NAME CMD...: runs CMD in the background, stdout to $PEER_WORK/NAME.out and stderr
# to $PEER_WORK/NAME.log; sets LAST_PID.
start_bg() {
  local name=$1
  shift
  "$@" >"$PEER_WORK/$name.out" 2>"$PEER_WORK/$name.log" &
  LAST_PID=$!
  PEER_PIDS+=("$LAST_PID")
  PEER_LOGS+=("$PEER_WORK/$name.out" "$PEER_WORK/$name.log")
}

# wait_listening NAME PID SECONDS: waits for "listening on HOST:PORT" in NAME.out, sets
# LISTEN_PORT.
wait_listening() {
  local name=$1 pid=$2 seconds=$3 i line
  for ((i = 0; i < seconds * 10; i++)); do
    line=$(grep -m1 -o 'listening on [0-9.]*:[0-9]*' "$PEER_WORK/$name.out" 2>/dev/null || true)
    if [ -n "$line" ]; then
      LISTEN_PORT=${line##*:}
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$name exited before listening"
    sleep 0.1
  done
  die "$name did not print 'listening on' within ${seconds}s"
}

# free_port: prints a port that was free a moment ago (bind 0, read it, close).
free_port() {
  node -e '
    const s = require("net").createServer();
    s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# free_ports N: sets FREE_PORTS to N distinct free ports.
free_ports() {
  local n=$1 p tries=0
  FREE_PORTS=()
  while [ "${#FREE_PORTS[@]}" -lt "$n" ]; do
    ((tries++ < 50)) || die "could not find $n free ports"
    p=$(free_port) || die "free_port failed"
    [[ " ${FREE_PORTS[*]} " == *" $p "* ]] || FREE_PORTS+=("$p")
  done
}

# find_python: sets PYTHON to an interpreter that can import websockets (Debian's
# python3-websockets lives in /usr/bin/python3, which another python3 on PATH may shadow).
find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import websockets' 2>/dev/null; then
      PYTHON=$candidate
      return 0
    fi
  done
  die "no python3 with the websockets module (apt package python3-websockets; run scripts/install-deps.sh)"
}

require_node_ws() {
  command -v node >/dev/null 2>&1 || die "node not found (run scripts/install-deps.sh)"
  [ -d "$PEERS_DIR/node_modules/ws" ] ||
    die "node package ws missing in $PEERS_DIR/node_modules (run scripts/install-deps.sh)"
}

# step NAME SECONDS CMD...: runs one check with a timeout and counts it.
step() {
  local name=$1 seconds=$2 rc
  shift 2
  echo "--- $name"
  timeout --kill-after=5 "$seconds" "$@" >"$PEER_WORK/step.out" 2>&1
  rc=$?
  cat "$PEER_WORK/step.out"
  if [ "$rc" -eq 0 ]; then
    PEER_PASSED=$((PEER_PASSED + 1))
    echo "PASS: $name"
  else
    PEER_FAILED=$((PEER_FAILED + 1))
    [ "$rc" -eq 124 ] && echo "timed out after ${seconds}s"
    echo "FAIL: $name (exit $rc)"
  fi
}

# start_wslb WSLB [ARGS...] -- BACKEND_PORT...: writes $PEER_WORK/wslb.yaml (write_wslb_config)
# on two ports that were free a moment ago, starts WSLB -c that file ARGS..., and waits (20 s at
# most) until it is ready. Tests run in parallel, so another process may take such a port before
# wslb binds it: wslb then exits with "Address already in use" and is started again on new ports,
# 5 times at most. Sets WSLB_PID, ADMIN_PORT and LISTENER_PORT.
start_wslb() {
  local wslb=$1 attempt i kept pid
  local -a args=()
  shift
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
    args+=("$1")
    shift
  done
  [ "$#" -gt 0 ] && shift
  for ((attempt = 1; attempt <= 5; attempt++)); do
    free_ports 2
    ADMIN_PORT=${FREE_PORTS[0]}
    LISTENER_PORT=${FREE_PORTS[1]}
    write_wslb_config "$PEER_WORK/wslb.yaml" "$ADMIN_PORT" "$LISTENER_PORT" "$@"
    start_bg wslb "$wslb" -c "$PEER_WORK/wslb.yaml" "${args[@]}"
    WSLB_PID=$LAST_PID
    for ((i = 0; i < 200; i++)); do
      # Ready, and ours: a process that took the admin port could answer too.
      if curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$ADMIN_PORT/ready" &&
        kill -0 "$WSLB_PID" 2>/dev/null && ! grep -q "cannot bind" "$PEER_WORK/wslb.log"; then
        return 0
      fi
      kill -0 "$WSLB_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$WSLB_PID" 2>/dev/null && die "wslb: not ready within 20 s"
    wait "$WSLB_PID" 2>/dev/null
    grep -q "Address already in use" "$PEER_WORK/wslb.log" ||
      die "wslb (pid $WSLB_PID) exited before it was ready"
    # It is gone: forget its PID, which the system may give to another process.
    kept=()
    for pid in "${PEER_PIDS[@]}"; do
      [ "$pid" = "$WSLB_PID" ] || kept+=("$pid")
    done
    PEER_PIDS=("${kept[@]}")
    echo "wslb: a chosen port was taken before wslb bound it; again on new ports" >&2
  done
  die "wslb: a chosen port was taken 5 times in a row"
}

# finish: prints the summary (and the logs if anything failed); the script's exit status.
finish() {
  if [ "$PEER_FAILED" -ne 0 ]; then
    peer_dump_logs
  fi
  echo "$PEER_PASSED passed, $PEER_FAILED failed"
  [ "$PEER_FAILED" -eq 0 ]
}

# write_wslb_config PATH ADMIN_PORT LISTENER_PORT BACKEND_PORT...: an Envoy v3 bootstrap for wslb
# with one listener routing every path to cluster "backend" (the given 127.0.0.1 ports) and
# circuit breakers high enough that the tests, not the limits, set the load.
write_wslb_config() {
  local path=$1 admin=$2 listener=$3 port
  shift 3
  {
    cat <<YAML
admin: {address: {socket_address: {address: 127.0.0.1, port_value: $admin}}}
static_resources:
  listeners:
  - name: ws
    address: {socket_address: {address: 127.0.0.1, port_value: $listener}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_ws
          upgrade_configs: [{upgrade_type: websocket}]
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{match: {prefix: "/"}, route: {cluster: backend, timeout: 0s}}]
          http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
  clusters:
  - name: backend
    connect_timeout: 1s
    circuit_breakers:
      thresholds: [{priority: DEFAULT, max_connections: 100000, max_pending_requests: 100000}]
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
YAML
    for port in "$@"; do
      echo "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $port}}}"
    done
  } >"$path"
}
