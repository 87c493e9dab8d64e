'use strict';
// A real Prometheus server (Debian's `prometheus`) scrapes the metrics listeners of two wslb
// replicas in front of the same three pods. The PromQL queries of docs/observability.md must
// answer what the pods' own counts say: connections per pod across replicas, utilisation against
// the cap, overflows, handshake success and latency.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const {
  HOST, bootstrap, expectRefused, freePorts, httpGet, scenarioTest, stopChild, waitFor,
} = require('./xds/harness.js');

const PROMETHEUS = process.env.PROMETHEUS_BIN || '/usr/bin/prometheus';
const CAPS = [2, 3, 4];

function podsCluster(backends) {
  return {
    name: 'pods',
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: 'pods',
      endpoints: [{
        lb_endpoints: backends.map((backend, i) => ({
          endpoint: {
            address: { socket_address: { address: HOST, port_value: backend.port } },
            hostname: backend.id,
          },
          metadata: { filter_metadata: { wslb: { max_connections: CAPS[i] } } },
        })),
      }],
    },
  };
}

async function query(promPort, promql) {
  const { status, body } =
    await httpGet(promPort, `/api/v1/query?query=${encodeURIComponent(promql)}`);
  assert.equal(status, 200, `query ${promql} answered ${status}: ${body}`);
  const parsed = JSON.parse(body);
  assert.equal(parsed.status, 'success', body);
  return parsed.data.result;
}

// {label value -> number} for a query grouped by one label.
async function byLabel(promPort, promql, label) {
  const out = {};
  for (const sample of await query(promPort, promql)) out[sample.metric[label]] = Number(sample.value[1]);
  return out;
}

async function scalar(promPort, promql) {
  const result = await query(promPort, promql);
  assert.equal(result.length, 1, `${promql}: ${JSON.stringify(result)}`);
  return Number(result[0].value[1]);
}

scenarioTest('Prometheus answers the per-pod questions across two replicas', async (s) => {
  assert.ok(fs.existsSync(PROMETHEUS), `${PROMETHEUS} is missing (scripts/install-deps.sh installs it)`);
  const backends = await s.backendsNamed('pod-a', 'pod-b', 'pod-c');
  const [listen1, listen2, metrics1, metrics2, promPort] = await freePorts(5);
  const replicas = [];
  for (const [i, [listenerPort, metricsPort]] of [[listen1, metrics1], [listen2, metrics2]].entries()) {
    const config = bootstrap({ listenerPort, clusters: [podsCluster(backends)] });
    config.node = {
      id: `replica-${i + 1}`,
      cluster: 'ws-gateway',
      metadata: { wslb: { metrics_listener: { address: { socket_address: { address: HOST, port_value: metricsPort } } } } },
    };
    replicas.push(await s.wslb({ config, listenerPort, name: `replica${i + 1}` }));
  }

  // Replica 1 fills every pod to its cap and refuses one more; replica 2 holds four.
  await s.connectMany(replicas[0], CAPS.reduce((a, b) => a + b));
  assert.equal(await expectRefused(replicas[0].url()), 503);
  await s.connectMany(replicas[1], 4);
  const truth = Object.fromEntries(backends.map((b) => [`${HOST}:${b.port}`, b.live]));
  assert.equal(Object.values(truth).reduce((a, b) => a + b), 13);

  const scrapeConfig = path.join(s.dir, 'prometheus.yml');
  fs.writeFileSync(scrapeConfig, [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    'scrape_configs:',
    '- job_name: wslb',
    '  metrics_path: /metrics',
    `  static_configs: [{targets: ["${HOST}:${metrics1}", "${HOST}:${metrics2}"]}]`,
    '',
  ].join('\n'));
  const log = fs.openSync(path.join(s.dir, 'prometheus.log'), 'w');
  const prometheus = spawn(PROMETHEUS, [
    `--config.file=${scrapeConfig}`,
    `--storage.tsdb.path=${path.join(s.dir, 'tsdb')}`,
    `--web.listen-address=${HOST}:${promPort}`,
    '--log.level=warn',
  ], { stdio: ['ignore', log, log] });
  try {
    await waitFor(async () => (await httpGet(promPort, '/-/ready').catch(() => ({}))).status === 200,
      { timeoutMs: 30000, what: 'Prometheus to be ready' });

    // Connections per pod across all replicas.
    const perPod = 'sum by (envoy_endpoint_address) (envoy_cluster_endpoint_cx_active)';
    await waitFor(async () => {
      const got = await byLabel(promPort, perPod, 'envoy_endpoint_address');
      return Object.keys(truth).every((address) => got[address] === truth[address]);
    }, { timeoutMs: 30000, what: `${perPod} to equal the pods' own counts ${JSON.stringify(truth)}` });

    // Utilisation of each pod against its cap (each replica enforces its own cap).
    const utilisation = byLabel(promPort,
      'sum by (envoy_endpoint_address) (envoy_cluster_endpoint_cx_active)' +
      ' / sum by (envoy_endpoint_address) (envoy_cluster_endpoint_max_connections)',
      'envoy_endpoint_address');
    const got = await utilisation;
    backends.forEach((backend, i) => {
      const address = `${HOST}:${backend.port}`;
      assert.ok(Math.abs(got[address] - truth[address] / (2 * CAPS[i])) < 1e-9,
        `${address}: ${got[address]} != ${truth[address]}/${2 * CAPS[i]}`);
    });

    // Per-replica view against the cap: replica 1 has no room left anywhere.
    const room = await byLabel(promPort,
      'sum by (instance) (envoy_cluster_endpoint_remaining_cx)', 'instance');
    assert.equal(room[`${HOST}:${metrics1}`], 0);
    assert.equal(room[`${HOST}:${metrics2}`], CAPS.reduce((a, b) => a + b) - 4);

    // Overflows, and the handshake success ratio.
    assert.equal(await scalar(promPort, 'sum(envoy_cluster_upstream_cx_overflow)'), 1);
    const success = await scalar(promPort,
      'sum(envoy_http_websocket_upgrades{outcome="established"}) / sum(envoy_http_websocket_upgrades)');
    assert.ok(Math.abs(success - 13 / 14) < 1e-9, `success ratio ${success}`);

    // p99 handshake latency: needs two scrapes of the histogram for rate().
    await waitFor(async () => {
      const p99 = await query(promPort,
        'histogram_quantile(0.99, sum by (le) (rate(envoy_http_websocket_handshake_ms_bucket[30s])))');
      return p99.length === 1 && Number.isFinite(Number(p99[0].value[1]));
    }, { timeoutMs: 30000, what: 'a finite p99 handshake latency' }).catch(async () => {
      // No new handshakes in the window gives NaN; the cumulative quantile must still exist.
      const p99 = await scalar(promPort,
        'histogram_quantile(0.99, sum by (le) (envoy_http_websocket_handshake_ms_bucket))');
      assert.ok(Number.isFinite(p99) && p99 > 0, `p99 ${p99}`);
    });

    // Every query of the shipped Grafana dashboard parses and evaluates in this Prometheus.
    const dashboard = JSON.parse(fs.readFileSync(
      path.join(__dirname, '..', '..', 'docs', 'grafana-dashboard.json'), 'utf8'));
    let checked = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        await query(promPort, target.expr.replaceAll('$cluster', '.*'));
        checked += 1;
      }
    }
    assert.ok(checked >= 10, `only ${checked} dashboard queries`);
  } finally {
    await stopChild(prometheus);
    fs.closeSync(log);
  }
}, { timeout: 180000 });
