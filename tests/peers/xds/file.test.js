'use strict';
// File-based EDS (path_config_source, and the older `path`): the file holds a DiscoveryResponse
// in YAML, JSON or binary protobuf. Writers replace it with rename(), the only atomic update, or
// (Kubernetes ConfigMap) by swapping the `..data` symlink inside a watched directory.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const protos = require('./protos');
const {
  EDS_TYPE_URL, bootstrap, cla, countByBackend, edsCluster, endpointsOf, eventually,
  expectCountsMatch, expectRefused, freePort, scenarioTest, toYaml, waitForEndpoints,
} = require('./harness');

const CLUSTER = 'eds_cluster';

function discoveryResponse(version, assignment, extra = {}) {
  return {
    version_info: version,
    resources: [protos.toAny(EDS_TYPE_URL, assignment)],
    type_url: EDS_TYPE_URL,
    ...extra,
  };
}

// The file's bytes in the format its extension names, written the way Envoy's docs show:
// YAML with the .proto field names, JSON in the canonical proto3 JSON mapping.
function encodeFor(file, response) {
  const type = protos.types.DiscoveryResponse;
  if (file.endsWith('.pb')) return protos.encode(type, response);
  if (file.endsWith('.json')) return `${JSON.stringify(protos.messageToJson(type, response), null, 2)}\n`;
  return toYaml(protos.messageToJson(type, response, { protoNames: true }));
}

let tempCounter = 0;

// Replaces `file` atomically: a temporary file in the same directory, then rename() over it.
function replaceFile(file, content) {
  tempCounter += 1;
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${tempCounter}`);
  fs.writeFileSync(temp, content);
  fs.renameSync(temp, file);
}

function writeAssignment(file, version, assignment, extra) {
  replaceFile(file, encodeFor(file, discoveryResponse(version, assignment, extra)));
}

async function startFileWslb(sc, edsConfig, clusterOptions = {}) {
  const listenerPort = await freePort();
  const config = bootstrap({
    listenerPort,
    clusters: [edsCluster(CLUSTER, { resource_api_version: 'V3', ...edsConfig }, clusterOptions)],
  });
  const wslb = await sc.wslb({ config, listenerPort });
  await wslb.waitReady();
  return wslb;
}

const statOf = async (wslb, name) => (await wslb.stats())[`cluster.${CLUSTER}.${name}`];

scenarioTest('path_config_source YAML: renames apply; bad files are rejected, old set kept',
  async (sc) => {
    const [a, b, c] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c');
    const file = path.join(sc.dir, 'eds.yaml');
    writeAssignment(file, 'v1', cla(CLUSTER, endpointsOf(a)));
    const wslb = await startFileWslb(sc, { path_config_source: { path: file } });
    assert.equal((await sc.connect(wslb)).backendId, 'pod-a');

    writeAssignment(file, 'v2', cla(CLUSTER, endpointsOf(a, b)));
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-b');

    writeAssignment(file, 'v3', cla(CLUSTER, [...endpointsOf(a, b, c), { port: 0 }]));
    await eventually(async () => assert.equal(await statOf(wslb, 'update_rejected'), 1));
    // A file that does not parse at all: Envoy counts that as update_failure rather than
    // update_rejected; either way it is not applied.
    replaceFile(file, 'version_info: v4\nresources: [ {\n');
    await eventually(async () => {
      const failed = await statOf(wslb, 'update_rejected') + await statOf(wslb, 'update_failure');
      assert.equal(failed, 2);
    });
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port]);
    const more = await sc.connectMany(wslb, 2);
    assert.deepEqual(countByBackend(more), { 'pod-a': 1, 'pod-b': 1 });
    assert.equal(c.live, 0, 'the rejected file was not used');

    writeAssignment(file, 'v5', cla(CLUSTER, endpointsOf(a, b, c)));
    await waitForEndpoints(wslb, CLUSTER, [a.port, b.port, c.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-c');
    await expectCountsMatch(wslb, CLUSTER, [a, b, c]);
    assert.equal(await statOf(wslb, 'update_success'), 3);
  });

scenarioTest('the older `path:` form works the same way', async (sc) => {
  const [a, b] = await sc.backendsNamed('pod-a', 'pod-b');
  const file = path.join(sc.dir, 'eds.yaml');
  writeAssignment(file, 'v1', cla(CLUSTER, endpointsOf(a)));
  const wslb = await startFileWslb(sc, { path: file });
  assert.equal((await sc.connect(wslb)).backendId, 'pod-a');
  writeAssignment(file, 'v2', cla(CLUSTER, endpointsOf(b)));
  await waitForEndpoints(wslb, CLUSTER, [b.port]);
  assert.equal((await sc.connect(wslb)).backendId, 'pod-b');
});

scenarioTest('a JSON file (eds.json) in the proto3 JSON mapping', async (sc) => {
  const [a, b] = await sc.backendsNamed('pod-a', 'pod-b');
  const file = path.join(sc.dir, 'eds.json');
  writeAssignment(file, 'v1', cla(CLUSTER, [{ port: a.port, hostname: 'pod-a', maxConnections: 1 }]));
  const wslb = await startFileWslb(sc, { path_config_source: { path: file } }, {
    pendingTimeout: '0s' });
  assert.equal((await sc.connect(wslb)).backendId, 'pod-a');
  assert.equal(await expectRefused(wslb.url('/')), 503, 'pod-a is capped at 1 by its metadata');
  writeAssignment(file, 'v2', cla(CLUSTER, [{ port: a.port, hostname: 'pod-a', maxConnections: 1 },
    { port: b.port, hostname: 'pod-b' }]));
  await waitForEndpoints(wslb, CLUSTER, [a.port, b.port]);
  assert.equal((await sc.connect(wslb)).backendId, 'pod-b');
  assert.equal((await wslb.host(CLUSTER, b.port)).hostname, 'pod-b');
});

// Everything an Envoy control plane may put in a ClusterLoadAssignment that does not change
// where wslb sends traffic, around the fields that do.
function fullAssignment(a, b, c, d) {
  const extraFields = (hcPort) => ({
    endpoint: {
      health_check_config: { port_value: hcPort, hostname: `hc-${hcPort}` },
      additional_addresses: [{
        address: { socket_address: { address: '127.0.0.2', port_value: hcPort + 1 } },
      }],
    },
  });
  const metadata = (cap) => ({ wslb: { max_connections: cap }, 'envoy.lb': { canary: false,
    version: 'v7' } });
  const zoneA = { region: 'eu-west', zone: 'eu-west-1a', sub_zone: 'rack-1' };
  const zoneB = { region: 'eu-west', zone: 'eu-west-1b' };
  return cla(CLUSTER, [
    { port: a.port, hostname: 'pod-a', weight: 2, health: 'HEALTHY', locality: zoneA,
      metadata: metadata(3), extra: extraFields(18081) },
    { port: b.port, hostname: 'pod-b', weight: 1, health: 'DEGRADED', locality: zoneA,
      metadata: metadata(4), extra: extraFields(18083) },
    { port: c.port, hostname: 'pod-c', weight: 5, health: 'UNHEALTHY', locality: zoneB,
      priority: 1, metadata: metadata(9), extra: extraFields(18085) },
    { port: d.port, hostname: 'pod-d', weight: 3, health: 'HEALTHY', locality: zoneB,
      priority: 1, metadata: metadata(2), extra: extraFields(18087) },
  ], {
    policy: { overprovisioning_factor: { value: 140 } },
    localityWeights: { 'eu-west/eu-west-1a/rack-1': 10, 'eu-west/eu-west-1b/': 20 },
  });
}

scenarioTest('a binary eds.pb with every field Envoy fills is read exactly', async (sc) => {
  const [a, b, c, d] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c', 'pod-d');
  const file = path.join(sc.dir, 'eds.pb');
  writeAssignment(file, 'pb-1', fullAssignment(a, b, c, d),
    { nonce: 'file-nonce', control_plane: { identifier: 'wslb-tests' } });
  const wslb = await startFileWslb(sc, { path_config_source: { path: file } },
    { perHostMax: 100, pendingTimeout: '0s' });

  const hosts = await wslb.hostsOf(CLUSTER);
  const expected = {
    [`127.0.0.1:${a.port}`]: ['pod-a', 2, 0, 3, 'healthy'],
    [`127.0.0.1:${b.port}`]: ['pod-b', 1, 0, 4, '/degraded_eds_health'],
    [`127.0.0.1:${c.port}`]: ['pod-c', 5, 1, 9, '/failed_eds_health'],
    [`127.0.0.1:${d.port}`]: ['pod-d', 3, 1, 2, 'healthy'],
  };
  assert.deepEqual(Object.keys(hosts).sort(), Object.keys(expected).sort(),
    'exactly the endpoint addresses: no health-check port, no additional address');
  for (const [address, [hostname, weight, priority, cap, flags]] of Object.entries(expected)) {
    const host = hosts[address];
    assert.deepEqual(
      [host.hostname, host.weight, host.priority, host.max_connections],
      [hostname, weight, priority, cap], address);
    if (flags === 'healthy') assert.equal(host.health_flags, 'healthy', address);
    else assert.ok(String(host.health_flags).includes(flags), `${address}: ${host.health_flags}`);
  }

  // Caps from the wslb metadata, health and priority decide the traffic: a (healthy, 3), then
  // b (degraded, 4), then priority 1's healthy d (2); c is unhealthy; then nothing has room.
  const clients = await sc.connectMany(wslb, 9);
  assert.deepEqual(countByBackend(clients), { 'pod-a': 3, 'pod-b': 4, 'pod-d': 2 });
  assert.equal(await expectRefused(wslb.url('/')), 503);
  assert.equal(c.live, 0);
  await expectCountsMatch(wslb, CLUSTER, [a, b, c, d]);
  assert.equal(await statOf(wslb, 'update_success'), 1);
  assert.equal(await statOf(wslb, 'update_rejected'), 0);
});

// kubelet's ConfigMap layout: <dir>/eds.yaml -> ..data/eds.yaml, ..data -> ..<timestamp>.
function configMapRevision(dir, revision, content) {
  const revisionDir = path.join(dir, revision);
  fs.mkdirSync(revisionDir);
  fs.writeFileSync(path.join(revisionDir, 'eds.yaml'), content);
}

function swapConfigMap(dir, revision) {
  const temp = path.join(dir, '..data_tmp');
  fs.symlinkSync(revision, temp);
  fs.renameSync(temp, path.join(dir, '..data'));
}

function yamlAssignment(version, assignment) {
  return encodeFor('eds.yaml', discoveryResponse(version, assignment));
}

scenarioTest('Kubernetes ConfigMap: a ..data symlink swap in the watched directory applies',
  async (sc) => {
    const [a, b, c] = await sc.backendsNamed('pod-a', 'pod-b', 'pod-c');
    const dir = path.join(sc.dir, 'configmap');
    fs.mkdirSync(dir);
    configMapRevision(dir, '..2026_1', yamlAssignment('v1', cla(CLUSTER, endpointsOf(a))));
    fs.symlinkSync('..2026_1', path.join(dir, '..data'));
    fs.symlinkSync('..data/eds.yaml', path.join(dir, 'eds.yaml'));
    const file = path.join(dir, 'eds.yaml');
    const wslb = await startFileWslb(sc,
      { path_config_source: { path: file, watched_directory: { path: dir } } });
    assert.equal((await sc.connect(wslb)).backendId, 'pod-a');

    configMapRevision(dir, '..2026_2', yamlAssignment('v2', cla(CLUSTER, endpointsOf(b))));
    swapConfigMap(dir, '..2026_2');
    fs.rmSync(path.join(dir, '..2026_1'), { recursive: true });
    await waitForEndpoints(wslb, CLUSTER, [b.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-b');

    configMapRevision(dir, '..2026_3', yamlAssignment('v3', cla(CLUSTER, endpointsOf(b, c))));
    swapConfigMap(dir, '..2026_3');
    fs.rmSync(path.join(dir, '..2026_2'), { recursive: true });
    await waitForEndpoints(wslb, CLUSTER, [b.port, c.port]);
    assert.equal((await sc.connect(wslb)).backendId, 'pod-c');
    await expectCountsMatch(wslb, CLUSTER, [a, b, c]);
  });
