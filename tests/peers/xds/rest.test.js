'use strict';
// EDS over REST (api_type REST): wslb polls POST /v3/discovery:endpoints with a proto3 JSON
// DiscoveryRequest every refresh_delay; the control plane answers with a JSON DiscoveryResponse,
// or 304 Not Modified when wslb already holds the current version.

const assert = require('node:assert/strict');
const {
  EDS_TYPE_URL, bootstrap, cla, controlPlaneCluster, countByBackend, edsCluster, endpointsOf,
  eventually, expectCountsMatch, freePort, restEdsConfig, scenarioTest, sleep, waitForEndpoints,
} = require('./harness');

const CLUSTER = 'eds_cluster';

async function startRestWslb(sc, cp) {
  const listenerPort = await freePort();
  const config = bootstrap({
    listenerPort,
    clusters: [
      edsCluster(CLUSTER, restEdsConfig()),
      controlPlaneCluster(cp.restPort, { http2: false }),
    ],
  });
  const wslb = await sc.wslb({ config, listenerPort });
  await wslb.waitReady();
  return wslb;
}

// The first poll, from now on, that reports holding `version` (so wslb applied it).
function pollHolding(cp, version) {
  return cp.waitForRequest((r) => r.method === 'REST' && r.request.version_info === version &&
    !r.request.error_detail);
}

scenarioTest('REST: polls apply updates; a bad assignment is rejected and the old set stays',
  async (sc) => {
    const cp = await sc.controlPlane();
    const [a, b, c] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c');
    const first = cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a)));
    const wslb = await startRestWslb(sc, cp);

    const hello = await cp.waitForRequest((r) => r.method === 'REST');
    assert.equal(hello.request.node.id, 'wslb-eds-test');
    assert.equal(hello.request.node.user_agent_name, 'wslb');
    assert.deepEqual(hello.request.resource_names, [CLUSTER]);
    assert.equal(hello.request.type_url, EDS_TYPE_URL);
    assert.equal(hello.request.version_info, '');
    assert.equal(cp.errors.length, 0, `malformed requests: ${cp.errors.join('; ')}`);
    await pollHolding(cp, first);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-a');

    const second = cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a, b)));
    await pollHolding(cp, second);
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-b');

    // Rejected: the next poll reports the error and still holds the last good version.
    const bad = cp.setAssignment(CLUSTER,
      cla(CLUSTER, [...endpointsOf(a, b, c), { port: a.port, hostname: 'again' }]));
    const nack = await cp.waitForRequest((r) => r.method === 'REST' && r.nack);
    assert.equal(nack.request.version_info, second);
    assert.match(nack.request.error_detail.message, /duplicate/i);
    assert.notEqual(bad, second);
    await eventually(async () => {
      assert.ok((await wslb.stats())[`cluster.${CLUSTER}.update_rejected`] >= 1);
    });
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port]);
    const more = await sc.connectMany(wslb, 2);
    assert.deepEqual(countByBackend(more), { 'pod-a': 1, 'pod-b': 1 });
    assert.equal(c.live, 0, 'the rejected set was not used');

    // A good assignment after it is applied, and polling settles (304s are neither rejections
    // nor failures).
    const good = cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a, b, c)));
    await pollHolding(cp, good);
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port, c.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-c');
    await expectCountsMatch(wslb, CLUSTER, [a, b, c]);
    const settled = await wslb.stats();
    const pollsBefore = cp.requests.length;
    await sleep(1000);
    const later = await wslb.stats();
    assert.ok(cp.requests.length - pollsBefore >= 2, 'wslb keeps polling every refresh_delay');
    assert.equal(later[`cluster.${CLUSTER}.update_rejected`],
      settled[`cluster.${CLUSTER}.update_rejected`]);
    assert.equal(later[`cluster.${CLUSTER}.update_failure`], 0);
    assert.ok(later[`cluster.${CLUSTER}.update_success`] >= 3);
    assert.equal(cp.errors.length, 0, `malformed requests: ${cp.errors.join('; ')}`);
  });
