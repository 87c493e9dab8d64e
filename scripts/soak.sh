#!/usr/bin/env bash
# Soak: wslb under steady load for a long time, its resident memory sampled throughout.
# Not part of the test command (it runs for minutes); run it before a release.
#
# Usage: scripts/soak.sh                 10 minutes
#        SOAK_SECONDS=120 scripts/soak.sh
#
# Three wslb-echo pods and wslb (Release build in build-release/) on free loopback ports; the load
# is wslb-loadgen: an echo loop on 256 connections, plus a handshake loop (connections opened and
# closed all the time) and short idle batches. wslb's RSS is sampled every 10 s; the run fails if
# RSS at the end is more than 10% (and 8 MiB) above its level after the first two minutes (or
# after the first fifth of a shorter run), or if any count is not back to zero afterwards.
# Stops exactly the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SOAK_SECONDS=${SOAK_SECONDS:-600}
BUILD_DIR=build-release
[[ $SOAK_SECONDS =~ ^[0-9]+$ ]] && [ "$SOAK_SECONDS" -ge 30 ] || {
  echo "soak: SOAK_SECONDS must be a whole number >= 30" >&2
  exit 2
}

. "$ROOT/scripts/lib/processes.sh"
PIDS=()
WORK=$(mktemp -d /tmp/wslb-soak.XXXXXX)
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ "${#PIDS[@]}" -gt 0 ] && stop_pids "${PIDS[@]}"
  echo "soak: logs in $WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j2 --target wslb wslb-echo wslb-loadgen >/dev/null
ulimit -n "$(ulimit -Hn)"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

ECHO_PORTS=()
for i in 1 2 3; do
  port=$(free_port)
  "$BUILD_DIR/wslb-echo" --port "$port" --id "pod-$i" >"$WORK/pod-$i.log" 2>&1 &
  PIDS+=($!)
  ECHO_PORTS+=("$port")
done
LISTEN=$(free_port)
ADMIN=$(free_port)
{
  cat <<YAML
admin: {address: {socket_address: {address: 127.0.0.1, port_value: $ADMIN}}}
static_resources:
  listeners:
  - name: ws
    address: {socket_address: {address: 127.0.0.1, port_value: $LISTEN}}
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
              routes: [{match: {prefix: "/"}, route: {cluster: pods, timeout: 0s}}]
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: pods
    connect_timeout: 1s
    lb_policy: LEAST_REQUEST
    circuit_breakers: {thresholds: [{max_connections: 100000, max_pending_requests: 1000}]}
    load_assignment:
      cluster_name: pods
      endpoints:
      - lb_endpoints:
YAML
  for port in "${ECHO_PORTS[@]}"; do
    echo "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $port}}}"
  done
} >"$WORK/wslb.yaml"
"$BUILD_DIR/wslb" -c "$WORK/wslb.yaml" --concurrency 1 --drain-time-s 1 >"$WORK/wslb.log" 2>&1 &
WSLB_PID=$!
PIDS+=("$WSLB_PID")
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$ADMIN/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$ADMIN/ready" >/dev/null || { tail -20 "$WORK/wslb.log"; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$WSLB_PID/status"; }
LOADGEN="$BUILD_DIR/bench/wslb-loadgen"
"$LOADGEN" --mode echo --port "$LISTEN" --connections 256 --duration "$SOAK_SECONDS" \
  --warmup 0 >"$WORK/echo.txt" 2>&1 &
ECHO_LOAD=$!
PIDS+=("$ECHO_LOAD")
"$LOADGEN" --mode handshake --port "$LISTEN" --connections 8 --duration "$SOAK_SECONDS" \
  --warmup 0 >"$WORK/handshake.txt" 2>&1 &
HS_LOAD=$!
PIDS+=("$HS_LOAD")

echo "soak: ${SOAK_SECONDS}s; wslb pid $WSLB_PID; RSS every 10 s (KiB)"
BASELINE_AT=$((SOAK_SECONDS / 5 < 120 ? SOAK_SECONDS / 5 : 120))
baseline=""
start=$(date +%s)
samples=()
while :; do
  elapsed=$(($(date +%s) - start))
  [ "$elapsed" -ge "$SOAK_SECONDS" ] && break
  # Every minute, a batch of idle connections comes and goes as well.
  if [ $((elapsed % 60)) -lt 10 ]; then
    "$LOADGEN" --mode idle --port "$LISTEN" --connections 2000 --duration 5 \
      >>"$WORK/idle.txt" 2>&1 || true
  fi
  rss=$(rss_kib)
  samples+=("$rss")
  printf 'soak: t=%4ss rss=%s\n' "$elapsed" "$rss"
  [ -z "$baseline" ] && [ "$elapsed" -ge "$BASELINE_AT" ] && baseline=$rss
  sleep 10
done
wait "$ECHO_LOAD" "$HS_LOAD" || true
final=$(rss_kib)
max=$(printf '%s\n' "${samples[@]}" "$final" | sort -n | tail -1)
echo "soak: baseline ${baseline} KiB (at ${BASELINE_AT}s), final ${final} KiB, max ${max} KiB"
tail -n 3 "$WORK/echo.txt" "$WORK/handshake.txt"

sleep 2
stats=$(curl -fs "http://127.0.0.1:$ADMIN/stats")
status=0
for name in cluster.pods.upstream_cx_active http.ingress_ws.downstream_cx_active \
  http.ingress_ws.downstream_cx_upgrades_active; do
  value=$(printf '%s\n' "$stats" | awk -F': ' -v n="$name" '$1 == n {print $2}')
  echo "soak: $name = $value"
  [ "$value" = "0" ] || status=1
done
limit=$((baseline + baseline / 10))
[ "$limit" -lt $((baseline + 8192)) ] && limit=$((baseline + 8192))
if [ "$final" -gt "$limit" ]; then
  echo "soak: FAIL: RSS grew from ${baseline} to ${final} KiB (limit ${limit})"
  status=1
fi
[ "$status" -eq 0 ] && echo "soak: PASS: RSS flat, every count back to zero"
exit "$status"
