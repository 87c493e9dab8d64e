'use strict';
// EDS over ADS: two EDS clusters with `eds_config: {ads: {}}` share the one
// AggregatedDiscoveryService stream from dynamic_resources.ads_config, in state-of-the-world
// (StreamAggregatedResources) and incremental (DeltaAggregatedResources) form.

const assert = require('node:assert/strict');
const {
  EDS_TYPE_URL, adsEdsConfig, bootstrap, cla, controlPlaneCluster, edsCluster, endpointsOf,
  eventually, freePort, grpcApiSource, scenarioTest, waitForEndpoints,
} = require('./harness');

const ONE = 'eds_one';
const TWO = 'eds_two';

async function startAdsWslb(sc, cp, apiType) {
  const listenerPort = await freePort();
  const config = bootstrap({
    listenerPort,
    clusters: [
      edsCluster(ONE, adsEdsConfig()),
      edsCluster(TWO, adsEdsConfig()),
      controlPlaneCluster(cp.grpcPort),
    ],
    routes: [{ prefix: '/one', cluster: ONE }, { prefix: '/two', cluster: TWO }],
    dynamicResources: { ads_config: grpcApiSource({ apiType }) },
  });
  const wslb = await sc.wslb({ config, listenerPort });
  await wslb.waitReady();
  return wslb;
}

// The names one stream has subscribed to, from all its requests so far.
function subscribedNames(requests, delta) {
  const names = new Set();
  for (const { request } of requests) {
    if (delta) {
      for (const name of request.resource_names_subscribe) names.add(name);
      for (const name of request.resource_names_unsubscribe) names.delete(name);
    } else {
      names.clear();
      for (const name of request.resource_names) names.add(name);
    }
  }
  return [...names].sort();
}

// After an update of one cluster, a new connection to its route lands on the new pod while the
// other cluster's route still reaches its own pod.
async function expectRouting(sc, wslb, { one, two }) {
  const viaOne = await sc.connect(wslb, '/one/ws');
  const viaTwo = await sc.connect(wslb, '/two/ws');
  assert.equal(viaOne.backendId, one);
  assert.equal(viaTwo.backendId, two);
  await viaOne.echo('one');
  await viaTwo.echo('two');
  await viaOne.close();
  await viaTwo.close();
}

for (const { apiType, method, delta } of [
  { apiType: 'GRPC', method: 'StreamAggregatedResources', delta: false },
  { apiType: 'DELTA_GRPC', method: 'DeltaAggregatedResources', delta: true },
]) {
  scenarioTest(`ADS ${apiType}: one ${method} stream carries both clusters`, async (sc) => {
    const cp = await sc.controlPlane();
    const [one1, one2, two1, two2] = await sc.backendsNamed('one-1', 'one-2', 'two-1', 'two-2');
    cp.setAssignment(ONE, cla(ONE, endpointsOf(one1)));
    cp.setAssignment(TWO, cla(TWO, endpointsOf(two1)));
    const wslb = await startAdsWslb(sc, cp, apiType);

    const streamRequests = () => cp.requests.filter((r) => r.method === method);
    await eventually(() => {
      assert.deepEqual(subscribedNames(streamRequests(), delta), [ONE, TWO]);
    });
    const streams = new Set(cp.requests.map((r) => `${r.method}#${r.streamId}`));
    assert.deepEqual([...streams], [`${method}#${streamRequests()[0].streamId}`],
      'exactly one stream, the aggregated one');
    const hello = streamRequests()[0];
    assert.equal(hello.firstOnStream, true);
    assert.equal(hello.request.type_url, EDS_TYPE_URL);
    assert.equal(hello.request.node.id, 'wslb-eds-test');
    assert.equal(hello.request.node.user_agent_name, 'wslb');
    await expectRouting(sc, wslb, { one: 'one-1', two: 'two-1' });

    // Each cluster takes its own updates from the shared stream.
    const v2 = cp.setAssignment(TWO, cla(TWO, endpointsOf(two2)));
    await cp.waitForRequest((r) => r.method === method && r.ack &&
      cp.responses.some((s) => s.nonce === r.request.response_nonce && s.version === v2));
    await waitForEndpoints(wslb, TWO, [two2.port]);
    await expectRouting(sc, wslb, { one: 'one-1', two: 'two-2' });

    const v3 = cp.setAssignment(ONE, cla(ONE, endpointsOf(one2)));
    await cp.waitForRequest((r) => r.method === method && r.ack &&
      cp.responses.some((s) => s.nonce === r.request.response_nonce && s.version === v3));
    await waitForEndpoints(wslb, ONE, [one2.port]);
    await expectRouting(sc, wslb, { one: 'one-2', two: 'two-2' });

    assert.equal(cp.requests.filter((r) => r.nack).length, 0, 'nothing was NACKed');
    // How often a state-of-the-world response that repeats a cluster's unchanged assignment
    // counts for it is up to the client; each cluster took at least its two versions.
    const stats = await wslb.stats();
    for (const cluster of [ONE, TWO]) {
      assert.ok(stats[`cluster.${cluster}.update_success`] >= 2, `${cluster} update_success`);
      assert.equal(stats[`cluster.${cluster}.update_rejected`], 0, `${cluster} update_rejected`);
    }
  });
}
