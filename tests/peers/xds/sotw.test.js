'use strict';
// EDS over gRPC state of the world (EndpointDiscoveryService/StreamEndpoints): what wslb asks
// for, that it ACKs and NACKs by the protocol's rules, and that each accepted ClusterLoadAssignment
// decides where new WebSockets go while the connections already open are left alone.

const assert = require('node:assert/strict');
const {
  EDS_TYPE_URL, cla, countByBackend, endpointsOf, eventually, expectCountsMatch, expectRefused,
  responseAndReply, scenarioTest, setAndAwaitAck, setAndAwaitNack, startGrpcEdsWslb,
  waitForEndpoints,
} = require('./harness');

const CLUSTER = 'eds_cluster';
const stat = (stats, name) => stats[`cluster.${CLUSTER}.${name}`];

for (const serviceName of [undefined, 'chat_service']) {
  const resource = serviceName ?? CLUSTER;
  scenarioTest(`subscribes to "${resource}" with the bootstrap node and ACKs every response`,
    async (sc) => {
      const cp = await sc.controlPlane();
      const [a, b, c] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c');
      const first = cp.setAssignment(resource, cla(resource, endpointsOf(a, b)));
      const wslb = await startGrpcEdsWslb(sc, cp.grpcPort, { serviceName });

      const hello = await cp.waitForRequest((r) => r.method === 'StreamEndpoints');
      assert.equal(hello.firstOnStream, true);
      assert.equal(hello.request.node.id, 'wslb-eds-test');
      assert.equal(hello.request.node.cluster, 'wslb-tests');
      assert.equal(hello.request.node.user_agent_name, 'wslb');
      assert.deepEqual(hello.request.resource_names, [resource]);
      assert.equal(hello.request.type_url, EDS_TYPE_URL);
      assert.equal(hello.request.version_info, '');
      assert.equal(hello.request.response_nonce, '');
      assert.equal(hello.request.error_detail, null);

      const initial = await responseAndReply(cp, first);
      assert.equal(initial.reply.request.version_info, first);
      assert.equal(initial.reply.request.response_nonce, initial.response.nonce);
      assert.equal(initial.reply.request.error_detail, null);
      assert.equal(initial.reply.ack, true);
      assert.deepEqual(initial.reply.request.resource_names, [resource]);

      const second = await setAndAwaitAck(cp, resource, cla(resource, endpointsOf(a, b, c)));
      assert.equal(second.reply.request.version_info, second.version);
      assert.equal(second.reply.request.response_nonce, second.response.nonce);
      await waitForEndpoints(wslb, CLUSTER, [a.port, b.port, c.port]);

      const clients = await sc.connectMany(wslb, 3);
      assert.deepEqual(countByBackend(clients), { 'pod-a': 1, 'pod-b': 1, 'pod-c': 1 });
      await clients[2].echo('through an EDS endpoint');

      // Every response on the stream was answered, never with an error.
      const streamId = hello.streamId;
      for (const response of cp.responses.filter((r) => r.streamId === streamId)) {
        const reply = cp.requests.find((r) => r.streamId === streamId &&
          r.request.response_nonce === response.nonce);
        assert.ok(reply, `response ${response.nonce} was never ACKed`);
        assert.equal(reply.request.error_detail, null);
      }
      assert.equal(cp.requests.filter((r) => r.nack).length, 0);
      assert.equal(new Set(cp.requests.map((r) => r.streamId)).size, 1, 'one stream only');

      await eventually(async () => {
        const stats = await wslb.stats();
        assert.equal(stat(stats, 'update_success'), 2);
        assert.equal(stat(stats, 'update_rejected'), 0);
        assert.ok(stat(stats, 'update_attempt') >= 2, 'update_attempt counts the fetches');
        assert.notEqual(stat(stats, 'version'), undefined, 'version stat present');
        assert.equal(stat(stats, 'membership_total'), 3);
        assert.equal(stat(stats, 'membership_healthy'), 3);
        assert.equal(stats['control_plane.connected_state'], 1);
      });
    });
}

scenarioTest('/clusters shows each endpoint\'s hostname, weight, priority and cap', async (sc) => {
  const cp = await sc.controlPlane();
  const [a, b] = await sc.backendsNamed('pod-a', 'pod-b');
  cp.setAssignment(CLUSTER, cla(CLUSTER, [
    { port: a.port, hostname: 'pod-a', weight: 1 },
    { port: b.port, hostname: 'pod-b', weight: 2, maxConnections: 5, priority: 1 },
  ]));
  const wslb = await startGrpcEdsWslb(sc, cp.grpcPort, { perHostMax: 3 });
  const parsed = await wslb.clusters();
  const cluster = parsed.clusters[CLUSTER];
  assert.ok(cluster, `${CLUSTER} missing from /clusters`);
  assert.equal(cluster.props['default_priority::max_connections'], 100000);
  assert.equal(cluster.props.added_via_api, 'false');
  const hostA = cluster.hosts[`127.0.0.1:${a.port}`];
  const hostB = cluster.hosts[`127.0.0.1:${b.port}`];
  assert.deepEqual(
    [hostA.hostname, hostA.weight, hostA.priority, hostA.max_connections, hostA.health_flags],
    ['pod-a', 1, 0, 3, 'healthy']);
  assert.deepEqual(
    [hostB.hostname, hostB.weight, hostB.priority, hostB.max_connections, hostB.health_flags],
    ['pod-b', 2, 1, 5, 'healthy']);
  assert.equal(Object.keys(cluster.hosts).length, 2);
});

scenarioTest('pods added and removed: caps hold, removed pods get no new upgrades, counts match',
  async (sc) => {
    const cp = await sc.controlPlane();
    const [a, b, c] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c');
    const all = [a, b, c];
    cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a, b)));
    const wslb = await startGrpcEdsWslb(sc, cp.grpcPort, { perHostMax: 3, pendingTimeout: '0s' });

    // Least connections: four upgrades over two pods are two each.
    const first = await sc.connectMany(wslb, 4);
    assert.deepEqual(countByBackend(first), { 'pod-a': 2, 'pod-b': 2 });
    await expectCountsMatch(wslb, CLUSTER, all);

    // A new pod takes the next upgrades, being the least loaded; nobody's count is reset.
    await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, endpointsOf(a, b, c)));
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port, c.port]);
    await expectCountsMatch(wslb, CLUSTER, all);
    const second = await sc.connectMany(wslb, 2);
    assert.deepEqual(countByBackend(second), { 'pod-c': 2 });
    await expectCountsMatch(wslb, CLUSTER, all);

    // An update that changes only the endpoints' attributes (the address is an endpoint's
    // identity, so they are updated in place) keeps their counts and caps.
    await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, [a, b, c].map((x) => ({
      port: x.port, hostname: `${x.id}-renamed`, weight: 2 }))));
    await eventually(async () => {
      const host = await wslb.host(CLUSTER, a.port);
      assert.deepEqual([host.hostname, host.weight], ['pod-a-renamed', 2]);
    });
    await expectCountsMatch(wslb, CLUSTER, all);

    // pod-a drops to one connection, so it is the least loaded; then it is removed.
    const onA = first.filter((client) => client.backendId === 'pod-a');
    await onA[0].close();
    await expectCountsMatch(wslb, CLUSTER, all);
    await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, endpointsOf(b, c)));
    await waitForEndpoints(wslb, CLUSTER, [b.port, c.port]);

    // Its remaining connection still works and is still counted, flagged for removal.
    await onA[1].echo('still here after my pod was removed');
    const removed = await wslb.host(CLUSTER, a.port);
    assert.ok(removed, 'a removed endpoint with a live connection stays in /clusters');
    assert.equal(removed.cx_active, 1);
    assert.match(String(removed.health_flags), /\/pending_dynamic_removal/);
    await expectCountsMatch(wslb, CLUSTER, all);

    // New upgrades fill pod-b and pod-c to their cap; pod-a has room but is gone.
    const third = await sc.connectMany(wslb, 2);
    assert.deepEqual(countByBackend(third), { 'pod-b': 1, 'pod-c': 1 });
    assert.equal(await expectRefused(wslb.url('/')), 503);
    assert.equal(a.live, 1, 'no new connection reached the removed pod');
    await expectCountsMatch(wslb, CLUSTER, all);

    // Once its last connection ends, the removed endpoint is gone.
    await onA[1].close();
    await eventually(async () => {
      assert.equal(await wslb.host(CLUSTER, a.port), undefined);
    });
    await eventually(async () => {
      const stats = await wslb.stats();
      assert.equal(stats[`cluster.${CLUSTER}.membership_total`], 2);
    });
    await expectCountsMatch(wslb, CLUSTER, all);
  });

const BAD_UPDATES = [
  {
    what: 'an endpoint with port 0',
    endpoints: (a, b, c) => [...endpointsOf(a, b, c), { port: 0, hostname: 'zero' }],
    message: /port/i,
  },
  {
    what: 'a duplicate endpoint',
    endpoints: (a, b, c) => [...endpointsOf(a, b, c), { port: a.port, hostname: 'pod-a-again' }],
    message: /duplicate/i,
  },
  {
    what: 'load_balancing_weight 0',
    endpoints: (a, b, c, d) => [...endpointsOf(a, b, c), { port: d.port, weight: 0 }],
    message: /weight/i,
  },
];

scenarioTest('NACK: port 0, a duplicate endpoint and weight 0 are rejected; the old set stays',
  async (sc) => {
    const cp = await sc.controlPlane();
    const [a, b, c, d] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c', 'pod-d');
    const good = cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a, b)));
    const wslb = await startGrpcEdsWslb(sc, cp.grpcPort, { perHostMax: 2, pendingTimeout: '0s' });
    await responseAndReply(cp, good);

    let rejected = 0;
    for (const bad of BAD_UPDATES) {
      const { reply } = await setAndAwaitNack(cp, CLUSTER, cla(CLUSTER, bad.endpoints(a, b, c, d)));
      assert.equal(reply.nack, true, bad.what);
      assert.equal(reply.request.version_info, good,
        `${bad.what}: a NACK carries the last accepted version`);
      assert.match(reply.request.error_detail.message, bad.message,
        `${bad.what}: error_detail names the problem`);
      assert.deepEqual(reply.request.resource_names, [CLUSTER]);
      rejected += 1;
      await eventually(async () => {
        assert.equal((await wslb.stats())[`cluster.${CLUSTER}.update_rejected`], rejected);
      });
    }

    // Traffic still uses {a, b}: c and d would have had room, yet the fifth upgrade is refused.
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port]);
    const clients = await sc.connectMany(wslb, 4);
    assert.deepEqual(countByBackend(clients), { 'pod-a': 2, 'pod-b': 2 });
    assert.equal(await expectRefused(wslb.url('/')), 503);
    assert.equal(c.live + d.live, 0);
    await expectCountsMatch(wslb, CLUSTER, [a, b, c, d]);

    // A good update after the NACKs is taken.
    await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, endpointsOf(a, b, c)));
    const next = await sc.connect(wslb);
    assert.equal(next.backendId, 'pod-c');
    const stats = await wslb.stats();
    assert.equal(stats[`cluster.${CLUSTER}.update_rejected`], BAD_UPDATES.length);
  });

scenarioTest('health: UNHEALTHY, DRAINING, TIMEOUT get nothing; DEGRADED only when healthy are full',
  async (sc) => {
    const cp = await sc.controlPlane();
    const pods = await sc.backendsNamed('healthy', 'unknown', 'unhealthy', 'draining', 'timeout',
      'degraded');
    const [healthy, unknown, unhealthy, draining, timeout, degraded] = pods;
    const health = { healthy: 'HEALTHY', unhealthy: 'UNHEALTHY', draining: 'DRAINING',
      timeout: 'TIMEOUT', degraded: 'DEGRADED' };
    cp.setAssignment(CLUSTER, cla(CLUSTER, pods.map((pod) => ({
      port: pod.port, hostname: pod.id, health: health[pod.id] }))));
    const wslb = await startGrpcEdsWslb(sc, cp.grpcPort, { perHostMax: 2, pendingTimeout: '0s' });

    const first = await sc.connectMany(wslb, 4);
    assert.deepEqual(countByBackend(first), { healthy: 2, unknown: 2 });
    const spill = await sc.connectMany(wslb, 2);
    assert.deepEqual(countByBackend(spill), { degraded: 2 });
    assert.equal(await expectRefused(wslb.url('/')), 503);
    assert.equal(unhealthy.live + draining.live + timeout.live, 0);
    await expectCountsMatch(wslb, CLUSTER, pods);

    const hosts = await wslb.hostsOf(CLUSTER);
    const flags = (pod) => String(hosts[`127.0.0.1:${pod.port}`].health_flags);
    assert.equal(flags(healthy), 'healthy');
    assert.equal(flags(unknown), 'healthy');
    assert.match(flags(unhealthy), /\/failed_eds_health/);
    assert.match(flags(timeout), /\/failed_eds_health/);
    assert.match(flags(draining), /\/failed_eds_health|\/eds_status_draining/);
    assert.match(flags(degraded), /\/degraded_eds_health/);

    const stats = await wslb.stats();
    assert.equal(stats[`cluster.${CLUSTER}.membership_total`], 6);
    assert.equal(stats[`cluster.${CLUSTER}.membership_healthy`], 2);
    assert.equal(stats[`cluster.${CLUSTER}.membership_degraded`], 1);
  });

scenarioTest('priority 1 takes upgrades only while priority 0 is full', async (sc) => {
  const cp = await sc.controlPlane();
  const [p0, p1] = await sc.backendsNamed('p0', 'p1');
  cp.setAssignment(CLUSTER, cla(CLUSTER, [
    { port: p0.port, hostname: 'p0', priority: 0 },
    { port: p1.port, hostname: 'p1', priority: 1 },
  ]));
  const wslb = await startGrpcEdsWslb(sc, cp.grpcPort, { perHostMax: 2, pendingTimeout: '0s' });

  const first = await sc.connectMany(wslb, 2);
  assert.deepEqual(countByBackend(first), { p0: 2 });
  const overflow = await sc.connect(wslb);
  assert.equal(overflow.backendId, 'p1');

  await first[0].close();
  await expectCountsMatch(wslb, CLUSTER, [p0, p1]);
  const back = await sc.connect(wslb);
  assert.equal(back.backendId, 'p0', 'priority 0 is used again as soon as it has room');
  assert.equal((await wslb.host(CLUSTER, p1.port)).priority, 1);
  await expectCountsMatch(wslb, CLUSTER, [p0, p1]);
});

// gRPC's default limit on a received message is 4 MiB; Envoy's xDS client sets none, and a
// control plane that describes each pod (hostname, labels as metadata) passes that with a few
// thousand pods. 15,000 endpoints of ~330 bytes each: over 4.5 MiB, while /stats stays small
// enough to read under the sanitizers.
scenarioTest('applies an assignment larger than gRPC\'s 4 MiB default message limit', async (sc) => {
  const cp = await sc.controlPlane();
  const [a] = await sc.backendsNamed('pod-a');
  cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a)));
  const wslb = await startGrpcEdsWslb(sc, cp.grpcPort);
  await waitForEndpoints(wslb, CLUSTER, [a.port]);

  const many = endpointsOf(a);
  for (let i = 0; i < 15000; i++) {
    const pod = `chat-server-deployment-7d9c8f6b5-${String(i).padStart(6, '0')}`;
    many.push({
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      port: 8080,
      hostname: pod,
      health: 'DRAINING',
      metadata: {
        k8s: {
          pod,
          namespace: 'realtime-chat',
          node: `ip-10-20-${(i >> 8) & 255}-${i & 255}.eu-west-1.compute.internal`,
          labels: 'app=chat-server,tier=websocket,version=v2.14.3,track=stable,team=messaging',
          zone: 'eu-west-1b',
        },
      },
    });
  }
  const version = cp.setAssignment(CLUSTER, cla(CLUSTER, many));
  const size = cp.assignments.get(CLUSTER).bytes.length;
  assert.ok(size > 4.5 * 1024 * 1024, `the assignment is ${size} bytes`);
  const { reply } = await responseAndReply(cp, version, 60000);
  assert.equal(reply.ack, true, `version ${version} was not ACKed`);
  await eventually(async () => {
    const stats = await wslb.stats();
    assert.equal(stat(stats, 'update_success'), 2);
    assert.equal(stat(stats, 'membership_total'), 15001);
    assert.equal(stats['control_plane.connected_state'], 1);
  });
  // The draining endpoints take no new connection; the one healthy pod does.
  const [client] = await sc.connectMany(wslb, 1);
  assert.deepEqual(countByBackend([client]), { 'pod-a': 1 });
  await client.echo('after a 15,001-endpoint update');
});
