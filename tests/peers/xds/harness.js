'use strict';
// Shared pieces of the EDS end-to-end tests: the wslb binary as a child process on a generated
// Envoy bootstrap, its admin endpoints parsed, `ws` echo backends and clients in this process,
// and bounded waits. Everything listens on 127.0.0.1; every child process is stopped by its PID.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { test } = require('node:test');
const WebSocket = require('ws');
const { WebSocketServer } = require('ws');
const { startControlPlane, cla, EDS_TYPE_URL } = require('./control_plane');

const HOST = '127.0.0.1';
const WAIT_MS = 15000;
const SOURCE_DIR = process.env.WSLB_SOURCE_DIR || path.resolve(__dirname, '../../..');

function wslbBinary() {
  const bin = process.env.WSLB_BIN || path.join(SOURCE_DIR, 'build', 'wslb');
  if (!fs.existsSync(bin)) throw new Error(`wslb binary not found at ${bin} (set WSLB_BIN)`);
  return bin;
}

// ---- waiting ----

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Calls `check` until it returns a truthy value (which is returned) or the deadline passes.
// `check` may throw; the last error is reported on timeout.
async function waitFor(check, { timeoutMs = WAIT_MS, intervalMs = 100, what = 'a condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      lastError = null;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

// Retries a block of assertions until it passes; on timeout rethrows its last failure.
async function eventually(assertions, { timeoutMs = WAIT_MS, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertions();
    } catch (err) {
      if (Date.now() >= deadline) {
        err.message = `still failing after ${timeoutMs} ms: ${err.message}`;
        throw err;
      }
    }
    await sleep(intervalMs);
  }
}

function withTimeout(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)),
      timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- ports ----

// A loopback port that was free a moment ago (bind 0, read it, close).
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function freePorts(count) {
  const ports = new Set();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > 50) throw new Error(`could not find ${count} free ports`);
    ports.add(await freePort());
  }
  return [...ports];
}

// ---- YAML (enough for Envoy bootstraps and DiscoveryResponse files) ----

const PLAIN_SCALAR = /^[A-Za-z_/][A-Za-z0-9_.\/-]*$/;
const YAML_WORDS = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

function yamlScalar(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = String(value);
  if (PLAIN_SCALAR.test(text) && !YAML_WORDS.test(text)) return text;
  return JSON.stringify(text);
}

function isCollection(value) {
  return value !== null && typeof value === 'object';
}

function isEmptyCollection(value) {
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

function yamlLines(value) {
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      if (!isCollection(item) || isEmptyCollection(item)) return [`- ${yamlInline(item)}`];
      const lines = yamlLines(item);
      return [`- ${lines[0]}`, ...lines.slice(1).map((line) => `  ${line}`)];
    });
  }
  return Object.entries(value).flatMap(([key, item]) => {
    if (!isCollection(item) || isEmptyCollection(item)) {
      return [`${yamlScalar(key)}: ${yamlInline(item)}`];
    }
    const indent = Array.isArray(item) ? '' : '  ';
    return [`${yamlScalar(key)}:`, ...yamlLines(item).map((line) => `${indent}${line}`)];
  });
}

function yamlInline(value) {
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (isCollection(value) && isEmptyCollection(value)) return '{}';
  return yamlScalar(value);
}

function toYaml(value) {
  return `${yamlLines(value).join('\n')}\n`;
}

// ---- Envoy bootstrap pieces ----

function socketAddress(port, address = HOST) {
  return { socket_address: { address, port_value: port } };
}

// The HTTP connection manager network filter: each path prefix of `routes` goes to a cluster,
// WebSockets allowed, route timeout off.
function hcmFilter(statPrefix, routes) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: statPrefix,
      upgrade_configs: [{ upgrade_type: 'websocket' }],
      route_config: {
        name: `${statPrefix}_routes`,
        virtual_hosts: [{
          name: 'all',
          domains: ['*'],
          routes: routes.map(({ prefix, cluster }) => ({
            match: { prefix },
            route: { cluster, timeout: '0s' },
          })),
        }],
      },
      http_filters: [{
        name: 'envoy.filters.http.router',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
      }],
    },
  };
}

// One listener whose routes send each path prefix to a cluster (default: everything to one).
function listener(port, routes) {
  return {
    name: 'ws',
    address: socketAddress(port),
    filter_chains: [{ filters: [hcmFilter('ingress_ws', routes)] }],
  };
}

// The cluster holding the control plane's address: HTTP/2 for gRPC, HTTP/1.1 for REST.
function controlPlaneCluster(port, { http2 = true, name = 'xds_cluster' } = {}) {
  const cluster = {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(port) } }] }],
    },
  };
  if (http2) {
    cluster.typed_extension_protocol_options = {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    };
  }
  return cluster;
}

function grpcApiSource({ apiType = 'GRPC', cluster = 'xds_cluster' } = {}) {
  return {
    api_type: apiType,
    transport_api_version: 'V3',
    grpc_services: [{ envoy_grpc: { cluster_name: cluster } }],
  };
}

// eds_config for a gRPC (SotW or delta) control plane.
function grpcEdsConfig({ apiType = 'GRPC', cluster = 'xds_cluster', initialFetchTimeout } = {}) {
  const config = {
    resource_api_version: 'V3',
    api_config_source: grpcApiSource({ apiType, cluster }),
  };
  if (initialFetchTimeout !== undefined) config.initial_fetch_timeout = initialFetchTimeout;
  return config;
}

function restEdsConfig({ cluster = 'xds_cluster', refreshDelay = '0.2s', requestTimeout = '1s' } = {}) {
  return {
    resource_api_version: 'V3',
    api_config_source: {
      api_type: 'REST',
      transport_api_version: 'V3',
      cluster_names: [cluster],
      refresh_delay: refreshDelay,
      request_timeout: requestTimeout,
    },
  };
}

function adsEdsConfig() {
  return { ads: {}, resource_api_version: 'V3' };
}

// An EDS cluster. Caps: perHostMax -> per_host_thresholds; the cluster-wide limits are high so
// the tests, not them, set the load. pendingTimeout '0s' makes "every pod full" an immediate 503.
function edsCluster(name, edsConfig, options = {}) {
  const cluster = {
    name,
    type: 'EDS',
    connect_timeout: '1s',
    lb_policy: 'LEAST_REQUEST',
    eds_cluster_config: { eds_config: edsConfig },
    circuit_breakers: {
      thresholds: [{ priority: 'DEFAULT', max_connections: 100000, max_pending_requests: 1000 }],
    },
  };
  if (options.serviceName) cluster.eds_cluster_config.service_name = options.serviceName;
  if (options.perHostMax !== undefined) {
    cluster.circuit_breakers.per_host_thresholds = [{ max_connections: options.perHostMax }];
  }
  const wslbMetadata = { ...(options.wslbMetadata ?? {}) };
  if (options.pendingTimeout !== undefined) wslbMetadata.pending_timeout = options.pendingTimeout;
  if (Object.keys(wslbMetadata).length > 0) {
    cluster.metadata = { filter_metadata: { wslb: wslbMetadata } };
  }
  return cluster;
}

function bootstrap({ listenerPort, clusters, routes, dynamicResources, node }) {
  const config = {
    node: node ?? { id: 'wslb-eds-test', cluster: 'wslb-tests' },
    admin: { address: socketAddress(0) },
    static_resources: {
      listeners: [listener(listenerPort, routes ?? [{ prefix: '/', cluster: clusters[0].name }])],
      clusters,
    },
  };
  if (dynamicResources) config.dynamic_resources = dynamicResources;
  return config;
}

// ---- admin output ----

const ADDRESS = /^(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:]+\]):\d+$/;

function parseValue(text) {
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

// /clusters text: "c::key::v", "c::default_priority::key::v", "c::ip:port::key::v".
function parseClusters(text) {
  const out = { version_info: undefined, clusters: {} };
  for (const line of text.split('\n')) {
    const parts = line.split('::');
    if (parts.length === 2 && parts[0] === 'version_info') {
      out.version_info = parts[1];
      continue;
    }
    if (parts.length < 3) continue;
    const [name] = parts;
    const cluster = out.clusters[name] ?? (out.clusters[name] = { props: {}, hosts: {} });
    if (parts.length === 4 && ADDRESS.test(parts[1])) {
      const host = cluster.hosts[parts[1]] ?? (cluster.hosts[parts[1]] = {});
      host[parts[2]] = parseValue(parts[3]);
    } else {
      cluster.props[parts.slice(1, -1).join('::')] = parseValue(parts.at(-1));
    }
  }
  return out;
}

// /stats text: "name: value" lines.
function parseStats(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) out[line.slice(0, colon)] = parseValue(line.slice(colon + 2));
  }
  return out;
}

function httpGet(port, urlPath, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path: urlPath, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

// ---- processes ----

const startedPids = new Set();

// If this test process dies, what it started must not outlive it.
process.on('exit', () => {
  for (const pid of startedPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function spawnTracked(bin, args, options) {
  const child = spawn(bin, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid) startedPids.add(child.pid);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      startedPids.delete(child.pid);
      resolve({ code, signal });
    });
    child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  return child;
}

// Sends SIGTERM to the process by its PID, waits up to `graceMs`, then SIGKILL.
async function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const exited = await withTimeout(child.exited, graceMs, 'exit').then(() => true, () => false);
  if (!exited) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await withTimeout(child.exited, 5000, `pid ${child.pid} to exit after SIGKILL`);
  }
}

// Runs a command to completion (bounded), capturing its output.
function runToExit(bin, args, { cwd, env, timeoutMs = 30000 } = {}) {
  const child = spawnTracked(bin, args, { cwd, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const timer = setTimeout(() => stopChild(child, 1000), timeoutMs);
  return child.exited.then(({ code, signal }) => {
    clearTimeout(timer);
    return { code, signal, output };
  });
}

// ---- wslb ----

class Wslb {
  constructor({ name, dir, configPath, listenerPort, cwd, env, logLevel }) {
    this.name = name;
    this.dir = dir;
    this.configPath = configPath;
    this.listenerPort = listenerPort;
    this.cwd = cwd;
    this.env = env;
    this.logLevel = logLevel ?? 'debug';
    this.addressPath = path.join(dir, `${name}.admin-address`);
    this.logPath = path.join(dir, `${name}.log`);
    this.child = null;
    this.adminPort = null;
  }

  async start() {
    fs.rmSync(this.addressPath, { force: true });
    const args = ['-c', this.configPath, '--concurrency', '2', '--drain-time-s', '1',
      '--admin-address-path', this.addressPath, '-l', this.logLevel];
    const log = fs.createWriteStream(this.logPath);
    log.write(`$ ${wslbBinary()} ${args.join(' ')}\n`);
    this.child = spawnTracked(wslbBinary(), args,
      { cwd: this.cwd, env: { ...process.env, ...this.env } });
    this.child.stdout.pipe(log, { end: false });
    this.child.stderr.pipe(log, { end: false });
    this.adminPort = await waitFor(() => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`wslb exited (${this.child.exitCode ?? this.child.signalCode}) before ` +
          'writing its admin address');
      }
      const text = fs.existsSync(this.addressPath) ? fs.readFileSync(this.addressPath, 'utf8') : '';
      const match = /^127\.0\.0\.1:(\d+)\s*$/.exec(text);
      return match ? Number(match[1]) : null;
    }, { intervalMs: 20, what: `${this.name} to write ${this.addressPath}` });
    return this;
  }

  get running() {
    return this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  admin(urlPath) {
    return httpGet(this.adminPort, urlPath);
  }

  ready() {
    return this.admin('/ready');
  }

  async clusters() {
    const { status, body } = await this.admin('/clusters');
    assert.equal(status, 200, `/clusters answered ${status}: ${body}`);
    return parseClusters(body);
  }

  async stats() {
    const { status, body } = await this.admin('/stats');
    assert.equal(status, 200, `/stats answered ${status}: ${body}`);
    return parseStats(body);
  }

  // The /clusters entries of one endpoint, or undefined if wslb does not list it.
  async host(cluster, port, address = HOST) {
    const parsed = await this.clusters();
    return parsed.clusters[cluster]?.hosts[`${address}:${port}`];
  }

  async hostsOf(cluster) {
    const parsed = await this.clusters();
    return parsed.clusters[cluster]?.hosts ?? {};
  }

  async waitReady(timeoutMs = WAIT_MS) {
    await waitFor(async () => {
      if (!this.running) throw new Error('wslb is not running');
      const { status, body } = await this.ready();
      return status === 200 && body === 'LIVE\n';
    }, { timeoutMs, what: `${this.name} /ready to answer 200 LIVE` });
  }

  url(urlPath = '/') {
    return `ws://${HOST}:${this.listenerPort}${urlPath}`;
  }

  async stop() {
    if (this.child) await stopChild(this.child);
  }

  logTail(lines = 150) {
    if (!fs.existsSync(this.logPath)) return '(no log)';
    return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n');
  }
}

// ---- backends and clients ----

// A `ws` echo backend. It sends its id as the first message of every connection (so a client
// knows where it landed), then echoes. `live` counts its open connections: the ground truth the
// balancer's counts are compared with. `closeCodes` lists the Close codes it received.
class Backend {
  constructor(id) {
    this.id = id;
    this.sockets = new Set();
    this.closeCodes = [];
    this.accepted = 0;
    this.server = null;
    this.port = null;
  }

  async start(port = 0) {
    this.server = new WebSocketServer({ host: HOST, port });
    await new Promise((resolve, reject) => {
      this.server.once('listening', resolve);
      this.server.once('error', reject);
    });
    this.port = this.server.address().port;
    this.server.on('connection', (ws) => this.onConnection(ws));
    return this;
  }

  onConnection(ws) {
    this.accepted += 1;
    this.sockets.add(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code) => {
      this.sockets.delete(ws);
      this.closeCodes.push(code);
    });
    ws.on('error', () => {});  // a reset shows up as a close; nothing else to do
    ws.send(this.id);
  }

  get live() {
    return this.sockets.size;
  }

  async close() {
    if (!this.server) return;
    for (const ws of this.sockets) ws.terminate();
    const server = this.server;
    this.server = null;
    await withTimeout(new Promise((resolve) => server.close(() => resolve())), 5000,
      `backend ${this.id} to close`);
  }
}

// A WebSocket client through wslb. `backendId` is where it landed; `closed` resolves with the
// Close code it received (1006 for no Close frame).
class Client {
  constructor(ws, backendId) {
    this.ws = ws;
    this.backendId = backendId;
    this.closeCode = null;
    this.closedAt = null;
    this.pending = [];
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closeCode = code;
        this.closedAt = Date.now();
        for (const waiter of this.pending) waiter.reject(new Error(`closed with ${code}`));
        this.pending = [];
        resolve(code);
      });
    });
    ws.on('message', (data) => {
      const waiter = this.pending.shift();
      if (waiter) waiter.resolve(data.toString());
    });
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  // Sends `text` and resolves when the same text comes back.
  async echo(text = `ping ${Date.now()}`, timeoutMs = 5000) {
    const reply = new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
    this.ws.send(text);
    const got = await withTimeout(reply, timeoutMs, `echo of "${text}"`);
    assert.equal(got, text, 'echo differs');
    return got;
  }

  close(code = 1000) {
    this.ws.close(code);
    return withTimeout(this.closed, 5000, 'client close');
  }

  terminate() {
    this.ws.terminate();
  }
}

// Opens one WebSocket through wslb and waits for the backend's id. An upgrade that is refused
// rejects with an Error whose `statusCode` is the HTTP status. `wsOptions` go to the `ws`
// client (TLS: servername, ca).
function connect(url, { timeoutMs = 10000, wsOptions = {} } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, ...wsOptions });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no backend id from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    ws.once('unexpected-response', (req, res) => {
      const err = new Error(`upgrade answered HTTP ${res.statusCode}`);
      err.statusCode = res.statusCode;
      req.destroy();
      fail(err);
    });
    ws.once('error', fail);
    ws.once('message', (data) => {
      clearTimeout(timer);
      ws.off('error', fail);
      ws.on('error', () => {});
      resolve(new Client(ws, data.toString()));
    });
  });
}

// Opens `count` connections one after another (each one established before the next, so the
// balancer's choices are deterministic) and returns them.
async function connectMany(url, count) {
  const clients = [];
  for (let i = 0; i < count; i++) clients.push(await connect(url));
  return clients;
}

// An upgrade that must be refused: resolves with the HTTP status.
async function expectRefused(url) {
  try {
    const client = await connect(url);
    client.terminate();
  } catch (err) {
    if (err.statusCode) return err.statusCode;
    throw err;
  }
  throw new Error(`upgrade to ${url} succeeded; expected a refusal`);
}

function countByBackend(clients) {
  const counts = {};
  for (const client of clients) counts[client.backendId] = (counts[client.backendId] ?? 0) + 1;
  return counts;
}

// ---- scenario: everything one test starts, stopped at its end ----

class Scenario {
  constructor(name) {
    this.name = name;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wslb-xds-'));
    this.wslbs = [];
    this.backends = [];
    this.clients = [];
    this.controlPlanes = [];
  }

  async controlPlane(options = {}) {
    const cp = await startControlPlane(options);
    this.controlPlanes.push(cp);
    return cp;
  }

  async backend(id, port = 0) {
    const backend = await new Backend(id).start(port);
    this.backends.push(backend);
    return backend;
  }

  async backendsNamed(...ids) {
    const out = [];
    for (const id of ids) out.push(await this.backend(id));
    return out;
  }

  writeFile(name, content) {
    const file = path.join(this.dir, name);
    fs.writeFileSync(file, content);
    return file;
  }

  // Starts wslb on a bootstrap object (written as YAML) or on an existing file.
  async wslb({ config, configPath, listenerPort, name = `wslb${this.wslbs.length + 1}`, cwd, env }) {
    const file = configPath ?? this.writeFile(`${name}.yaml`, toYaml(config));
    const wslb = new Wslb({ name, dir: this.dir, configPath: file, listenerPort, cwd, env });
    this.wslbs.push(wslb);
    await wslb.start();
    return wslb;
  }

  async connect(wslb, urlPath = '/') {
    const client = await connect(wslb.url(urlPath));
    this.clients.push(client);
    return client;
  }

  async connectMany(wslb, count, urlPath = '/') {
    const clients = await connectMany(wslb.url(urlPath), count);
    this.clients.push(...clients);
    return clients;
  }

  report() {
    const parts = [`----- scenario "${this.name}" (work dir ${this.dir}) -----`];
    for (const cp of this.controlPlanes) {
      parts.push(`--- control plane grpc=${cp.grpcPort} rest=${cp.restPort} events:`);
      parts.push(cp.events.slice(-80).join('\n'));
      if (cp.errors.length) parts.push(`errors:\n${cp.errors.join('\n')}`);
    }
    for (const backend of this.backends) {
      parts.push(`--- backend ${backend.id} port=${backend.port} live=${backend.live} ` +
        `accepted=${backend.accepted} closeCodes=[${backend.closeCodes}]`);
    }
    for (const wslb of this.wslbs) parts.push(`--- ${wslb.name} log (tail):\n${wslb.logTail()}`);
    return parts.join('\n');
  }

  async cleanup() {
    for (const client of this.clients) client.terminate();
    for (const wslb of this.wslbs) await wslb.stop();
    for (const backend of this.backends) await backend.close();
    for (const cp of this.controlPlanes) await cp.close();
    if (process.env.WSLB_KEEP_WORK !== '1') fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// A node:test test with a Scenario: on failure the control plane's events, the backends' counts
// and wslb's log are printed; everything started is stopped either way.
function scenarioTest(name, fn, options = {}) {
  return test(name, { timeout: 120000, ...options }, async (t) => {
    const scenario = new Scenario(name);
    try {
      await fn(scenario, t);
    } catch (err) {
      process.stderr.write(`${scenario.report()}\n`);
      throw err;
    } finally {
      await scenario.cleanup();
    }
  });
}

// ---- assertions shared by the tests ----

// wslb's per-endpoint cx_active equals each backend's own count of live connections.
async function expectCountsMatch(wslb, cluster, backends) {
  await eventually(async () => {
    const hosts = await wslb.hostsOf(cluster);
    for (const backend of backends) {
      const host = hosts[`${HOST}:${backend.port}`];
      const active = host ? host.cx_active : 0;
      assert.equal(active, backend.live,
        `${cluster} ${backend.id} (port ${backend.port}): wslb cx_active ${active}, ` +
        `backend's own count ${backend.live}`);
    }
  });
}

// Waits until wslb lists exactly these ports as the endpoints of `cluster` (ignoring ones
// pending removal because they still hold connections).
async function waitForEndpoints(wslb, cluster, ports, timeoutMs = WAIT_MS) {
  const want = ports.map((port) => `${HOST}:${port}`).sort();
  await eventually(async () => {
    const hosts = await wslb.hostsOf(cluster);
    const current = Object.entries(hosts)
      .filter(([, host]) => !String(host.health_flags ?? '').includes('/pending_dynamic_removal'))
      .map(([address]) => address)
      .sort();
    assert.deepEqual(current, want, `${cluster} endpoints`);
  }, { timeoutMs });
}

// The first response the control plane sent with this version, and the request that answered it.
async function responseAndReply(cp, version, timeoutMs = WAIT_MS) {
  const response = await cp.waitForResponse((r) => r.version === version, timeoutMs);
  const reply = await cp.waitForRequest((r) => r.streamId === response.streamId &&
    r.request.response_nonce === response.nonce, timeoutMs);
  return { response, reply };
}

// Sets an assignment and waits until wslb ACKs it (SotW or delta, gRPC).
async function setAndAwaitAck(cp, name, value, timeoutMs = WAIT_MS) {
  const version = cp.setAssignment(name, value);
  const { response, reply } = await responseAndReply(cp, version, timeoutMs);
  assert.equal(reply.request.error_detail, null,
    `version ${version} was NACKed: ${reply.request.error_detail?.message}`);
  return { version, response, reply };
}

// Sets an assignment and waits until wslb NACKs it; returns the NACK.
async function setAndAwaitNack(cp, name, value, timeoutMs = WAIT_MS) {
  const version = cp.setAssignment(name, value);
  const { response, reply } = await responseAndReply(cp, version, timeoutMs);
  assert.ok(reply.request.error_detail, `version ${version} was ACKed, expected a NACK`);
  return { version, response, reply };
}

// Starts wslb with one EDS cluster fed by a gRPC control plane on `grpcPort` (SotW or delta),
// routing every path to it, and waits for /ready unless told not to.
async function startGrpcEdsWslb(scenario, grpcPort, {
  apiType = 'GRPC', cluster = 'eds_cluster', serviceName, perHostMax, pendingTimeout,
  wslbMetadata, initialFetchTimeout, waitReady = true, name,
} = {}) {
  const listenerPort = await freePort();
  const config = bootstrap({
    listenerPort,
    clusters: [
      edsCluster(cluster, grpcEdsConfig({ apiType, initialFetchTimeout }),
        { serviceName, perHostMax, pendingTimeout, wslbMetadata }),
      controlPlaneCluster(grpcPort),
    ],
  });
  const wslb = await scenario.wslb({ config, listenerPort, name });
  if (waitReady) await wslb.waitReady();
  return wslb;
}

function endpointsOf(...backends) {
  return backends.map((backend) => ({ port: backend.port, hostname: backend.id }));
}

module.exports = {
  HOST,
  WAIT_MS,
  SOURCE_DIR,
  EDS_TYPE_URL,
  Backend,
  Client,
  Scenario,
  Wslb,
  adsEdsConfig,
  bootstrap,
  cla,
  connect,
  connectMany,
  controlPlaneCluster,
  countByBackend,
  edsCluster,
  endpointsOf,
  eventually,
  expectCountsMatch,
  expectRefused,
  freePort,
  freePorts,
  grpcApiSource,
  grpcEdsConfig,
  hcmFilter,
  httpGet,
  parseClusters,
  parseStats,
  responseAndReply,
  restEdsConfig,
  runToExit,
  scenarioTest,
  setAndAwaitAck,
  setAndAwaitNack,
  sleep,
  startGrpcEdsWslb,
  stopChild,
  toYaml,
  waitFor,
  waitForEndpoints,
  wslbBinary,
};
