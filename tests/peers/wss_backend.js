'use strict';
// TLS WebSocket echo backend for the peer tests: node's https server carrying a `ws` server.
// Like the harness's plain Backend it sends its id as the first message of every connection (so
// a client knows where it landed), then echoes every message. For each connection it records
// what the TLS layer saw: the SNI the balancer sent and the negotiated protocol.
//
// As a module: `await new TlsBackend(id, { cert, key }).start()` (PEM strings or Buffers).
// As a program: node wss_backend.js --cert CERT.pem --key KEY.pem [--port 0] [--id NAME]
// prints "listening on 127.0.0.1:PORT" once bound and stops on SIGTERM/SIGINT.

const fs = require('node:fs');
const https = require('node:https');
const { WebSocketServer } = require('ws');
const { Backend, HOST } = require('./xds/harness.js');

class TlsBackend extends Backend {
  constructor(id, { cert, key }) {
    super(id);
    this.cert = cert;
    this.key = key;
    this.handshakes = [];  // { servername, protocol } of every TLS connection, upgraded or not
    this.seen = [];        // { servername, protocol, url } of every accepted WebSocket
    this.wss = null;
  }

  async start(port = 0) {
    this.server = https.createServer({ cert: this.cert, key: this.key });
    this.server.on('secureConnection', (socket) => {
      this.handshakes.push({ servername: socket.servername, protocol: socket.getProtocol() });
    });
    // A balancer that refuses our certificate aborts the handshake; that is not our error.
    this.server.on('tlsClientError', () => {});
    this.wss = new WebSocketServer({ server: this.server });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, HOST, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = this.server.address().port;
    return this;
  }

  onConnection(ws, req) {
    this.seen.push({
      servername: req.socket.servername,
      protocol: req.socket.getProtocol(),
      url: req.url,
    });
    super.onConnection(ws);
  }

  async close() {
    if (!this.server) return;
    this.wss.close();
    this.server.closeAllConnections?.();
    await super.close();
  }
}

module.exports = { TlsBackend };

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : fallback;
  };
  const certFile = option('cert');
  const keyFile = option('key');
  if (!certFile || !keyFile) {
    console.error('usage: node wss_backend.js --cert CERT.pem --key KEY.pem [--port 0] [--id NAME]');
    process.exit(2);
  }
  const backend = new TlsBackend(option('id', 'wss-backend'),
    { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) });
  backend.start(Number(option('port', '0'))).then(() => {
    process.stdout.write(`listening on ${HOST}:${backend.port}\n`);
  }, (err) => {
    console.error(`wss backend: ${err.message}`);
    process.exit(1);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      backend.close().then(() => process.exit(0));
      setTimeout(() => process.exit(0), 1000).unref();
    });
  }
}
