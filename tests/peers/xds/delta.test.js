'use strict';
// EDS over incremental gRPC (EndpointDiscoveryService/DeltaEndpoints, api_type DELTA_GRPC):
// subscription, ACK and NACK by nonce, updates, and the resume after the control plane restarts.

const assert = require('node:assert/strict');
const {
  EDS_TYPE_URL, cla, countByBackend, endpointsOf, expectCountsMatch, responseAndReply,
  scenarioTest, setAndAwaitAck, setAndAwaitNack, startGrpcEdsWslb, waitForEndpoints,
} = require('./harness');

const CLUSTER = 'eds_cluster';

scenarioTest('DELTA_GRPC: subscribe, ACK, NACK, updates, and initial_resource_versions on resume',
  async (sc) => {
    const cp = await sc.controlPlane();
    const [a, b, c] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c');
    const first = cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a)));
    const wslb = await startGrpcEdsWslb(sc, cp.grpcPort, { apiType: 'DELTA_GRPC' });

    const hello = await cp.waitForRequest((r) => r.method === 'DeltaEndpoints');
    assert.equal(hello.firstOnStream, true);
    assert.equal(hello.request.type_url, EDS_TYPE_URL);
    assert.deepEqual(hello.request.resource_names_subscribe, [CLUSTER]);
    assert.deepEqual(hello.request.resource_names_unsubscribe, []);
    assert.deepEqual(hello.request.initial_resource_versions, {});
    assert.equal(hello.request.response_nonce, '');
    assert.equal(hello.request.node.id, 'wslb-eds-test');
    assert.equal(hello.request.node.user_agent_name, 'wslb');
    assert.equal(cp.requests.filter((r) => r.method === 'StreamEndpoints').length, 0);

    const initial = await responseAndReply(cp, first);
    assert.equal(initial.response.protocol, 'delta');
    assert.equal(initial.reply.request.response_nonce, initial.response.nonce);
    assert.equal(initial.reply.request.error_detail, null);
    assert.equal(initial.reply.ack, true);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-a');

    // An update reaches the new pod: it is the least loaded.
    const applied = await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, endpointsOf(a, b)));
    assert.equal(applied.reply.request.response_nonce, applied.response.nonce);
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-b');

    // A bad one is NACKed by nonce with error_detail, and the set stays {a, b}.
    const bad = await setAndAwaitNack(cp, CLUSTER,
      cla(CLUSTER, [...endpointsOf(a, b, c), { port: 0 }]));
    assert.equal(bad.reply.nack, true);
    assert.equal(bad.reply.request.response_nonce, bad.response.nonce);
    assert.match(bad.reply.request.error_detail.message, /port/i);
    const more = await sc.connectMany(wslb, 2);
    assert.deepEqual(countByBackend(more), { 'pod-a': 1, 'pod-b': 1 });
    assert.equal(c.live, 0, 'the rejected set was not used');
    await expectCountsMatch(wslb, CLUSTER, [a, b, c]);
    assert.equal((await wslb.stats())[`cluster.${CLUSTER}.update_rejected`], 1);

    // The control plane restarts: the resumed stream says which version wslb holds, which is
    // the last one it applied, not the one it rejected.
    const mark = cp.requests.length;
    await cp.stop();
    await cp.restart();
    const resume = await cp.waitForRequest((r) => r.seq >= mark && r.firstOnStream, 20000);
    assert.equal(resume.method, 'DeltaEndpoints');
    assert.notEqual(resume.streamId, hello.streamId);
    assert.deepEqual(resume.request.resource_names_subscribe, [CLUSTER]);
    assert.deepEqual(resume.request.initial_resource_versions, { [CLUSTER]: applied.version });

    // Updates flow again on the new stream.
    const after = await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, endpointsOf(b, c)));
    assert.equal(after.response.streamId, resume.streamId);
    await waitForEndpoints(wslb, CLUSTER, [b.port, c.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-c');
    await expectCountsMatch(wslb, CLUSTER, [a, b, c]);
  });
