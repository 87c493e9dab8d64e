'use strict';
// Start-up without a control plane: /ready says PRE_INITIALIZING until every EDS cluster has
// its first assignment or its initial_fetch_timeout has passed (0s: wait for ever).

const assert = require('node:assert/strict');
const {
  cla, endpointsOf, eventually, freePort, scenarioTest, sleep, startGrpcEdsWslb, waitFor,
} = require('./harness');

const CLUSTER = 'eds_cluster';
const PRE_INITIALIZING = [503, 'PRE_INITIALIZING\n'];
const LIVE = [200, 'LIVE\n'];

async function readyState(wslb) {
  const { status, body } = await wslb.ready();
  return [status, body];
}

scenarioTest('initial_fetch_timeout 1s: PRE_INITIALIZING, then LIVE without any assignment',
  async (sc) => {
    const nobodyHome = await freePort();
    const wslb = await startGrpcEdsWslb(sc, nobodyHome,
      { initialFetchTimeout: '1s', waitReady: false });
    const startedAt = Date.now();
    assert.deepEqual(await readyState(wslb), PRE_INITIALIZING);

    await waitFor(async () => (await readyState(wslb))[0] === 200,
      { timeoutMs: 10000, intervalMs: 50, what: '/ready to turn 200 after the fetch timeout' });
    const liveAfterMs = Date.now() - startedAt;
    assert.deepEqual(await readyState(wslb), LIVE);
    assert.ok(liveAfterMs >= 500, `LIVE after ${liveAfterMs} ms: too early for a 1 s timeout`);
    await eventually(async () => {
      const stats = await wslb.stats();
      assert.equal(stats[`cluster.${CLUSTER}.init_fetch_timeout`], 1);
      assert.equal(stats['control_plane.connected_state'], 0);
      assert.equal(stats[`cluster.${CLUSTER}.membership_total`], 0);
    });
  });

scenarioTest('initial_fetch_timeout 0s: PRE_INITIALIZING until the control plane answers',
  async (sc) => {
    const [a] = await sc.backendsNamed('pod-a');
    const grpcPort = await freePort();
    const wslb = await startGrpcEdsWslb(sc, grpcPort,
      { initialFetchTimeout: '0s', waitReady: false });

    // Well past the default backoff's first retries and Envoy's 1 s examples: still waiting.
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      assert.deepEqual(await readyState(wslb), PRE_INITIALIZING);
      await sleep(250);
    }
    assert.equal((await wslb.stats())[`cluster.${CLUSTER}.init_fetch_timeout`], 0);

    // The control plane comes up on the configured port with the assignment.
    const cp = await sc.controlPlane({ grpcPort });
    cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a)));
    await cp.waitForRequest((r) => r.ack, 20000);
    await wslb.waitReady(10000);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-a');
  });
