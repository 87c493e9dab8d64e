'use strict';
// The shipped EDS example configurations load and serve unchanged. They use fixed ports
// (listener 10000, admin 9901, control plane 127.0.0.1:18000, file-fed pods 127.0.0.1:9001-9003),
// so ctest runs this file under RESOURCE_LOCK fixed_ports.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  SOURCE_DIR, cla, connect, endpointsOf, runToExit, scenarioTest, waitFor, wslbBinary,
} = require('./harness');

const LISTENER_PORT = 10000;
const CONTROL_PLANE_PORT = 18000;
const FILE_PODS = [9001, 9002, 9003];
const GRPC_CONFIGS = ['conf/envoy-seed.yaml', 'conf/eds-ads.yaml'];
const FILE_CONFIG = 'conf/eds-file.yaml';
const ENV = { WSLB_SOURCE_DIR: SOURCE_DIR };

function shipped(relative) {
  const file = path.join(SOURCE_DIR, relative);
  assert.ok(fs.existsSync(file), `${relative} does not exist in ${SOURCE_DIR}`);
  return file;
}

for (const relative of [...GRPC_CONFIGS, FILE_CONFIG]) {
  scenarioTest(`${relative} passes --mode validate`, async () => {
    const file = shipped(relative);
    const result = await runToExit(wslbBinary(), ['--mode', 'validate', '-c', file],
      { cwd: SOURCE_DIR, env: ENV });
    assert.equal(result.code, 0, `validate exited ${result.code}:\n${result.output}`);
    assert.match(result.output, /OK/);
  });
}

// Every EDS resource name wslb has asked for so far, whatever the transport.
function requestedNames(cp) {
  const names = new Set();
  for (const { request } of cp.requests) {
    for (const name of request.resource_names ?? []) names.add(name);
    for (const name of request.resource_names_subscribe ?? []) names.add(name);
  }
  return names;
}

async function expectEcho(backendIds) {
  const client = await connect(`ws://127.0.0.1:${LISTENER_PORT}/`);
  try {
    assert.ok(backendIds.includes(client.backendId), `landed on ${client.backendId}`);
    await client.echo('through a shipped configuration');
  } finally {
    await client.close();
  }
}

for (const relative of GRPC_CONFIGS) {
  scenarioTest(`${relative} serves with a control plane on ${CONTROL_PLANE_PORT}`, async (sc) => {
    const file = shipped(relative);
    const cp = await sc.controlPlane({ grpcPort: CONTROL_PLANE_PORT, restPort: 0 });
    const pods = await sc.backendsNamed('pod-1', 'pod-2', 'pod-3');
    const wslb = await sc.wslb({ configPath: file, listenerPort: LISTENER_PORT, cwd: SOURCE_DIR,
      env: ENV });

    // Answer whatever names the configuration subscribes to, until wslb is ready.
    const assigned = new Set();
    await waitFor(async () => {
      for (const name of requestedNames(cp)) {
        if (!assigned.has(name)) {
          cp.setAssignment(name, cla(name, endpointsOf(...pods)));
          assigned.add(name);
        }
      }
      const { status } = await wslb.ready();
      return status === 200;
    }, { timeoutMs: 20000, intervalMs: 200, what: `${relative} to become ready` });
    assert.ok(assigned.size >= 1, 'wslb subscribed to at least one EDS resource');
    await expectEcho(pods.map((pod) => pod.id));
  });
}

scenarioTest(`${FILE_CONFIG} serves the pods listed in its file`, async (sc) => {
  const file = shipped(FILE_CONFIG);
  const pods = [];
  for (const [i, port] of FILE_PODS.entries()) pods.push(await sc.backend(`pod-${i + 1}`, port));
  const wslb = await sc.wslb({ configPath: file, listenerPort: LISTENER_PORT, cwd: SOURCE_DIR,
    env: ENV });
  await wslb.waitReady(20000);
  await expectEcho(pods.map((pod) => pod.id));
});
