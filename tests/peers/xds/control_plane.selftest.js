'use strict';
// Checks the test control plane on its own, with @grpc/grpc-js clients built from the same
// Envoy .proto files and node's HTTP client for REST, before any wslb test relies on it.

const assert = require('node:assert/strict');
const http = require('node:http');
const { test } = require('node:test');
const grpc = require('@grpc/grpc-js');
const protos = require('./protos');
const { startControlPlane, cla, EDS_TYPE_URL, REST_PATH } = require('./control_plane');

const grpcPackage = grpc.loadPackageDefinition(protos.packageDefinition);
const EdsClient = grpcPackage.envoy.service.endpoint.v3.EndpointDiscoveryService;
const AdsClient = grpcPackage.envoy.service.discovery.v3.AggregatedDiscoveryService;
const NODE = { id: 'selftest-node', cluster: 'selftest', user_agent_name: 'selftest' };
const WAIT_MS = 5000;

// A bidi stream with a queue of what the server sent, read one at a time with a deadline.
class StreamReader {
  constructor(call) {
    this.call = call;
    this.queue = [];
    this.waiting = null;
    this.error = null;
    call.on('data', (message) => this.push(message));
    call.on('error', (err) => {
      this.error = err;
      this.push(null);
    });
  }

  push(message) {
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(message);
    } else {
      this.queue.push(message);
    }
  }

  next(timeoutMs = WAIT_MS) {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = { resolve: (m) => { clearTimeout(timer); resolve(m); } };
    });
  }

  // Resolves to true if nothing arrives within `ms` (for "the server stays silent" checks).
  async silentFor(ms) {
    try {
      const message = await this.next(ms);
      return message === null;
    } catch {
      return true;
    }
  }

  write(message) {
    this.call.write(message);
  }

  close() {
    this.call.cancel();
  }
}

function edsClient(cp) {
  return new EdsClient(`127.0.0.1:${cp.grpcPort}`, grpc.credentials.createInsecure());
}

function adsClient(cp) {
  return new AdsClient(`127.0.0.1:${cp.grpcPort}`, grpc.credentials.createInsecure());
}

function claNamed(response, name) {
  const found = response.resources.map(protos.fromAny).find((c) => c.cluster_name === name);
  assert.ok(found, `response has no ClusterLoadAssignment ${name}`);
  return found;
}

function portsOf(assignment) {
  return assignment.endpoints.flatMap((group) =>
    group.lb_endpoints.map((lb) => lb.endpoint.address.socket_address.port_value));
}

function restPost(cp, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: cp.restPort, path: REST_PATH,
      method: 'POST', headers: { 'content-type': 'application/json' }, timeout: WAIT_MS },
    (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('timeout', () => req.destroy(new Error('REST request timed out')));
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

async function withControlPlane(fn) {
  const cp = await startControlPlane();
  const clients = [];
  try {
    await fn(cp, (client) => { clients.push(client); return client; });
  } catch (err) {
    process.stderr.write(`control plane events:\n${cp.events.join('\n')}\n`);
    throw err;
  } finally {
    for (const client of clients) client.close();
    await cp.close();
  }
}

test('cla() builds the Envoy message: priorities, health, weight, hostname, wslb cap', () => {
  const value = cla('c', [
    { port: 9001, hostname: 'pod-a', weight: 2, health: 'HEALTHY', maxConnections: 3 },
    { port: 9002, priority: 1, health: 'DEGRADED' },
    { address: '127.0.0.2', port: 9003, metadata: { other: { k: 'v' } } },
  ]);
  const decoded = protos.decode(protos.types.ClusterLoadAssignment,
    protos.encode(protos.types.ClusterLoadAssignment, value));
  assert.equal(decoded.cluster_name, 'c');
  assert.deepEqual(decoded.endpoints.map((g) => g.priority), [0, 1]);
  const [a, c] = decoded.endpoints[0].lb_endpoints;
  assert.equal(a.endpoint.hostname, 'pod-a');
  assert.equal(a.load_balancing_weight.value, 2);
  assert.equal(a.health_status, 'HEALTHY');
  assert.deepEqual(protos.plainOfStruct(a.metadata.filter_metadata.wslb), { max_connections: 3 });
  assert.equal(c.endpoint.address.socket_address.address, '127.0.0.2');
  assert.deepEqual(protos.plainOfStruct(c.metadata.filter_metadata.other), { k: 'v' });
  assert.equal(decoded.endpoints[1].lb_endpoints[0].health_status, 'DEGRADED');
  // A weight of 0 is kept as an explicit wrapper, not dropped as "unset".
  const zero = protos.decode(protos.types.ClusterLoadAssignment,
    protos.encode(protos.types.ClusterLoadAssignment, cla('c', [{ port: 1, weight: 0 }])));
  assert.deepEqual(zero.endpoints[0].lb_endpoints[0].load_balancing_weight, { value: 0 });
});

test('proto3 JSON round trip keeps every field of a DiscoveryResponse', () => {
  const value = cla('c', [{ port: 9001, hostname: 'h', weight: 3, maxConnections: 7,
    locality: { region: 'r', zone: 'z' } }], {
    policy: { overprovisioning_factor: { value: 140 }, endpoint_stale_after: { seconds: 2 } },
  });
  const response = { version_info: '9', resources: [protos.toAny(EDS_TYPE_URL, value)],
    type_url: EDS_TYPE_URL, nonce: 'n' };
  const json = protos.messageToJson(protos.types.DiscoveryResponse, response);
  assert.equal(json.versionInfo, '9');
  assert.equal(json.resources[0]['@type'], EDS_TYPE_URL);
  assert.equal(json.resources[0].policy.endpointStaleAfter, '2s');
  assert.equal(json.resources[0].endpoints[0].lbEndpoints[0].loadBalancingWeight, 3);
  assert.deepEqual(json.resources[0].endpoints[0].lbEndpoints[0].metadata.filterMetadata.wslb,
    { max_connections: 7 });
  const back = protos.parseJsonMessage(protos.types.DiscoveryResponse, json);
  assert.deepEqual(protos.fromAny(back.resources[0]), protos.fromAny(response.resources[0]));
  assert.throws(() => protos.parseJsonMessage(protos.types.DiscoveryRequest, { bogus: 1 }),
    /unknown field "bogus"/);
});

test('SotW EDS: first response, ACK, push on update, stale nonce ignored, NACK recorded', async () => {
  await withControlPlane(async (cp, track) => {
    cp.setAssignment('a', cla('a', [{ port: 9001 }]));
    cp.setAssignment('other', cla('other', [{ port: 9999 }]));
    const stream = new StreamReader(track(edsClient(cp)).StreamEndpoints());
    stream.write({ node: NODE, resource_names: ['a'], type_url: EDS_TYPE_URL });
    const first = await stream.next();
    assert.equal(first.version_info, '2');
    assert.equal(first.type_url, EDS_TYPE_URL);
    assert.equal(first.resources.length, 1, 'only the subscribed resource is sent');
    assert.deepEqual(portsOf(claNamed(first, 'a')), [9001]);

    const request = cp.requests[0];
    assert.equal(request.method, 'StreamEndpoints');
    assert.equal(request.firstOnStream, true);
    assert.equal(request.request.node.id, 'selftest-node');
    assert.equal(request.request.version_info, '');

    stream.write({ version_info: first.version_info, resource_names: ['a'],
      type_url: EDS_TYPE_URL, response_nonce: first.nonce });
    const ack = await cp.waitForRequest((r) => r.seq === 1, WAIT_MS);
    assert.equal(ack.ack, true);
    assert.equal(ack.nack, false);
    assert.ok(await stream.silentFor(300), 'an ACK with unchanged names gets no response');

    cp.setAssignment('other', cla('other', [{ port: 9998 }]));
    assert.ok(await stream.silentFor(300), 'a change to an unsubscribed name is not sent');

    const version = cp.setAssignment('a', cla('a', [{ port: 9001 }, { port: 9002 }]));
    const second = await stream.next();
    assert.equal(second.version_info, version);
    assert.notEqual(second.nonce, first.nonce);
    assert.deepEqual(portsOf(claNamed(second, 'a')), [9001, 9002]);

    // A request answering the older response is stale once a newer one was sent: ignored.
    stream.write({ version_info: first.version_info, resource_names: ['a', 'other'],
      type_url: EDS_TYPE_URL, response_nonce: first.nonce });
    const stale = await cp.waitForRequest((r) => r.seq === 2, WAIT_MS);
    assert.equal(stale.nonceStatus, 'stale');
    assert.equal(stale.ack, false);
    assert.ok(await stream.silentFor(300), 'a stale request must not change the subscription');

    stream.write({ version_info: first.version_info, resource_names: ['a'],
      type_url: EDS_TYPE_URL, response_nonce: second.nonce,
      error_detail: { code: 3, message: 'port 0 is not allowed' } });
    const nack = await cp.waitForRequest((r) => r.seq === 3, WAIT_MS);
    assert.equal(nack.nack, true);
    assert.equal(nack.ack, false);
    assert.equal(nack.request.error_detail.message, 'port 0 is not allowed');
    assert.ok(await stream.silentFor(300), 'a NACK is not answered');

    // Subscribing to one more known name (in an ACK) sends both.
    stream.write({ version_info: second.version_info, resource_names: ['a', 'other'],
      type_url: EDS_TYPE_URL, response_nonce: second.nonce });
    const third = await stream.next();
    assert.deepEqual(third.resources.map(protos.fromAny).map((c) => c.cluster_name).sort(),
      ['a', 'other']);
    stream.close();
  });
});

test('SotW: a reconnecting client that holds the current version gets nothing new', async () => {
  await withControlPlane(async (cp, track) => {
    const version = cp.setAssignment('a', cla('a', [{ port: 9001 }]));
    const stream = new StreamReader(track(edsClient(cp)).StreamEndpoints());
    stream.write({ node: NODE, version_info: version, resource_names: ['a'],
      type_url: EDS_TYPE_URL });
    assert.ok(await stream.silentFor(300));
    const newer = cp.setAssignment('a', cla('a', [{ port: 9002 }]));
    const pushed = await stream.next();
    assert.equal(pushed.version_info, newer);
    stream.close();
  });
});

test('SotW: nothing is sent for a name the control plane does not know yet', async () => {
  await withControlPlane(async (cp, track) => {
    const stream = new StreamReader(track(edsClient(cp)).StreamEndpoints());
    stream.write({ node: NODE, resource_names: ['later'], type_url: EDS_TYPE_URL });
    assert.ok(await stream.silentFor(300), 'no empty response before the assignment exists');
    const version = cp.setAssignment('later', cla('later', [{ port: 9001 }]));
    const response = await stream.next();
    assert.equal(response.version_info, version);
    assert.deepEqual(portsOf(claNamed(response, 'later')), [9001]);
    stream.close();
  });
});

test('Delta EDS: subscribe, ACK, update, remove, NACK, initial_resource_versions', async () => {
  await withControlPlane(async (cp, track) => {
    cp.setAssignment('a', cla('a', [{ port: 9001 }]));
    const client = track(edsClient(cp));
    const stream = new StreamReader(client.DeltaEndpoints());
    stream.write({ node: NODE, type_url: EDS_TYPE_URL, resource_names_subscribe: ['a', 'b'] });
    const first = await stream.next();
    assert.deepEqual(first.resources.map((r) => r.name), ['a']);
    assert.equal(first.resources[0].version, '1');
    assert.deepEqual(portsOf(protos.fromAny(first.resources[0].resource)), [9001]);
    assert.ok(first.nonce);

    stream.write({ type_url: EDS_TYPE_URL, response_nonce: first.nonce });
    const ack = await cp.waitForRequest((r) => r.seq === 1, WAIT_MS);
    assert.equal(ack.protocol, 'delta');
    assert.equal(ack.ack, true);

    const versionB = cp.setAssignment('b', cla('b', [{ port: 9101 }]));
    const second = await stream.next();
    assert.deepEqual(second.resources.map((r) => [r.name, r.version]), [['b', versionB]]);
    assert.equal(second.system_version_info, versionB);

    stream.write({ type_url: EDS_TYPE_URL, response_nonce: second.nonce,
      error_detail: { code: 3, message: 'bad b' } });
    const nack = await cp.waitForRequest((r) => r.seq === 2, WAIT_MS);
    assert.equal(nack.nack, true);

    cp.removeAssignment('a');
    const third = await stream.next();
    assert.deepEqual(third.removed_resources, ['a']);
    assert.equal(third.resources.length, 0);

    stream.write({ type_url: EDS_TYPE_URL, response_nonce: third.nonce,
      resource_names_unsubscribe: ['b'] });
    await cp.waitForRequest((r) => r.seq === 3, WAIT_MS);
    cp.setAssignment('b', cla('b', [{ port: 9102 }]));
    assert.ok(await stream.silentFor(300), 'an unsubscribed name is not pushed');
    stream.close();

    // A new stream that already holds b's current version gets nothing for b; a stale version
    // gets the resource again.
    const current = cp.assignments.get('b').version;
    const again = new StreamReader(client.DeltaEndpoints());
    again.write({ node: NODE, type_url: EDS_TYPE_URL, resource_names_subscribe: ['b'],
      initial_resource_versions: { b: current } });
    assert.ok(await again.silentFor(300));
    again.close();
    const stale = new StreamReader(client.DeltaEndpoints());
    stale.write({ node: NODE, type_url: EDS_TYPE_URL, resource_names_subscribe: ['b', 'a'],
      initial_resource_versions: { b: '1', a: '1' } });
    const resent = await stale.next();
    assert.deepEqual(resent.resources.map((r) => r.name), ['b']);
    assert.deepEqual(resent.removed_resources, ['a'], 'a held-but-deleted resource is removed');
    stale.close();
  });
});

test('ADS: one SotW stream and one delta stream carry two clusters', async () => {
  await withControlPlane(async (cp, track) => {
    cp.setAssignment('one', cla('one', [{ port: 9001 }]));
    cp.setAssignment('two', cla('two', [{ port: 9002 }]));
    const client = track(adsClient(cp));
    const sotw = new StreamReader(client.StreamAggregatedResources());
    sotw.write({ node: NODE, resource_names: ['one', 'two'], type_url: EDS_TYPE_URL });
    const response = await sotw.next();
    assert.deepEqual(response.resources.map(protos.fromAny).map((c) => c.cluster_name).sort(),
      ['one', 'two']);
    sotw.write({ version_info: response.version_info, resource_names: ['one', 'two'],
      type_url: EDS_TYPE_URL, response_nonce: response.nonce });
    await cp.waitForRequest((r) => r.method === 'StreamAggregatedResources' && r.ack, WAIT_MS);
    cp.setAssignment('two', cla('two', [{ port: 9003 }]));
    const pushed = await sotw.next();
    assert.deepEqual(portsOf(claNamed(pushed, 'two')), [9003]);
    sotw.close();

    const delta = new StreamReader(client.DeltaAggregatedResources());
    delta.write({ node: NODE, type_url: EDS_TYPE_URL, resource_names_subscribe: ['one', 'two'] });
    const deltaResponse = await delta.next();
    assert.deepEqual(deltaResponse.resources.map((r) => r.name).sort(), ['one', 'two']);
    const request = cp.requests.find((r) => r.method === 'DeltaAggregatedResources');
    assert.deepEqual(request.request.resource_names_subscribe, ['one', 'two']);
    delta.close();
  });
});

test('REST: JSON in, JSON out, 304 when up to date, NACK recorded, 400 on garbage', async () => {
  await withControlPlane(async (cp) => {
    const version = cp.setAssignment('a', cla('a', [{ port: 9001, maxConnections: 2 }]));
    const first = await restPost(cp, { node: { id: 'n', userAgentName: 'x' },
      resourceNames: ['a', 'missing'], typeUrl: EDS_TYPE_URL });
    assert.equal(first.status, 200);
    const json = JSON.parse(first.text);
    assert.equal(json.versionInfo, version);
    assert.equal(json.resources.length, 1);
    assert.equal(json.resources[0]['@type'], EDS_TYPE_URL);
    assert.equal(json.resources[0].clusterName, 'a');
    assert.equal(json.resources[0].endpoints[0].lbEndpoints[0].endpoint.address.socketAddress
      .portValue, 9001);
    assert.equal(cp.requests[0].request.node.user_agent_name, 'x');

    const same = await restPost(cp, { version_info: version, resource_names: ['a'],
      type_url: EDS_TYPE_URL, response_nonce: json.nonce });
    assert.equal(same.status, 304);
    assert.equal(cp.requests[1].ack, true);

    const nack = await restPost(cp, { versionInfo: '', resourceNames: ['a'], typeUrl: EDS_TYPE_URL,
      responseNonce: json.nonce, errorDetail: { code: 13, message: 'rejected' } });
    assert.equal(nack.status, 200, 'a NACKing client is sent the current version again');
    assert.equal(cp.requests[2].nack, true);

    const bad = await restPost(cp, '{"versionInfo": 1, "nope": true}');
    assert.equal(bad.status, 400);
    assert.equal(cp.errors.length, 1);
  });
});

test('gRPC FetchEndpoints answers with the current version', async () => {
  await withControlPlane(async (cp, track) => {
    const version = cp.setAssignment('a', cla('a', [{ port: 9001 }]));
    const client = track(edsClient(cp));
    const response = await new Promise((resolve, reject) => {
      client.FetchEndpoints({ resource_names: ['a'], type_url: EDS_TYPE_URL },
        { deadline: Date.now() + WAIT_MS }, (err, value) => (err ? reject(err) : resolve(value)));
    });
    assert.equal(response.version_info, version);
    assert.deepEqual(portsOf(claNamed(response, 'a')), [9001]);
  });
});

test('stop() cuts streams and ports; restart() serves the same state on the same ports', async () => {
  await withControlPlane(async (cp, track) => {
    cp.setAssignment('a', cla('a', [{ port: 9001 }]));
    const { grpcPort, restPort } = cp;
    const stream = new StreamReader(track(edsClient(cp)).StreamEndpoints());
    stream.write({ node: NODE, resource_names: ['a'], type_url: EDS_TYPE_URL });
    const before = await stream.next();
    await cp.stop();
    assert.equal(await stream.next(), null, 'the stream ends with an error');
    assert.ok(stream.error, 'the client sees the stream fail');
    await assert.rejects(restPost(cp, { resource_names: ['a'] }), /ECONNREFUSED/);

    cp.setAssignment('a', cla('a', [{ port: 9002 }]));  // changes made while down are kept
    await cp.restart();
    assert.equal(cp.grpcPort, grpcPort);
    assert.equal(cp.restPort, restPort);
    const again = new StreamReader(track(edsClient(cp)).StreamEndpoints());
    again.write({ node: NODE, version_info: before.version_info, resource_names: ['a'],
      type_url: EDS_TYPE_URL });
    const after = await again.next();
    assert.equal(Number(after.version_info), Number(before.version_info) + 1);
    assert.deepEqual(portsOf(claNamed(after, 'a')), [9002]);
    const reconnect = cp.requests.at(-1);
    assert.equal(reconnect.firstOnStream, true);
    assert.equal(reconnect.request.version_info, before.version_info);
    again.close();
  });
});

test('waitForRequest times out with a clear error', async () => {
  await withControlPlane(async (cp) => {
    await assert.rejects(cp.waitForRequest(() => true, 100), /timed out after 100 ms/);
  });
});
