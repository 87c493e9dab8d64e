#!/usr/bin/env python3
"""python3-websockets peer.

Offers subprotocol chat.v2 with permessage-deflate (the library's default compression), checks
that both were negotiated, echoes a 200 KB compressible text message and a binary message, then
closes with 4000 and expects 4000 back.

Usage: python3 py_client.py ws://127.0.0.1:PORT/chat
"""

import asyncio
import os
import sys

import websockets

TIMEOUT_S = 20
TEXT_BYTES = 200 * 1024


class PeerFailure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise PeerFailure(message)


async def run(url):
    phrase = "wslb peer test: permessage-deflate through the balancer. "
    text = (phrase * (TEXT_BYTES // len(phrase) + 1))[:TEXT_BYTES]
    binary = os.urandom(4096)
    async with websockets.connect(
        url,
        subprotocols=["chat.v2"],
        compression="deflate",
        open_timeout=10,
        close_timeout=10,
        max_size=64 * 1024 * 1024,
    ) as ws:
        check(ws.subprotocol == "chat.v2", f"subprotocol is {ws.subprotocol!r}, want 'chat.v2'")
        names = [extension.name for extension in ws.extensions]
        check("permessage-deflate" in names, f"permessage-deflate not negotiated: {names}")

        await ws.send(text)
        echoed = await ws.recv()
        check(isinstance(echoed, str), f"text message echoed as {type(echoed).__name__}")
        check(echoed == text, f"text echo differs ({len(echoed)} chars, want {len(text)})")

        await ws.send(binary)
        echoed = await ws.recv()
        check(isinstance(echoed, bytes), f"binary message echoed as {type(echoed).__name__}")
        check(echoed == binary, f"binary echo differs ({len(echoed)} bytes, want {len(binary)})")

        await ws.close(code=4000, reason="peer test done")
        check(ws.close_code == 4000, f"close code {ws.close_code}, want 4000")
        return names


def main():
    if len(sys.argv) != 2:
        print("usage: py_client.py <url>", file=sys.stderr)
        return 2
    try:
        names = asyncio.run(asyncio.wait_for(run(sys.argv[1]), TIMEOUT_S))
    except asyncio.TimeoutError:
        print(f"python websockets client: FAIL: no result within {TIMEOUT_S} s", file=sys.stderr)
        return 1
    except PeerFailure as e:
        print(f"python websockets client: FAIL: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # connection refused, handshake rejected, protocol errors
        print(f"python websockets client: FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"python websockets client: ok (websockets {websockets.__version__}, "
          f"protocol=chat.v2, extensions={names}, close=4000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
