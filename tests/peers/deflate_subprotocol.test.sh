#!/usr/bin/env bash
# Third-party peers through wslb: node `ws` and python3-websockets clients negotiate
# permessage-deflate and the "chat.v2" subprotocol with a node `ws` backend, echo text and binary
# messages, and close with code 4000.
#
# Usage: deflate_subprotocol.test.sh <path-to-wslb> [<path-to-wslb-echo>]
#   DIRECT=1        skip wslb; the clients talk to the backend directly (checks the script itself)
#   PEER_KEEP_WORK=1 keep the temporary directory with configs and logs
set -uo pipefail
# shellcheck source=peer_lib.sh
source "$(dirname "$0")/peer_lib.sh"

WSLB=${1:-}
DIRECT=${DIRECT:-0}

require_node_ws
find_python
command -v curl >/dev/null 2>&1 || die "curl not found"
if [ "$DIRECT" != 1 ] && [ ! -x "$WSLB" ]; then
  die "wslb binary not found: '${WSLB}' (DIRECT=1 runs the peers against the backend only)"
fi

start_bg backend node "$PEERS_DIR/ws_backend.js" --port 0
BACKEND_PID=$LAST_PID
wait_listening backend "$BACKEND_PID" 10
BACKEND_PORT=$LISTEN_PORT
echo "backend (node ws, deflate, chat.v2) on 127.0.0.1:$BACKEND_PORT"

if [ "$DIRECT" = 1 ]; then
  TARGET_PORT=$BACKEND_PORT
  echo "DIRECT=1: clients connect to the backend without wslb"
else
  start_wslb "$WSLB" --concurrency 2 -l info -- "$BACKEND_PORT"
  TARGET_PORT=$LISTENER_PORT
  echo "wslb listening on 127.0.0.1:$LISTENER_PORT (admin $ADMIN_PORT)"
fi

URL="ws://127.0.0.1:$TARGET_PORT/chat"
step node_ws_deflate_subprotocol 30 node "$PEERS_DIR/ws_client.js" "$URL"
step python_websockets_deflate_subprotocol 30 "$PYTHON" "$PEERS_DIR/py_client.py" "$URL"

if [ "$DIRECT" != 1 ] && ! kill -0 "$WSLB_PID" 2>/dev/null; then
  PEER_FAILED=$((PEER_FAILED + 1))
  echo "FAIL: wslb exited during the test"
fi
finish
