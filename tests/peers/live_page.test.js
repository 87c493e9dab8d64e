'use strict';
// The admin live page in a real browser: the wslb binary balances `ws` clients over three capped
// pods (2, 3 and 4 connections) and one uncapped pod; headless Chromium (Debian's, driven by
// puppeteer-core) loads http://127.0.0.1:<admin>/ and the numbers it shows for every pod, and
// the totals, must equal what the test opened, and follow when connections close. A screenshot
// is kept as a test artefact. Everything listens on 127.0.0.1; the browser resolves nothing else.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const puppeteer = require('puppeteer-core');
const {
  HOST, SOURCE_DIR, bootstrap, eventually, expectRefused, freePort, scenarioTest,
} = require('./xds/harness');

const CHROMIUM = process.env.WSLB_CHROMIUM || '/usr/bin/chromium';
const ARTIFACT_DIR = process.env.WSLB_ARTIFACT_DIR || path.join(SOURCE_DIR, 'build', 'test-artifacts');
const CAPS = { 'pod-1': 2, 'pod-2': 3, 'pod-3': 4 };
const FOLLOW_MS = 5000;  // the page refreshes every second

function withTimeout(promise, timeoutMs, what) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)),
      timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function socketAddress(port) {
  return { socket_address: { address: HOST, port_value: port } };
}

function staticCluster(name, backends, caps = {}) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    lb_policy: 'LEAST_REQUEST',
    circuit_breakers: {
      thresholds: [{ priority: 'DEFAULT', max_connections: 1000, max_pending_requests: 0 }],
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [{
        lb_endpoints: backends.map((backend) => {
          const lbEndpoint = { endpoint: { hostname: backend.id, address: socketAddress(backend.port) } };
          if (caps[backend.id] !== undefined) {
            lbEndpoint.metadata = { filter_metadata: { wslb: { max_connections: caps[backend.id] } } };
          }
          return lbEndpoint;
        }),
      }],
    },
  };
}

// What the page shows: per cluster, its totals and one entry per pod row, read from the DOM.
function readPage(page) {
  return page.evaluate(() => {
    const text = (root, selector) => {
      const node = root.querySelector(selector);
      return node ? node.textContent.trim() : null;
    };
    const clusters = {};
    for (const section of document.querySelectorAll('section.cluster')) {
      const pods = {};
      for (const row of section.querySelectorAll('.pod')) {
        pods[row.dataset.address] = {
          active: text(row, '.active'),
          cap: text(row, '.cap'),
          remaining: text(row, '.remaining'),
          hostname: text(row, '.host'),
          barWidth: row.querySelector('.fill').style.width,
        };
      }
      clusters[section.dataset.cluster] = {
        active: text(section, '.total-active'),
        cap: text(section, '.total-cap'),
        overflow: text(section, '.overflow'),
        pending: text(section, '.pending'),
        maxPending: text(section, '.max-pending'),
        pods,
      };
    }
    return {
      state: text(document, '#state'),
      refreshes: Number(document.body.dataset.refreshes),
      error: text(document, '#error'),
      clusters,
    };
  });
}

// The page must show, for every backend, its own count of open connections and its cap.
async function expectPageShows(page, backendsByCluster, { overflow = {} } = {}) {
  return eventually(async () => {
    const shown = await readPage(page);
    assert.equal(shown.error, '', 'the page could not read /live.json');
    assert.equal(shown.state, 'LIVE');
    for (const [cluster, backends] of Object.entries(backendsByCluster)) {
      const c = shown.clusters[cluster];
      assert.ok(c, `cluster ${cluster} is not on the page`);
      let active = 0;
      let capSum = 0;
      for (const backend of backends) {
        const address = `${HOST}:${backend.port}`;
        const pod = c.pods[address];
        assert.ok(pod, `${backend.id} (${address}) has no row`);
        assert.equal(pod.hostname, backend.id);
        assert.equal(pod.active, String(backend.live),
          `${cluster}/${backend.id}: page shows ${pod.active}, the backend holds ${backend.live}`);
        const cap = CAPS[backend.id];
        if (cap === undefined) {
          assert.equal(pod.cap, 'unlimited', `${backend.id} cap`);
          assert.equal(pod.remaining, null);
        } else {
          assert.equal(pod.cap, String(cap), `${backend.id} cap`);
          assert.equal(pod.remaining, String(cap - backend.live), `${backend.id} room`);
          assert.equal(pod.barWidth, `${(100 * backend.live) / cap}%`, `${backend.id} bar`);
          capSum += cap;
        }
        active += backend.live;
      }
      assert.equal(Object.keys(c.pods).length, backends.length, `${cluster}: pod rows`);
      assert.equal(c.active, String(active), `${cluster}: total active`);
      assert.equal(c.cap, capSum === 0 ? 'unlimited' : String(capSum), `${cluster}: total cap`);
      assert.equal(c.overflow, String(overflow[cluster] ?? 0), `${cluster}: overflow`);
      assert.equal(c.pending, '0');
      assert.equal(c.maxPending, '0');
    }
    return shown;
  }, { timeoutMs: FOLLOW_MS, intervalMs: 100 });
}

async function screenshot(page, t, name) {
  fs.mkdirSync(ARTIFACT_DIR, { recursive: true });
  const file = path.join(ARTIFACT_DIR, name);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(fs.statSync(file).size > 1000, `${file} looks empty`);
  t.diagnostic(`screenshot: ${file}`);
  console.log(`live page screenshot: ${file}`);
}

async function launchBrowser() {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found (Debian package chromium)`);
  return withTimeout(puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    protocolTimeout: 30000,
    args: [
      '--no-sandbox',  // CI runs as root
      '--disable-gpu',
      '--disable-dev-shm-usage',
      // Loopback only: no name resolves to anything else.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  }), 45000, 'chromium to start');
}

async function closeBrowser(browser) {
  const child = browser.process();
  try {
    await withTimeout(browser.close(), 10000, 'chromium to close');
  } catch {
    if (child && child.exitCode === null) child.kill('SIGKILL');  // the one we started
  }
}

scenarioTest('the live page shows each pod\'s connections against its cap and follows changes',
  async (scenario, t) => {
    const pods = await scenario.backendsNamed('pod-1', 'pod-2', 'pod-3');
    const [open1] = await scenario.backendsNamed('open-1');
    const listenerPort = await freePort();
    const wslb = await scenario.wslb({
      config: bootstrap({
        listenerPort,
        clusters: [staticCluster('pods', pods, CAPS), staticCluster('open', [open1])],
        routes: [{ prefix: '/open', cluster: 'open' }, { prefix: '/', cluster: 'pods' }],
      }),
      listenerPort,
    });
    await wslb.waitReady();

    // Fill every pod to its cap (least connections among pods with room: 2 + 3 + 4), then one
    // more is refused (overflow), and two go to the uncapped pod.
    const clients = await scenario.connectMany(wslb, 9);
    assert.equal(await expectRefused(wslb.url('/')), 503);
    await scenario.connectMany(wslb, 2, '/open');
    for (const pod of pods) assert.equal(pod.live, CAPS[pod.id], `${pod.id} is full`);
    assert.equal(open1.live, 2);

    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 800 });
      const adminOrigin = `http://${HOST}:${wslb.adminPort}`;
      const requested = [];
      page.on('request', (request) => requested.push(request.url()));
      const response = await page.goto(`${adminOrigin}/`, { waitUntil: 'load', timeout: 15000 });
      assert.equal(response.status(), 200);
      assert.equal(await page.title(), 'wslb: connections per pod');

      const first = await expectPageShows(page, { pods, open: [open1] },
        { overflow: { pods: 1 } });
      await screenshot(page, t, 'live_page.png');

      // It keeps polling: the refresh count goes on.
      await eventually(async () => {
        const again = await readPage(page);
        assert.ok(again.refreshes >= first.refreshes + 2, `refreshes ${again.refreshes}`);
      }, { timeoutMs: FOLLOW_MS });

      // Change the pattern: close one on pod-1 and three on pod-3, one on the uncapped pod.
      const closing = [
        ...clients.filter((c) => c.backendId === 'pod-1').slice(0, 1),
        ...clients.filter((c) => c.backendId === 'pod-3').slice(0, 3),
      ];
      assert.equal(closing.length, 4);
      await Promise.all(closing.map((c) => c.close(1000)));
      await scenario.clients.find((c) => c.backendId === 'open-1').close(1000);
      await eventually(() => {
        assert.deepEqual(pods.map((p) => p.live), [1, 3, 1]);
        assert.equal(open1.live, 1);
      });
      await expectPageShows(page, { pods, open: [open1] }, { overflow: { pods: 1 } });
      await screenshot(page, t, 'live_page_after_close.png');

      // Every request the page made went to the admin listener.
      assert.ok(requested.length >= 3);
      for (const url of requested) assert.ok(url.startsWith(`${adminOrigin}/`), url);
    } finally {
      await closeBrowser(browser);
    }
  });
