#!/usr/bin/env bash
# Soak: wslb under steady load for a long time, its resident memory sampled throughout.
# Not part of the test command (it runs for minutes); run it before a release.
#
# Usage: scripts/soak.sh                 10 minutes
#        SOAK_SECONDS=120 scripts/soak.sh
#        SOAK_BUILD_DIR=build scripts/soak.sh   an existing build tree instead of build-release/
#
# Three wslb-echo pods and wslb (Release build in build-release/) on free loopback ports, set up
# with the peer tests' helpers (tests/peers/peer_lib.sh); the load is wslb-loadgen: an echo loop
# on 256 connections, a handshake loop (connections opened and closed all the time) and, every
# minute, a batch of 2,000 idle connections that come and go. wslb's RSS is sampled every 10 s;
# the run fails if RSS at the end is more than 10% (and 8 MiB) above its level after the first
# two minutes (or the first fifth of a shorter run), or if any count is not back to zero.
# Stops exactly the processes it started.
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS=${SOAK_SECONDS:-600}
BUILD_DIR=${SOAK_BUILD_DIR:-build-release}
[[ $SOAK_SECONDS =~ ^[0-9]+$ ]] && [ "$SOAK_SECONDS" -ge 30 ] || {
  echo "soak: SOAK_SECONDS must be a whole number >= 30" >&2
  exit 2
}

bash scripts/install-deps.sh
[ -n "${SOAK_BUILD_DIR:-}" ] || cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j2 --target wslb wslb-echo wslb-loadgen >/dev/null
ulimit -n "$(ulimit -Hn)"

# shellcheck source=../tests/peers/peer_lib.sh
. tests/peers/peer_lib.sh
PEER_KEEP_WORK=1

pods=()
for i in 1 2 3; do
  start_bg "pod-$i" "$BUILD_DIR/wslb-echo" --port 0 --id "pod-$i"
  wait_listening "pod-$i" "$LAST_PID" 10
  pods+=("$LISTEN_PORT")
done
free_ports 2
ADMIN=${FREE_PORTS[0]}
LISTEN=${FREE_PORTS[1]}
write_wslb_config "$PEER_WORK/wslb.yaml" "$ADMIN" "$LISTEN" "${pods[@]}"
start_bg wslb "$BUILD_DIR/wslb" -c "$PEER_WORK/wslb.yaml" --concurrency 1 --drain-time-s 1
WSLB_PID=$LAST_PID
wait_ready wslb "http://127.0.0.1:$ADMIN/ready" "$WSLB_PID" 20

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$WSLB_PID/status"; }
LOADGEN="$BUILD_DIR/bench/wslb-loadgen"
start_bg echo-load "$LOADGEN" --mode echo --port "$LISTEN" --connections 256 \
  --duration "$SOAK_SECONDS" --warmup 0
ECHO_LOAD=$LAST_PID
start_bg handshake-load "$LOADGEN" --mode handshake --port "$LISTEN" --connections 8 \
  --duration "$SOAK_SECONDS" --warmup 0
HS_LOAD=$LAST_PID

echo "soak: ${SOAK_SECONDS}s; wslb pid $WSLB_PID; RSS every 10 s (KiB); logs in $PEER_WORK"
BASELINE_AT=$((SOAK_SECONDS / 5 < 120 ? SOAK_SECONDS / 5 : 120))
baseline=""
start=$(date +%s)
samples=()
while :; do
  elapsed=$(($(date +%s) - start))
  [ "$elapsed" -ge "$SOAK_SECONDS" ] && break
  if [ $((elapsed % 60)) -lt 10 ]; then
    "$LOADGEN" --mode idle --port "$LISTEN" --connections 2000 --duration 5 \
      >>"$PEER_WORK/idle.txt" 2>&1 || true
  fi
  rss=$(rss_kib)
  samples+=("$rss")
  printf 'soak: t=%4ss rss=%s\n' "$elapsed" "$rss"
  [ -z "$baseline" ] && [ "$elapsed" -ge "$BASELINE_AT" ] && baseline=$rss
  sleep 10
done
wait "$ECHO_LOAD" "$HS_LOAD" || true
final=$(rss_kib)
baseline=${baseline:-$final}
max=$(printf '%s\n' "${samples[@]}" "$final" | sort -n | tail -1)
echo "soak: baseline ${baseline} KiB (at ${BASELINE_AT}s), final ${final} KiB, max ${max} KiB"
tail -n 3 "$PEER_WORK/echo-load.out" "$PEER_WORK/handshake-load.out"

sleep 2
stats=$(curl -fs "http://127.0.0.1:$ADMIN/stats")
status=0
for name in cluster.backend.upstream_cx_active http.ingress_ws.downstream_cx_active \
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
