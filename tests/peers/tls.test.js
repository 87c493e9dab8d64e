'use strict';
// TLS end to end with third-party peers: node's TLS stack (the `ws` client, an https + `ws`
// backend) and `openssl s_client` against a wslb listener with two TLS filter chains selected by
// SNI (Envoy's filter_chain_match.server_names), clusters reached over TLS (UpstreamTlsContext)
// with certificate verification, the listener's and clusters' ssl.* stats, and a certificate
// replaced on disk while a connection made with the old one stays open.
// Every certificate is issued here by a throwaway CA made with the openssl CLI.

const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { after, before } = require('node:test');
const WebSocket = require('ws');
const {
  HOST, connect, eventually, freePort, hcmFilter, runToExit, scenarioTest, waitFor,
} = require('./xds/harness.js');
const { TlsBackend } = require('./wss_backend.js');

const TLS_SOCKET = 'envoy.transport_sockets.tls';
const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

// ---- a throwaway PKI (openssl CLI) ----

function openssl(args) {
  try {
    return execFileSync('openssl', args, { timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

// A CA (P-256, two days) whose files are <dir>/<name>.pem and .key.
function makeCa(dir, name) {
  const ca = { name, cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return ca;
}

// A P-256 leaf for `name` (CN and the only DNS SAN) with serial `serial` (hex), signed by `ca`.
function issue(ca, dir, stem, name, serial) {
  const out = { cert: path.join(dir, `${stem}.pem`), key: path.join(dir, `${stem}.key`), serial };
  const csr = path.join(dir, `${stem}.csr`);
  const ext = path.join(dir, `${stem}.ext`);
  fs.writeFileSync(ext, `subjectAltName=DNS:${name}\n`);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', out.key, '-out', csr, '-subj', `/CN=${name}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key,
    '-set_serial', `0x${serial}`, '-days', '2', '-out', out.cert, '-extfile', ext]);
  return out;
}

let pkiDir;
const pki = {};

before(() => {
  pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wslb-tls-peer-pki-'));
  pki.ca = makeCa(pkiDir, 'wslb-test-ca');
  pki.otherCa = makeCa(pkiDir, 'wslb-other-ca');
  pki.a = issue(pki.ca, pkiDir, 'a', 'a.test', '1001');
  pki.a2 = issue(pki.ca, pkiDir, 'a-renewed', 'a.test', '1002');
  pki.b = issue(pki.ca, pkiDir, 'b', 'b.test', '2001');
  pki.backend = issue(pki.ca, pkiDir, 'backend', 'backend.test', '3001');
  pki.caPem = fs.readFileSync(pki.ca.cert);
});

after(() => {
  if (pkiDir && process.env.WSLB_KEEP_WORK !== '1') fs.rmSync(pkiDir, { recursive: true, force: true });
});

const normalSerial = (serial) => String(serial).replace(/^0+/, '').toLowerCase();

// ---- the bootstrap ----

const socketAddress = (port) => ({ socket_address: { address: HOST, port_value: port } });

function downstreamTls(files) {
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': DOWNSTREAM_TLS,
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
        alpn_protocols: ['http/1.1'],
        tls_certificates: [{
          certificate_chain: { filename: files.cert },
          private_key: { filename: files.key },
        }],
      },
    },
  };
}

function staticCluster(name, backend, transportSocket) {
  const cluster = {
    name,
    type: 'STATIC',
    connect_timeout: '2s',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(backend.port) } }] }],
    },
  };
  if (transportSocket) cluster.transport_socket = transportSocket;
  return cluster;
}

function upstreamTls(sni, trustedCa) {
  return {
    name: TLS_SOCKET,
    typed_config: {
      '@type': UPSTREAM_TLS,
      sni,
      common_tls_context: {
        validation_context: { trusted_ca: { filename: trustedCa } },
      },
    },
  };
}

// The backends and a wslb with one listener, two TLS chains:
//   a.test -> stat_prefix ingress_a: /bad -> badca (TLS, wrong CA), / -> secure (TLS)
//   b.test -> stat_prefix ingress_b: / -> plain (no TLS)
// Chain A's certificate files are copies in the scenario's directory (the reload test
// replaces them).
async function startTlsWslb(s) {
  const plain = await s.backend('plain-backend');
  const secure = await new TlsBackend('tls-backend', {
    cert: fs.readFileSync(pki.backend.cert), key: fs.readFileSync(pki.backend.key),
  }).start();
  s.backends.push(secure);

  const chainA = { cert: path.join(s.dir, 'a-tls.crt'), key: path.join(s.dir, 'a-tls.key') };
  fs.copyFileSync(pki.a.cert, chainA.cert);
  fs.copyFileSync(pki.a.key, chainA.key);

  const listenerPort = await freePort();
  const config = {
    node: { id: 'wslb-tls-test', cluster: 'wslb-tests' },
    admin: { address: socketAddress(0) },
    static_resources: {
      listeners: [{
        name: 'tls',
        address: socketAddress(listenerPort),
        filter_chains: [
          {
            filter_chain_match: { server_names: ['a.test'] },
            transport_socket: downstreamTls(chainA),
            filters: [hcmFilter('ingress_a', [
              { prefix: '/bad', cluster: 'badca' },
              { prefix: '/', cluster: 'secure' },
            ])],
          },
          {
            filter_chain_match: { server_names: ['b.test'] },
            transport_socket: downstreamTls(pki.b),
            filters: [hcmFilter('ingress_b', [{ prefix: '/', cluster: 'plain' }])],
          },
        ],
      }],
      clusters: [
        staticCluster('plain', plain),
        staticCluster('secure', secure, upstreamTls('backend.test', pki.ca.cert)),
        staticCluster('badca', secure, upstreamTls('backend.test', pki.otherCa.cert)),
      ],
    },
  };
  const wslb = await s.wslb({ config, listenerPort, name: 'wslb-tls' });
  await wslb.waitReady();
  const listenerStat = (name) => `listener.${HOST}_${listenerPort}.ssl.${name}`;
  return { wslb, plain, secure, chainA, listenerPort, listenerStat };
}

// ---- clients ----

// A wss:// WebSocket through wslb with `servername` as SNI, trusting the test CA. Resolves with
// the harness Client (backendId = the backend's first message) plus the certificate it saw.
async function connectTls(s, port, servername, urlPath = '/', { timeoutMs = 10000 } = {}) {
  let client;
  try {
    client = await connect(`wss://${HOST}:${port}${urlPath}`, {
      timeoutMs, wsOptions: { servername, ca: pki.caPem },
    });
  } catch (err) {
    err.message = `through ${servername} ${urlPath}: ${err.message}`;
    throw err;
  }
  const socket = client.ws._socket;
  client.cert = socket.getPeerCertificate();
  client.tlsProtocol = socket.getProtocol();
  client.alpn = socket.alpnProtocol;
  s.clients.push(client);
  return client;
}

async function expectRefusedTls(s, port, servername, urlPath) {
  try {
    const client = await connectTls(s, port, servername, urlPath);
    client.terminate();
  } catch (err) {
    if (err.statusCode) return err.statusCode;
    throw err;
  }
  throw new Error(`upgrade through ${servername} ${urlPath} succeeded; expected a refusal`);
}

// A plain-text WebSocket upgrade sent to the TLS port: resolves with what came back (as latin1
// text) once the connection is closed.
function plainUpgrade(port, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the TLS port kept a plain-text connection open for ${timeoutMs} ms ` +
        `(received ${JSON.stringify(received)})`));
    }, timeoutMs);
    socket.on('connect', () => socket.write([
      'GET / HTTP/1.1', `Host: ${HOST}:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', '',
    ].join('\r\n')));
    socket.on('data', (chunk) => { received += chunk.toString('latin1'); });
    socket.on('error', () => {});  // a reset is a close too
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

// The sum of the HTTP connection managers' downstream_cx_active (the admin's own excluded).
function httpActive(stats) {
  return Object.entries(stats)
    .filter(([name]) => /^http\.[^.]+\.downstream_cx_active$/.test(name) && name !== 'http.admin.downstream_cx_active')
    .reduce((sum, [, value]) => sum + value, 0);
}

// ---- scenarios ----

scenarioTest('SNI picks the filter chain: certificate, HCM, cluster; TLS to the backend', async (s) => {
  const { wslb, plain, secure, listenerPort, listenerStat } = await startTlsWslb(s);

  // a.test: chain A's certificate, its HCM (ingress_a), cluster secure over TLS.
  const initial = await wslb.stats();
  const viaA = await connectTls(s, listenerPort, 'a.test');
  assert.equal(viaA.cert.subject.CN, 'a.test', 'certificate presented for SNI a.test');
  assert.equal(normalSerial(viaA.cert.serialNumber), pki.a.serial);
  assert.equal(viaA.alpn, false, 'ws offers no ALPN, so none is selected');
  assert.equal(viaA.backendId, 'tls-backend', 'a.test must reach cluster secure');
  await viaA.echo('hello over a.test');
  assert.equal(secure.seen.length, 1);
  assert.equal(secure.seen[0].servername, 'backend.test', 'wslb sends the cluster\'s sni');
  assert.equal(secure.seen[0].protocol, 'TLSv1.2', 'UpstreamTlsContext defaults to at most TLS 1.2');
  assert.equal(plain.accepted, 0);
  await eventually(async () => {
    const stats = await wslb.stats();
    assert.equal(stats['http.ingress_a.downstream_cx_total'] - (initial['http.ingress_a.downstream_cx_total'] ?? 0), 1,
      'http.ingress_a.downstream_cx_total after one a.test connection');
    assert.equal((stats['http.ingress_b.downstream_cx_total'] ?? 0) - (initial['http.ingress_b.downstream_cx_total'] ?? 0), 0,
      'http.ingress_b.downstream_cx_total after one a.test connection');
  });

  // b.test: chain B's certificate, its HCM (ingress_b), cluster plain.
  const viaB = await connectTls(s, listenerPort, 'b.test');
  assert.equal(viaB.cert.subject.CN, 'b.test', 'certificate presented for SNI b.test');
  assert.equal(normalSerial(viaB.cert.serialNumber), pki.b.serial);
  assert.equal(viaB.backendId, 'plain-backend', 'b.test must reach cluster plain');
  await viaB.echo('hello over b.test');
  assert.equal(plain.accepted, 1);
  assert.equal(secure.seen.length, 1, 'b.test must not reach the TLS backend');
  await eventually(async () => {
    const stats = await wslb.stats();
    assert.equal(stats['http.ingress_a.downstream_cx_total'] - (initial['http.ingress_a.downstream_cx_total'] ?? 0), 1);
    assert.equal(stats['http.ingress_b.downstream_cx_total'] - (initial['http.ingress_b.downstream_cx_total'] ?? 0), 1);
  });
  // Both connections still relay after each other's handshakes.
  await viaA.echo('a again');
  await viaB.echo('b again');

  // openssl s_client, SNI b.test: the b.test certificate, verified against the test CA.
  const sClient = await runToExit('openssl', ['s_client', '-connect', `${HOST}:${listenerPort}`,
    '-servername', 'b.test', '-CAfile', pki.ca.cert], { timeoutMs: 15000 });
  assert.match(sClient.output, /subject=\s*CN\s*=\s*b\.test/, sClient.output);
  assert.match(sClient.output, /issuer=\s*CN\s*=\s*wslb-test-ca/, sClient.output);
  assert.match(sClient.output, /Verify return code: 0 \(ok\)/, sClient.output);

  // Stats: three successful downstream handshakes (two ws clients, s_client), one upstream
  // (the secure cluster's one connection).
  await eventually(async () => {
    const stats = await wslb.stats();
    assert.equal(stats[listenerStat('handshake')], 3, listenerStat('handshake'));
    assert.equal(stats['cluster.secure.ssl.handshake'], 1, 'cluster.secure.ssl.handshake');
    assert.equal(stats[listenerStat('connection_error')], 0, listenerStat('connection_error'));
    assert.equal(stats['cluster.secure.ssl.connection_error'], 0, 'cluster.secure.ssl.connection_error');
    assert.equal(stats['cluster.secure.ssl.fail_verify_error'], 0, 'cluster.secure.ssl.fail_verify_error');
  });
  assert.equal(secure.live, 1);
  assert.equal(plain.live, 1);
});

scenarioTest('a plain-text upgrade on the TLS port is refused and counted', async (s) => {
  const { wslb, plain, secure, listenerPort, listenerStat } = await startTlsWslb(s);
  const viaA = await connectTls(s, listenerPort, 'a.test');
  const viaB = await connectTls(s, listenerPort, 'b.test');
  await eventually(async () => assert.equal(httpActive(await wslb.stats()), 2,
    'http.*.downstream_cx_active with two open connections'));
  const errorsBefore = (await wslb.stats())[listenerStat('connection_error')];
  assert.equal(errorsBefore, 0);

  const reply = await plainUpgrade(listenerPort);
  assert.doesNotMatch(reply, /HTTP\/1\.[01] 101/, 'a plain-text upgrade must not be switched');
  assert.doesNotMatch(reply, /^HTTP\//, `a TLS port answered plain HTTP: ${JSON.stringify(reply)}`);
  assert.equal(plain.accepted + secure.accepted, 2, 'no backend saw the plain-text request');
  await eventually(async () => {
    const errors = (await wslb.stats())[listenerStat('connection_error')];
    assert.ok(errors >= errorsBefore + 1, `${listenerStat('connection_error')} = ${errors}`);
  });

  // The TLS connections are unaffected; once closed, nothing is left active.
  await viaA.echo('still here');
  await viaB.echo('still here');
  await viaA.close();
  await viaB.close();
  await eventually(async () => {
    const stats = await wslb.stats();
    assert.equal(httpActive(stats), 0, 'http.*.downstream_cx_active after every client closed');
    const listenerActive = stats[`listener.${HOST}_${listenerPort}.downstream_cx_active`];
    if (listenerActive !== undefined) assert.equal(listenerActive, 0, 'listener downstream_cx_active');
  });
  await eventually(() => assert.equal(plain.live + secure.live, 0, 'backends\' open connections'));
});

scenarioTest('an upstream certificate from an untrusted CA is a connect failure: 503', async (s) => {
  const { wslb, secure, listenerPort } = await startTlsWslb(s);

  const status = await expectRefusedTls(s, listenerPort, 'a.test', '/bad/chat');
  assert.equal(status, 503, 'upgrade routed to cluster badca');
  assert.equal(secure.accepted, 0, 'the backend must not see an upgrade over an unverified connection');
  await eventually(async () => {
    const stats = await wslb.stats();
    assert.ok(stats['cluster.badca.ssl.fail_verify_error'] >= 1,
      `cluster.badca.ssl.fail_verify_error = ${stats['cluster.badca.ssl.fail_verify_error']}`);
    assert.ok(stats['cluster.badca.upstream_cx_connect_fail'] >= 1,
      `cluster.badca.upstream_cx_connect_fail = ${stats['cluster.badca.upstream_cx_connect_fail']}`);
    assert.equal(stats['cluster.badca.ssl.handshake'] ?? 0, 0, 'cluster.badca.ssl.handshake');
  });

  // The same backend through the cluster that trusts its CA still works.
  const good = await connectTls(s, listenerPort, 'a.test', '/chat');
  assert.equal(good.backendId, 'tls-backend');
  await good.echo('verified');
  assert.equal(secure.accepted, 1);
});

scenarioTest('a replaced certificate serves new handshakes; open connections keep working', async (s) => {
  const { wslb, chainA, listenerPort, listenerStat } = await startTlsWslb(s);

  const old = await connectTls(s, listenerPort, 'a.test');
  assert.equal(normalSerial(old.cert.serialNumber), pki.a.serial);
  await old.echo('before the swap');
  assert.equal((await wslb.stats())[listenerStat('context_update_by_file')] ?? 0, 0);

  // Replace key and certificate the way a deployment tool does: new files, renamed over.
  const tempKey = `${chainA.key}.new`;
  const tempCert = `${chainA.cert}.new`;
  fs.copyFileSync(pki.a2.key, tempKey);
  fs.copyFileSync(pki.a2.cert, tempCert);
  fs.renameSync(tempKey, chainA.key);
  fs.renameSync(tempCert, chainA.cert);

  const fresh = await waitFor(async () => {
    const client = await connectTls(s, listenerPort, 'a.test');
    if (normalSerial(client.cert.serialNumber) === pki.a2.serial) return client;
    client.terminate();
    return null;
  }, { timeoutMs: 10000, intervalMs: 100, what: `a new handshake to present serial ${pki.a2.serial}` });
  assert.equal(fresh.cert.subject.CN, 'a.test');
  await fresh.echo('after the swap');

  // The connection made with the old certificate still relays both ways.
  assert.ok(old.open, 'the connection made before the swap was closed');
  await old.echo('after the swap, old connection');
  assert.equal(normalSerial(old.ws._socket.getPeerCertificate().serialNumber), pki.a.serial);

  await eventually(async () => {
    const stats = await wslb.stats();
    assert.ok(stats[listenerStat('context_update_by_file')] >= 1,
      `${listenerStat('context_update_by_file')} = ${stats[listenerStat('context_update_by_file')]}`);
  });
  // Chain B was not touched: still its own certificate.
  const viaB = await connectTls(s, listenerPort, 'b.test');
  assert.equal(normalSerial(viaB.cert.serialNumber), pki.b.serial);
});
