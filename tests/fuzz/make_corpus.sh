#!/usr/bin/env bash
# Regenerates the seed corpora in tests/fuzz/corpus/ (committed; scripts/fuzz.sh never writes
# to them). Files named seed-* are rewritten; other files (inputs that once crashed a target,
# crash-*) are kept. Needs python3 and protoc.
set -euo pipefail
cd "$(dirname "$0")"
CORPUS=corpus
ROOT=../..
PROTO_ROOT=$ROOT/src/xds/proto
mkdir -p $CORPUS/http_upgrade $CORPUS/frame_tracker $CORPUS/config_loader $CORPUS/xds_assignment
rm -f $CORPUS/*/seed-*

# --- http_upgrade: requests as clients send them -------------------------------------------
python3 - "$CORPUS/http_upgrade" <<'PY'
import sys, os
out = sys.argv[1]
key = "dGhlIHNhbXBsZSBub25jZQ=="
reqs = {
  "websocket": "GET /ws HTTP/1.1\r\nHost: api.example.com\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key,
  "websocket-browser": "GET /chat?room=1 HTTP/1.1\r\nHost: example.org:8080\r\n"
               "Connection: keep-alive, Upgrade\r\nPragma: no-cache\r\nUpgrade: websocket\r\n"
               "Origin: http://example.org\r\nSec-WebSocket-Version: 13\r\n"
               "User-Agent: Mozilla/5.0\r\nAccept-Encoding: gzip, deflate, br\r\n"
               "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
               "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
  "websocket-ows": "GET / HTTP/1.1\r\nHost: www.example.com\r\nUpgrade:  WebSocket \r\n"
               "Connection: upgrade\r\nConnection: close\r\nSec-WebSocket-Key: \t%s \r\n"
               "Sec-WebSocket-Version:  13\r\nX-Forwarded-For: 10.0.0.1\r\nX-Request-Id: abc\r\n\r\n" % key,
  "websocket-v8": "GET /ws HTTP/1.1\r\nHost: api.example.com\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 8\r\n\r\n" % key,
  "websocket-badkey": "GET /ws HTTP/1.1\r\nHost: api.example.com\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: short==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  "websocket-post": "POST /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nContent-Length: 3\r\n\r\nabc" % key,
  "websocket-disabled-route": "GET /plain HTTP/1.1\r\nHost: api.example.com:8080\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % key,
  "h2c-upgrade": "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
  "get": "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
  "get-http10": "GET / HTTP/1.0\r\n\r\n",
  "post-length": "POST /api HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\n"
               "Content-Length: 13\r\n\r\n{\"a\": [1, 2]}",
  "post-chunked": "POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n"
               "\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer-Field: x\r\n\r\n",
  "hop-by-hop": "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Private, TE\r\n"
               "X-Private: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: x\r\n\r\n",
  "pipelined": "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
  "missing-host": "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
}
for name, text in reqs.items():
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(text.encode())
PY

# --- frame_tracker: 1 policy byte (bit 0: client-to-server masking; (b >> 1) % 3: RSV policy
# none / permessage-deflate / any), 8 split-seed bytes, then RFC 6455 frames ------------------
python3 - "$CORPUS/frame_tracker" <<'PY'
import os, struct, sys
out = sys.argv[1]
def frame(op, payload=b"", fin=True, mask=None, rsv=0, length_form=None):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    mbit = 0x80 if mask is not None else 0
    if (length_form or ("7" if n < 126 else "16" if n < 65536 else "64")) == "7":
        h = bytes([b0, mbit | n])
    elif (length_form or "16" if n < 65536 else "64") == "16":
        h = bytes([b0, mbit | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, mbit | 127]) + struct.pack(">Q", n)
    if mask is not None:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        h += mask
    return h + payload
M = b"\x37\xfa\x21\x3d"
def seed(name, policy, frames, split=b"\x12\x34\x56\x78\x9a\xbc\xde\xf1"):
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write(bytes([policy]) + split + b"".join(frames))
seed("client-text", 1, [frame(1, b"Hello", mask=M)])
seed("server-text", 0, [frame(1, b"Hello")])
seed("client-fragmented", 1, [frame(1, b"Hel", fin=False, mask=M), frame(9, b"ping", mask=M),
                              frame(0, b"lo", mask=M)])
seed("server-binary-16", 0, [frame(2, bytes(range(256)) * 2)])
seed("server-binary-64-truncated", 0, [frame(2, b"x" * 70000)[:100]])
seed("client-ping-pong-close", 1, [frame(9, b"", mask=M), frame(10, b"hb", mask=M),
                                   frame(8, struct.pack(">H", 1000) + b"bye", mask=M)])
seed("server-close-empty", 0, [frame(1, b"a"), frame(8)])
seed("deflate-rsv1", 3, [frame(1, b"\xf2\x48\xcd\xc9\xc9\x07\x00", mask=M, rsv=0x40),
                         frame(2, b"abc", mask=M)])
seed("any-rsv", 5, [frame(1, b"z", rsv=0x70), frame(9, b"", rsv=0x20)])
seed("bad-reserved-opcode", 0, [frame(3, b"x")])
seed("bad-unmasked-client", 1, [frame(1, b"x")])
seed("bad-close-1-byte", 0, [frame(8, b"\x03")])
seed("bad-nonminimal", 0, [frame(1, b"x" * 10, length_form="16")])
seed("bad-data-after-close", 0, [frame(8, b"\x03\xe8"), frame(1, b"late")])
seed("many-small", 1, [frame(1 if i % 3 else 9, bytes([i]) * (i % 7), mask=M) for i in range(40)])
PY

# --- config_loader: the shipped configurations ------------------------------------------------
for f in $ROOT/conf/*.yaml; do cp "$f" "$CORPUS/config_loader/seed-$(basename "$f")"; done
cp $ROOT/conf/eds/endpoints.yaml "$CORPUS/config_loader/seed-eds-endpoints.yaml"

# --- xds_assignment: 1 mode byte, then the encoded input -------------------------------------
encode() {  # encode <message type> <out file> <mode byte> ; text format on stdin
  local tmp
  tmp=$(mktemp)
  protoc --proto_path="$PROTO_ROOT" --encode="$1" \
    envoy/config/endpoint/v3/endpoint.proto envoy/service/discovery/v3/discovery.proto >"$tmp"
  { printf "\\x$3"; cat "$tmp"; } >"$2"
  rm -f "$tmp"
}
CLA=envoy.config.endpoint.v3.ClusterLoadAssignment
RESPONSE=envoy.service.discovery.v3.DiscoveryResponse
DELTA=envoy.service.discovery.v3.DeltaDiscoveryResponse
X=$CORPUS/xds_assignment
ENDPOINTS='
endpoints {
  priority: 1
  lb_endpoints { endpoint { address { socket_address { address: "127.0.0.1" port_value: 9001 } }
                            hostname: "a" }
                 health_status: HEALTHY load_balancing_weight { value: 3 } }
  lb_endpoints { endpoint { address { socket_address { address: "::1" port_value: 9002 } } }
                 metadata { filter_metadata { key: "wslb" value { fields { key: "max_connections"
                            value { number_value: 25 } } } } } }
}
endpoints { lb_endpoints { endpoint { address { socket_address { address: "10.0.0.7"
                                                                 port_value: 80 } } }
                           health_status: DRAINING } }'
echo "cluster_name: \"backend\" $ENDPOINTS" | encode $CLA $X/seed-cla 00
echo 'cluster_name: "x" endpoints { lb_endpoints { endpoint { address { socket_address {
      address: "example.com" port_value: 0 } } } } }' | encode $CLA $X/seed-cla-invalid 00
any() {  # any <cluster> -> text of an Any holding a ClusterLoadAssignment
  local bytes
  bytes=$(echo "cluster_name: \"$1\" $ENDPOINTS" | protoc --proto_path="$PROTO_ROOT" \
    --encode=$CLA envoy/config/endpoint/v3/endpoint.proto | od -An -v -tx1 | tr -d ' \n' |
    sed 's/../\\x&/g')
  echo "type_url: \"type.googleapis.com/$CLA\" value: \"$bytes\""
}
echo "version_info: \"v1\" type_url: \"type.googleapis.com/$CLA\" nonce: \"1\"
      resources { $(any backend) } resources { $(any ws-service) } resources { $(any other) }" |
  encode $RESPONSE $X/seed-sotw 01
echo "version_info: \"v2\" resources { $(any backend) } resources { $(any backend) }" |
  encode $RESPONSE $X/seed-sotw-duplicate 01
echo "system_version_info: \"d1\" type_url: \"type.googleapis.com/$CLA\"
      resources { name: \"ws-service\" version: \"7\" resource { $(any ws-service) } }
      removed_resources: \"backend\"" | encode $DELTA $X/seed-delta 02
{ printf '\x03'; cat <<'JSON'
{"version_info": "3", "resources": [{"@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
 "cluster_name": "backend", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address":
 {"address": "127.0.0.1", "port_value": 9001}}}, "load_balancing_weight": 2}]}]}]}
JSON
} >$X/seed-file.json
{ printf '\x04'; cat $ROOT/conf/eds/endpoints.yaml; } >$X/seed-file.yaml
{ printf '\x05'; echo "version_info: \"4\" resources { $(any ws-service) }"; } >$X/seed-file.pb_text
echo "corpus: $(find $CORPUS -type f | wc -l) files"
