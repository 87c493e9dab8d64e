'use strict';
// node `ws` peer: offers ["chat.v1", "chat.v2"] with permessage-deflate, checks that chat.v2 and
// permessage-deflate were negotiated, echoes a 200 KB compressible text message and a binary
// message, then closes with 4000 and expects 4000 back.
// Usage: node ws_client.js ws://127.0.0.1:PORT/chat

const crypto = require('crypto');
const WebSocket = require('ws');

const url = process.argv[2];
const TIMEOUT_MS = 20000;
const TEXT_BYTES = 200 * 1024;

function fail(message) {
  console.error(`node ws client: FAIL: ${message}`);
  process.exit(1);
}

if (!url) fail('usage: node ws_client.js <url>');
const timer = setTimeout(() => fail(`no result within ${TIMEOUT_MS} ms`), TIMEOUT_MS);

const text = 'wslb peer test: permessage-deflate through the balancer. '
  .repeat(Math.ceil(TEXT_BYTES / 56))
  .slice(0, TEXT_BYTES);
const binary = crypto.randomBytes(4096);
const expected = [
  { data: Buffer.from(text), isBinary: false, what: '200 KB text message' },
  { data: binary, isBinary: true, what: '4 KB binary message' },
];

const ws = new WebSocket(url, ['chat.v1', 'chat.v2'], {
  perMessageDeflate: true,
  handshakeTimeout: 10000,
  maxPayload: 64 * 1024 * 1024,
});
let received = 0;
let wireBytesRead = -1;

ws.on('unexpected-response', (req, res) => fail(`upgrade answered with HTTP ${res.statusCode}`));
ws.on('error', (err) => fail(`socket error: ${err.message}`));

ws.on('open', () => {
  if (ws.protocol !== 'chat.v2') fail(`subprotocol is "${ws.protocol}", want "chat.v2"`);
  if (!/permessage-deflate/.test(ws.extensions)) {
    fail(`permessage-deflate not negotiated (extensions: "${ws.extensions}")`);
  }
  ws.send(text);
  ws.send(binary);
});

ws.on('message', (data, isBinary) => {
  const want = expected[received++];
  if (!want) fail('more messages echoed than sent');
  if (isBinary !== want.isBinary) fail(`${want.what}: echoed as ${isBinary ? 'binary' : 'text'}`);
  const got = Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (!got.equals(want.data)) {
    fail(`${want.what}: echo differs (${got.length} bytes, want ${want.data.length})`);
  }
  if (received === expected.length) {
    // The compressible text must have crossed the wire compressed.
    if (ws._socket) wireBytesRead = ws._socket.bytesRead;
    if (wireBytesRead >= TEXT_BYTES / 2) {
      fail(`read ${wireBytesRead} bytes from the wire: the echo was not compressed`);
    }
    ws.close(4000, 'peer test done');
  }
});

ws.on('close', (code) => {
  if (received !== expected.length) {
    fail(`closed with ${code} after ${received} of ${expected.length} echoes`);
  }
  if (code !== 4000) fail(`close code ${code}, want 4000`);
  clearTimeout(timer);
  console.log(
    `node ws client: ok (protocol=${ws.protocol}, extensions="${ws.extensions}", ` +
      `wire bytes read=${wireBytesRead}, close=${code})`);
  process.exit(0);
});
