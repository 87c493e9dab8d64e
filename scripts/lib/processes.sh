# Shell helpers shared by the demo and the peer tests. Source it; it defines functions only.

# stop_pids PID...: SIGTERM each process, wait up to 5 s for it to exit, then SIGKILL it.
# Only the PIDs given are ever signalled.
stop_pids() {
  local pid i
  for pid in "$@"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "$@"; do
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
