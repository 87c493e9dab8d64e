'use strict';
// WebSocket backend for the peer tests, built on the node `ws` package:
// permessage-deflate on, selects "chat.v2" when the client offers it, echoes every message with
// its type, and answers a Close with the client's code (ws does that by itself).
// Prints "listening on 127.0.0.1:PORT" once bound; --port 0 (default) picks a free port.

const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
const portIndex = args.indexOf('--port');
const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 0;

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: true,
  maxPayload: 64 * 1024 * 1024,
  handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
});

wss.on('listening', () => {
  process.stdout.write(`listening on 127.0.0.1:${wss.address().port}\n`);
});

wss.on('error', (err) => {
  console.error(`ws backend: ${err.message}`);
  process.exit(1);
});

wss.on('connection', (ws, req) => {
  console.error(
    `ws backend: connection ${req.url} protocol=${ws.protocol || '-'} ` +
      `extensions=${ws.extensions || '-'}`);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code) => console.error(`ws backend: closed with ${code}`));
  ws.on('error', (err) => console.error(`ws backend: socket error: ${err.message}`));
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
