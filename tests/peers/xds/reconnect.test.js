'use strict';
// The control plane goes away and comes back (SotW gRPC). wslb latches on to the last accepted
// assignment while it retries, then resumes with the version it holds.

const assert = require('node:assert/strict');
const {
  cla, countByBackend, endpointsOf, eventually, expectCountsMatch, responseAndReply, scenarioTest,
  setAndAwaitAck, startGrpcEdsWslb, waitForEndpoints,
} = require('./harness');

const CLUSTER = 'eds_cluster';
const RECONNECT_WITHIN_MS = 15000;

scenarioTest('control plane down: traffic keeps the last endpoints; back: resume and update',
  async (sc) => {
    const cp = await sc.controlPlane();
    const [a, b, c] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c');
    cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a)));
    const wslb = await startGrpcEdsWslb(sc, cp.grpcPort);
    const accepted = await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, endpointsOf(a, b)));
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port]);
    const before = await sc.connectMany(wslb, 2);
    assert.deepEqual(countByBackend(before), { 'pod-a': 1, 'pod-b': 1 });
    await eventually(async () => {
      assert.equal((await wslb.stats())['control_plane.connected_state'], 1);
    });

    // Crash: streams cut, ports closed.
    await cp.stop();
    await eventually(async () => {
      assert.equal((await wslb.stats())['control_plane.connected_state'], 0);
    });
    for (const client of before) await client.echo('control plane is down');
    const during = await sc.connectMany(wslb, 2);
    assert.deepEqual(countByBackend(during), { 'pod-a': 1, 'pod-b': 1 });
    const ready = await wslb.ready();
    assert.deepEqual([ready.status, ready.body], [200, 'LIVE\n'], 'still serving');
    await expectCountsMatch(wslb, CLUSTER, [a, b, c]);
    await eventually(async () => {
      const failures = (await wslb.stats())[`cluster.${CLUSTER}.update_failure`];
      assert.ok(failures >= 1, `update_failure ${failures}: a lost stream is a network failure`);
    });

    // Back on the same port: wslb reconnects within its backoff and says what it holds.
    const mark = cp.requests.length;
    const restartedAt = Date.now();
    await cp.restart();
    const resume = await cp.waitForRequest((r) => r.seq >= mark, RECONNECT_WITHIN_MS);
    const reconnectMs = resume.at - restartedAt;
    assert.ok(reconnectMs < RECONNECT_WITHIN_MS, `reconnected after ${reconnectMs} ms`);
    assert.equal(resume.method, 'StreamEndpoints');
    assert.equal(resume.firstOnStream, true);
    assert.equal(resume.request.version_info, accepted.version,
      'the first request after a reconnect carries the last accepted version');
    assert.equal(resume.request.node.id, 'wslb-eds-test');
    assert.deepEqual(resume.request.resource_names, [CLUSTER]);
    await eventually(async () => {
      assert.equal((await wslb.stats())['control_plane.connected_state'], 1);
    });

    // And a new update applies: the new pod is the least loaded.
    const update = cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a, b, c)));
    const { reply } = await responseAndReply(cp, update);
    assert.equal(reply.ack, true);
    assert.equal(reply.request.version_info, update);
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port, c.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-c');
    for (const client of [...before, ...during]) await client.echo('after the reconnect');
    await expectCountsMatch(wslb, CLUSTER, [a, b, c]);
  });
