'use strict';
// An xDS v3 control plane for EDS, serving ClusterLoadAssignments encoded with Envoy's own .proto
// files, over every transport wslb may use:
//   gRPC  envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints  (state of the world)
//         envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints   (incremental)
//         envoy.service.endpoint.v3.EndpointDiscoveryService/FetchEndpoints   (unary)
//         envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources
//         envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources
//   REST  POST /v3/discovery:endpoints (proto3 JSON DiscoveryRequest in, DiscoveryResponse out)
// Everything listens on 127.0.0.1 only.
//
// As a module:
//   const cp = await startControlPlane({ grpcPort, restPort });
//   cp.setAssignment('eds_cluster', cla('eds_cluster', [{ port: 9001, hostname: 'pod-a' }]));
//   await cp.waitForRequest((r) => r.ack, 10000);
//   await cp.stop(); await cp.restart(); await cp.close();
// As a program (manual runs):
//   node control_plane.js --grpc-port 18000 --rest-port 18001 \
//     --endpoints eds_cluster=127.0.0.1:9001,127.0.0.1:9002
//   then JSON lines on stdin: {"set":"NAME","endpoints":[{"port":9003}]} or {"remove":"NAME"}.
//   --report-responses: one JSON line on stdout per response sent, {"response","version","at"}.
//
// Versions: one counter, bumped by every setAssignment/removeAssignment and kept across
// stop()/restart(); a resource's version is the counter's value when it was last set. Nonces are
// fresh for every response.
//
// cp.requests: every request received, in order, as
//   { seq, at, method, protocol: 'sotw' | 'delta' | 'rest', streamId, firstOnStream, typeUrl,
//     request,                 // the DiscoveryRequest / DeltaDiscoveryRequest, snake_case fields
//     nonceStatus,             // 'none', 'current' (answers a response sent on this stream;
//                              // for delta every response sent stays answerable) or 'stale'
//     ack, nack }              // a NACK is a non-stale request with error_detail set
// cp.responses: every response sent, as { seq, at, method, protocol, streamId, typeUrl, names,
//   removed, version, nonce, response }.

const http = require('http');
const grpc = require('@grpc/grpc-js');
const protos = require('./protos');

const { EDS_TYPE_URL } = protos;
const HOST = '127.0.0.1';
const REST_PATH = '/v3/discovery:endpoints';
const MAX_REST_BODY = 1 << 20;

const grpcPackage = grpc.loadPackageDefinition(protos.packageDefinition);
const EDS_SERVICE = grpcPackage.envoy.service.endpoint.v3.EndpointDiscoveryService.service;
const ADS_SERVICE = grpcPackage.envoy.service.discovery.v3.AggregatedDiscoveryService.service;

// ---- building ClusterLoadAssignments ----

// One lb_endpoints[] entry from a compact description:
//   { address = '127.0.0.1', port, hostname, weight, health, maxConnections, metadata, extra }
// weight 0 and port 0 are passed through as given (NACK tests); `metadata` adds filter_metadata
// namespaces (plain JSON objects); `extra` is merged into the LbEndpoint as raw protobufjs fields.
function lbEndpoint(desc) {
  const endpoint = {
    address: { socket_address: { address: desc.address ?? HOST, port_value: desc.port ?? 0 } },
  };
  if (desc.hostname !== undefined) endpoint.hostname = desc.hostname;
  const out = { endpoint };
  if (desc.health !== undefined) out.health_status = desc.health;
  if (desc.weight !== undefined) out.load_balancing_weight = { value: desc.weight };
  const filterMetadata = {};
  for (const [namespace, value] of Object.entries(desc.metadata ?? {})) {
    filterMetadata[namespace] = protos.structOf(value);
  }
  if (desc.maxConnections !== undefined) {
    const wslb = { ...(desc.metadata?.wslb ?? {}), max_connections: desc.maxConnections };
    filterMetadata.wslb = protos.structOf(wslb);
  }
  if (Object.keys(filterMetadata).length > 0) out.metadata = { filter_metadata: filterMetadata };
  return mergeDeep(out, desc.extra ?? {});
}

function mergeDeep(base, extra) {
  const out = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const isPlainObject = value && typeof value === 'object' && !Array.isArray(value) &&
      !Buffer.isBuffer(value);
    out[key] = isPlainObject && out[key] && typeof out[key] === 'object'
      ? mergeDeep(out[key], value)
      : value;
  }
  return out;
}

function localityKey(locality) {
  return locality ? `${locality.region ?? ''}/${locality.zone ?? ''}/${locality.sub_zone ?? ''}` : '';
}

// A ClusterLoadAssignment object (protobufjs form) from compact endpoint descriptions. Endpoints
// are grouped into one LocalityLbEndpoints per (priority, locality), in order of appearance.
// options: { policy, localityWeights: { 'region/zone/sub_zone': weight }, extra }.
function cla(clusterName, endpoints, options = {}) {
  const groups = new Map();
  for (const desc of endpoints) {
    const priority = desc.priority ?? 0;
    const key = `${priority}|${localityKey(desc.locality)}`;
    if (!groups.has(key)) {
      const group = { lb_endpoints: [] };
      if (priority !== 0) group.priority = priority;
      if (desc.locality) group.locality = desc.locality;
      const weight = options.localityWeights?.[localityKey(desc.locality)];
      if (weight !== undefined) group.load_balancing_weight = { value: weight };
      groups.set(key, group);
    }
    groups.get(key).lb_endpoints.push(lbEndpoint(desc));
  }
  const out = { cluster_name: clusterName, endpoints: [...groups.values()] };
  if (options.policy) out.policy = options.policy;
  return mergeDeep(out, options.extra ?? {});
}

// ---- the control plane ----

function sameNames(a, b) {
  if (a.size !== b.size) return false;
  for (const name of a) if (!b.has(name)) return false;
  return true;
}

function withTimeout(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class ControlPlane {
  constructor({ grpcPort = 0, restPort = 0, verbose = false } = {}) {
    this.grpcPort = grpcPort;
    this.restPort = restPort;
    this.verbose = verbose;
    this.assignments = new Map();  // name -> { bytes, version }
    this.version = 0;              // bumped by every set/remove; kept across stop/restart
    this.nonceCounter = 0;
    this.streamCounter = 0;
    this.streams = new Set();
    this.requests = [];
    this.responses = [];
    this.errors = [];              // malformed REST requests and stream errors, for failure output
    this.events = [];              // one line per event, for failure output
    this.waiters = [];
    this.grpcServer = null;
    this.restServer = null;
    this.running = false;
  }

  // ---- lifecycle ----

  async start() {
    if (this.running) throw new Error('control plane already running');
    this.grpcServer = this.createGrpcServer();
    this.grpcPort = await new Promise((resolve, reject) => {
      this.grpcServer.bindAsync(`${HOST}:${this.grpcPort}`, grpc.ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)));
    });
    this.restServer = http.createServer((req, res) => this.onRestRequest(req, res));
    await new Promise((resolve, reject) => {
      this.restServer.once('error', reject);
      this.restServer.listen(this.restPort, HOST, () => {
        this.restServer.off('error', reject);
        resolve();
      });
    });
    this.restPort = this.restServer.address().port;
    this.running = true;
    this.note(`listening grpc=${HOST}:${this.grpcPort} rest=${HOST}:${this.restPort}`);
    return this;
  }

  // Simulates a crash: listeners closed and every open stream cut, with no goodbye.
  async stop() {
    if (!this.running) return;
    this.running = false;
    this.grpcServer.forceShutdown();
    this.grpcServer = null;
    const rest = this.restServer;
    this.restServer = null;
    rest.closeAllConnections();
    await new Promise((resolve) => rest.close(() => resolve()));
    this.streams.clear();
    this.note('stopped');
  }

  // Listens again on the same ports, with the same assignments and version counter.
  async restart() {
    await this.start();
    this.note('restarted');
  }

  async close() {
    await this.stop();
    for (const waiter of this.waiters) waiter.reject(new Error('control plane closed'));
    this.waiters = [];
  }

  // ---- assignments ----

  // Sets (or replaces) the ClusterLoadAssignment served as `name`. `value` is a protobufjs-form
  // object (see cla()) or raw bytes. Pushes it to every stream subscribed to `name`. Returns the
  // new version.
  setAssignment(name, value) {
    const bytes = protos.encode(protos.types.ClusterLoadAssignment, value);
    const version = this.bumpVersion();
    this.assignments.set(name, { bytes, version });
    this.note(`set ${name} version ${version}`);
    for (const stream of this.streams) stream.onAssignmentChanged(name);
    return version;
  }

  // Stops serving `name`. Delta streams get it in removed_resources; state-of-the-world streams
  // get a response with what remains of their subscription (EDS treats absence as "no news").
  removeAssignment(name) {
    if (!this.assignments.delete(name)) throw new Error(`no assignment named ${name}`);
    const version = this.bumpVersion();
    this.note(`removed ${name} version ${version}`);
    for (const stream of this.streams) stream.onAssignmentRemoved(name);
    return version;
  }

  get currentVersion() {
    return String(this.version);
  }

  bumpVersion() {
    this.version += 1;
    return String(this.version);
  }

  nextNonce() {
    this.nonceCounter += 1;
    return `nonce-${this.nonceCounter}`;
  }

  anyOf(name) {
    const assignment = this.assignments.get(name);
    return { type_url: EDS_TYPE_URL, value: assignment.bytes };
  }

  // ---- recording and waiting ----

  recordRequest(entry) {
    entry.seq = this.requests.length;
    entry.at = Date.now();
    this.requests.push(entry);
    this.note(`request #${entry.seq} ${describeRequest(entry)}`);
    this.wake();
    return entry;
  }

  recordResponse(entry) {
    entry.seq = this.responses.length;
    entry.at = Date.now();
    this.responses.push(entry);
    this.note(`response #${entry.seq} ${describeResponse(entry)}`);
    this.wake();
    return entry;
  }

  wake() {
    const still = [];
    for (const waiter of this.waiters) {
      const found = waiter.list.find(waiter.predicate);
      if (found) waiter.resolve(found);
      else still.push(waiter);
    }
    this.waiters = still;
  }

  waitIn(list, predicate, timeoutMs, what) {
    const found = list.find(predicate);
    if (found) return Promise.resolve(found);
    let waiter;
    const promise = new Promise((resolve, reject) => {
      waiter = { list, predicate, resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(promise, timeoutMs, what).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    });
  }

  // The first request recorded so far or from now on that matches `predicate`.
  waitForRequest(predicate, timeoutMs = 10000) {
    return this.waitIn(this.requests, predicate, timeoutMs,
      `a matching xDS request (${this.requests.length} recorded)`);
  }

  // The first response sent so far or from now on that matches `predicate`.
  waitForResponse(predicate, timeoutMs = 10000) {
    return this.waitIn(this.responses, predicate, timeoutMs,
      `a matching xDS response (${this.responses.length} sent)`);
  }

  note(line) {
    const text = `${new Date().toISOString()} ${line}`;
    this.events.push(text);
    if (this.verbose) process.stderr.write(`control plane: ${text}\n`);
  }

  // ---- gRPC ----

  createGrpcServer() {
    const server = new grpc.Server();
    server.addService(EDS_SERVICE, {
      StreamEndpoints: (call) => this.openStream(SotwStream, 'StreamEndpoints', call, EDS_TYPE_URL),
      DeltaEndpoints: (call) => this.openStream(DeltaStream, 'DeltaEndpoints', call, EDS_TYPE_URL),
      FetchEndpoints: (call, callback) => this.onFetch(call.request, 'FetchEndpoints', callback),
    });
    server.addService(ADS_SERVICE, {
      StreamAggregatedResources: (call) =>
        this.openStream(SotwStream, 'StreamAggregatedResources', call, null),
      DeltaAggregatedResources: (call) =>
        this.openStream(DeltaStream, 'DeltaAggregatedResources', call, null),
    });
    return server;
  }

  openStream(StreamClass, method, call, defaultTypeUrl) {
    this.streamCounter += 1;
    const stream = new StreamClass(this, this.streamCounter, method, call, defaultTypeUrl);
    this.streams.add(stream);
    this.note(`stream ${stream.id} ${method} opened from ${call.getPeer()}`);
    const forget = (why) => {
      if (!this.streams.delete(stream)) return;
      this.note(`stream ${stream.id} ${method} ${why}`);
    };
    call.on('data', (request) => stream.onRequest(request));
    call.on('end', () => {
      forget('ended by the client');
      call.end();
    });
    call.on('cancelled', () => forget('cancelled'));
    call.on('error', (err) => {
      this.errors.push(`stream ${stream.id}: ${err.message}`);
      forget(`failed: ${err.message}`);
    });
  }

  // A unary fetch (gRPC FetchEndpoints or REST): what the client asked for. With notModified, a
  // client that already has the current version gets null instead (REST answers that with
  // 304 Not Modified, which Envoy's REST subscription treats as "no change").
  fetchResponse(request, method, { notModified }) {
    const typeUrl = request.type_url || EDS_TYPE_URL;
    const nack = Boolean(request.error_detail);
    this.recordRequest({
      method, protocol: 'rest', streamId: null, firstOnStream: true, typeUrl, request,
      nonceStatus: request.response_nonce ? 'current' : 'none',
      ack: Boolean(request.response_nonce) && !nack, nack,
    });
    if (notModified && request.version_info === this.currentVersion) return null;
    const names = typeUrl === EDS_TYPE_URL
      ? request.resource_names.filter((name) => this.assignments.has(name))
      : [];
    const response = {
      version_info: this.currentVersion,
      resources: names.map((name) => this.anyOf(name)),
      type_url: EDS_TYPE_URL,
      nonce: this.nextNonce(),
    };
    this.recordResponse({ method, protocol: 'rest', streamId: null, typeUrl, names,
      version: response.version_info, nonce: response.nonce, response });
    return response;
  }

  onFetch(request, method, callback) {
    callback(null, this.fetchResponse(request, method, { notModified: false }));
  }

  // ---- REST ----

  onRestRequest(req, res) {
    if (req.method !== 'POST' || req.url !== REST_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${req.method} ${req.url}\n`);
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_REST_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => this.answerRest(Buffer.concat(chunks).toString('utf8'), res));
  }

  answerRest(body, res) {
    let request;
    try {
      request = protos.parseJsonMessage(protos.types.DiscoveryRequest, JSON.parse(body));
    } catch (err) {
      this.errors.push(`REST: bad DiscoveryRequest (${err.message}): ${body}`);
      this.note(`REST: bad request: ${err.message}`);
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`bad DiscoveryRequest: ${err.message}\n`);
      return;
    }
    const response = this.fetchResponse(request, 'REST', { notModified: true });
    if (!response) {
      res.writeHead(304);
      res.end();
      return;
    }
    const json = JSON.stringify(protos.messageToJson(protos.types.DiscoveryResponse, response));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(json);
  }
}

// ---- streams ----

class Stream {
  constructor(cp, id, method, call, defaultTypeUrl) {
    this.cp = cp;
    this.id = id;
    this.method = method;
    this.call = call;
    this.defaultTypeUrl = defaultTypeUrl;
    this.typeStates = new Map();
    this.requestCount = 0;
  }

  stateOf(typeUrl) {
    if (!this.typeStates.has(typeUrl)) this.typeStates.set(typeUrl, this.newTypeState());
    return this.typeStates.get(typeUrl);
  }

  send(response, record) {
    if (this.call.cancelled || this.call.destroyed) return;
    try {
      this.call.write(response);
    } catch (err) {
      this.cp.errors.push(`stream ${this.id}: write failed: ${err.message}`);
      return;
    }
    this.cp.recordResponse({ method: this.method, streamId: this.id, ...record, response });
  }
}

// State of the world (StreamEndpoints, StreamAggregatedResources): every response carries all
// the subscribed resources the control plane has, one version and a fresh nonce.
class SotwStream extends Stream {
  newTypeState() {
    return { names: new Set(), nonce: '' };
  }

  onRequest(request) {
    const typeUrl = request.type_url || this.defaultTypeUrl || '';
    const state = this.stateOf(typeUrl);
    const nonce = request.response_nonce;
    let nonceStatus = 'none';
    if (nonce) nonceStatus = nonce === state.nonce ? 'current' : 'stale';
    const nack = nonceStatus !== 'stale' && Boolean(request.error_detail);
    this.cp.recordRequest({
      method: this.method, protocol: 'sotw', streamId: this.id,
      firstOnStream: this.requestCount++ === 0, typeUrl, request, nonceStatus,
      ack: nonceStatus === 'current' && !request.error_detail, nack,
    });
    // xDS: a request whose nonce is not the latest one sent is superseded; ignore it whole.
    if (nonceStatus === 'stale') return;
    const names = new Set(request.resource_names);
    const added = [...names].filter((name) => !state.names.has(name));
    const changed = !sameNames(names, state.names);
    state.names = names;
    if (typeUrl !== EDS_TYPE_URL || nack) return;
    if (nonceStatus === 'none') {
      // A (re)connecting client that already holds the current version needs nothing.
      if (request.version_info !== this.cp.currentVersion) this.push(typeUrl);
      return;
    }
    if (changed && added.some((name) => this.cp.assignments.has(name))) this.push(typeUrl);
  }

  push(typeUrl) {
    const state = this.stateOf(typeUrl);
    const names = [...state.names].filter((name) => this.cp.assignments.has(name));
    if (names.length === 0 && state.nonce === '') return;  // nothing to say yet
    state.nonce = this.cp.nextNonce();
    const response = {
      version_info: this.cp.currentVersion,
      resources: names.map((name) => this.cp.anyOf(name)),
      type_url: typeUrl,
      nonce: state.nonce,
    };
    this.send(response, { protocol: 'sotw', typeUrl, names, version: response.version_info,
      nonce: response.nonce });
  }

  onAssignmentChanged(name) {
    const state = this.typeStates.get(EDS_TYPE_URL);
    if (state && state.names.has(name)) this.push(EDS_TYPE_URL);
  }

  onAssignmentRemoved(name) {
    this.onAssignmentChanged(name);
  }
}

// Incremental (DeltaEndpoints, DeltaAggregatedResources): responses carry only what changed.
class DeltaStream extends Stream {
  newTypeState() {
    // clientVersions: what the client holds, from initial_resource_versions or what was sent.
    return { names: new Set(), nonces: new Set(), clientVersions: new Map(), started: false };
  }

  onRequest(request) {
    const typeUrl = request.type_url || this.defaultTypeUrl || '';
    const state = this.stateOf(typeUrl);
    const nonce = request.response_nonce;
    let nonceStatus = 'none';
    if (nonce) nonceStatus = state.nonces.has(nonce) ? 'current' : 'stale';
    const nack = nonceStatus === 'current' && Boolean(request.error_detail);
    this.cp.recordRequest({
      method: this.method, protocol: 'delta', streamId: this.id,
      firstOnStream: this.requestCount++ === 0, typeUrl, request, nonceStatus,
      ack: nonceStatus === 'current' && !request.error_detail, nack,
    });
    if (nonceStatus === 'stale') return;
    const first = !state.started;
    state.started = true;
    if (first) {
      for (const [name, version] of Object.entries(request.initial_resource_versions)) {
        state.clientVersions.set(name, version);
      }
    }
    for (const name of request.resource_names_unsubscribe) {
      state.names.delete(name);
      state.clientVersions.delete(name);
    }
    for (const name of request.resource_names_subscribe) state.names.add(name);
    if (typeUrl !== EDS_TYPE_URL) return;
    const wanted = first ? [...state.names] : request.resource_names_subscribe;
    const toSend = wanted.filter((name) => this.cp.assignments.has(name) &&
      state.clientVersions.get(name) !== this.cp.assignments.get(name).version);
    // A resource the client says it holds but that no longer exists is removed explicitly.
    const toRemove = first
      ? [...state.clientVersions.keys()].filter((name) => state.names.has(name) &&
          !this.cp.assignments.has(name))
      : [];
    if (toSend.length > 0 || toRemove.length > 0) this.push(typeUrl, toSend, toRemove);
  }

  push(typeUrl, names, removed) {
    const state = this.stateOf(typeUrl);
    const nonce = this.cp.nextNonce();
    state.nonces.add(nonce);
    const response = {
      system_version_info: this.cp.currentVersion,
      resources: names.map((name) => ({
        name,
        version: this.cp.assignments.get(name).version,
        resource: this.cp.anyOf(name),
      })),
      type_url: typeUrl,
      nonce,
      removed_resources: removed,
    };
    for (const name of names) state.clientVersions.set(name, this.cp.assignments.get(name).version);
    for (const name of removed) state.clientVersions.delete(name);
    this.send(response, { protocol: 'delta', typeUrl, names, removed,
      version: response.system_version_info, nonce });
  }

  onAssignmentChanged(name) {
    const state = this.typeStates.get(EDS_TYPE_URL);
    if (state && state.names.has(name)) this.push(EDS_TYPE_URL, [name], []);
  }

  onAssignmentRemoved(name) {
    const state = this.typeStates.get(EDS_TYPE_URL);
    if (state && state.names.has(name)) this.push(EDS_TYPE_URL, [], [name]);
  }
}

function describeRequest(entry) {
  const r = entry.request;
  const names = entry.protocol === 'delta'
    ? `+[${r.resource_names_subscribe}] -[${r.resource_names_unsubscribe}] ` +
      `initial=${JSON.stringify(r.initial_resource_versions)}`
    : `names=[${r.resource_names}] version_info=${JSON.stringify(r.version_info)}`;
  const error = r.error_detail ? ` error_detail=${JSON.stringify(r.error_detail.message)}` : '';
  const node = r.node ? ` node=${r.node.id}/${r.node.cluster}/${r.node.user_agent_name}` : '';
  return `${entry.method} stream=${entry.streamId} type=${entry.typeUrl} ${names} ` +
    `nonce=${JSON.stringify(r.response_nonce)}(${entry.nonceStatus})${error}${node}`;
}

function describeResponse(entry) {
  const removed = entry.removed && entry.removed.length ? ` removed=[${entry.removed}]` : '';
  return `${entry.method} stream=${entry.streamId} version=${entry.version} nonce=${entry.nonce} ` +
    `resources=[${entry.names}]${removed}`;
}

async function startControlPlane(options = {}) {
  const cp = new ControlPlane(options);
  await cp.start();
  return cp;
}

// ---- command line ----

function parseEndpointList(text) {
  return text.split(',').filter(Boolean).map((item) => {
    const [address, port, hostname] = item.split(':');
    return { address, port: Number(port), hostname };
  });
}

function parseArgs(argv) {
  const options = { grpcPort: 18000, restPort: 18001, endpoints: [], verbose: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--grpc-port') options.grpcPort = Number(next());
    else if (arg === '--rest-port') options.restPort = Number(next());
    else if (arg === '--endpoints') options.endpoints.push(next());
    else if (arg === '--quiet') options.verbose = false;
    else if (arg === '--report-responses') options.reportResponses = true;
    else throw new Error(`unknown argument ${arg} (see the comment at the top of this file)`);
  }
  return options;
}

function applyCommand(cp, line) {
  if (!line.trim()) return;
  const command = JSON.parse(line);
  if (command.set) cp.setAssignment(command.set, cla(command.set, command.endpoints || []));
  else if (command.remove) cp.removeAssignment(command.remove);
  else throw new Error('expected {"set": NAME, "endpoints": [...]} or {"remove": NAME}');
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const cp = await startControlPlane(options);
  if (options.reportResponses) {
    // One JSON line on stdout per response sent: when, and which version (benchmarks time
    // updates from here to the client's own update_time).
    const record = cp.recordResponse.bind(cp);
    cp.recordResponse = (entry) => {
      const out = record(entry);
      process.stdout.write(`${JSON.stringify({ response: out.seq, version: out.version, at: out.at })}\n`);
      return out;
    };
  }
  for (const spec of options.endpoints) {
    const [name, list] = spec.split('=');
    cp.setAssignment(name, cla(name, parseEndpointList(list || '')));
  }
  process.stdout.write(`listening grpc=${HOST}:${cp.grpcPort} rest=${HOST}:${cp.restPort}\n`);
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      try {
        applyCommand(cp, line);
      } catch (err) {
        process.stderr.write(`control plane: ${err.message}\n`);
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => cp.close().then(() => process.exit(0)));
  }
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`control plane: ${err.stack || err.message}\n`);
    process.exit(1);
  });
}

module.exports = { ControlPlane, startControlPlane, cla, lbEndpoint, EDS_TYPE_URL, REST_PATH };
