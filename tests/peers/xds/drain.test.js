'use strict';
// wslb's extension for removed endpoints. With cluster metadata
// filter_metadata.wslb.removed_endpoint_drain_timeout (and _window), the WebSockets still open on
// an endpoint that EDS removed are closed with Close 1001 (Going Away) to both the client and the
// backend, starting `timeout` after the removal and spread evenly over `window`. Without it, they
// stay open until they end, as in Envoy.

const assert = require('node:assert/strict');
const {
  cla, countByBackend, endpointsOf, eventually, expectCountsMatch, scenarioTest, setAndAwaitAck,
  sleep, startGrpcEdsWslb, waitFor, waitForEndpoints,
} = require('./harness');

const CLUSTER = 'eds_cluster';
const TIMEOUT_MS = 1000;
const WINDOW_MS = 1000;
const GOING_AWAY = 1001;

async function startWithTwoPods(sc, wslbMetadata) {
  const cp = await sc.controlPlane();
  const [a, b] = await sc.backendsNamed('pod-a', 'pod-b');
  cp.setAssignment(CLUSTER, cla(CLUSTER, endpointsOf(a, b)));
  const wslb = await startGrpcEdsWslb(sc, cp.grpcPort, { wslbMetadata });
  return { cp, a, b, wslb };
}

scenarioTest('removed endpoint: its WebSockets get Close 1001 after the timeout, over the window',
  async (sc) => {
    const { cp, a, b, wslb } = await startWithTwoPods(sc, {
      removed_endpoint_drain_timeout: '1s',
      removed_endpoint_drain_window: '1s',
    });
    const clients = await sc.connectMany(wslb, 8);
    assert.deepEqual(countByBackend(clients), { 'pod-a': 4, 'pod-b': 4 });
    const onA = clients.filter((client) => client.backendId === 'pod-a');
    const onB = clients.filter((client) => client.backendId === 'pod-b');
    await expectCountsMatch(wslb, CLUSTER, [a, b]);

    const removedAt = Date.now();
    await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, endpointsOf(b)));
    await waitForEndpoints(wslb, CLUSTER, [b.port]);

    await waitFor(() => onA.every((client) => client.closeCode !== null),
      { timeoutMs: TIMEOUT_MS + WINDOW_MS + 8000, what: 'pod-a\'s clients to be closed' });
    const closeTimes = onA.map((client) => client.closedAt - removedAt).sort((x, y) => x - y);
    assert.deepEqual(onA.map((client) => client.closeCode), Array(4).fill(GOING_AWAY),
      'every client of the removed pod got Close 1001');
    assert.ok(closeTimes[0] >= TIMEOUT_MS - 100,
      `first close ${closeTimes[0]} ms after the removal: before the drain timeout`);
    assert.ok(closeTimes[3] <= TIMEOUT_MS + WINDOW_MS + 3000,
      `last close ${closeTimes[3]} ms after the removal: far beyond timeout + window`);
    assert.ok(closeTimes[3] - closeTimes[0] >= WINDOW_MS * 0.3,
      `closes at ${closeTimes.join(', ')} ms: not spread over the window`);

    // The backend side got the same Close code, and the slots are released.
    await eventually(() => {
      assert.equal(a.live, 0);
      assert.deepEqual(a.closeCodes, Array(4).fill(GOING_AWAY),
        'every backend connection of the removed pod got Close 1001');
    });
    await eventually(async () => {
      const host = await wslb.host(CLUSTER, a.port);
      assert.ok(host === undefined || host.cx_active === 0,
        `removed pod still counted: cx_active ${host?.cx_active}`);
    });

    // The other pod's connections are untouched.
    for (const client of onB) {
      assert.equal(client.closeCode, null);
      await client.echo('the remaining pod still works');
    }
    assert.equal(b.live, 4);
    assert.deepEqual(b.closeCodes, []);
    await expectCountsMatch(wslb, CLUSTER, [a, b]);
  });

scenarioTest('without the wslb drain metadata, a removed endpoint\'s WebSockets stay open',
  async (sc) => {
    const { cp, a, b, wslb } = await startWithTwoPods(sc, undefined);
    const clients = await sc.connectMany(wslb, 4);
    const onA = clients.filter((client) => client.backendId === 'pod-a');
    assert.equal(onA.length, 2);

    await setAndAwaitAck(cp, CLUSTER, cla(CLUSTER, endpointsOf(b)));
    await waitForEndpoints(wslb, CLUSTER, [b.port]);
    // Longer than the drain above would have taken.
    await sleep(TIMEOUT_MS + WINDOW_MS + 1500);

    for (const client of clients) {
      assert.equal(client.closeCode, null);
      await client.echo('still open');
    }
    assert.equal(a.live, 2);
    assert.deepEqual(a.closeCodes, []);
    const host = await wslb.host(CLUSTER, a.port);
    assert.equal(host?.cx_active, 2);
    assert.match(String(host?.health_flags), /\/pending_dynamic_removal/);
    await expectCountsMatch(wslb, CLUSTER, [a, b]);
  });
