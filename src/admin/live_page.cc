// GET /: the live page. One self-contained document: no external scripts, styles or fonts, so
// it works on an admin port with no way out. It polls /live.json every second and draws, per
// cluster, one bar per pod (active connections against the pod's cap), the pending queue and
// the totals. Text is inserted with textContent only (hostnames come from the control plane).

#include "wslb/admin/views.h"

namespace wslb::admin {

namespace {

constexpr std::string_view kLivePage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wslb: connections per pod</title>
<style>
  :root {
    --bg: #f6f7f9; --panel: #fff; --text: #1d2330; --muted: #667085; --line: #e3e6eb;
    --ok: #2e9d5b; --warn: #d99a1e; --full: #d1453b; --free: #eceff3; --uncapped: #4a7bd0;
  }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
         background: var(--bg); color: var(--text); }
  header { display: flex; flex-wrap: wrap; gap: 16px; align-items: baseline;
           padding: 14px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 18px; margin: 0 12px 0 0; }
  .badge { padding: 2px 8px; border-radius: 10px; font-weight: 600; font-size: 12px;
           background: var(--free); }
  .badge.LIVE { background: #dcf3e5; color: #17643a; }
  .badge.DRAINING, .badge.PRE_INITIALIZING, .badge.INITIALIZING {
    background: #fde7c2; color: #7a4f00; }
  .badge.offline { background: #fbd9d6; color: #8c1d14; }
  .muted { color: var(--muted); }
  main, #clusters { display: grid; gap: 16px; }
  main { padding: 16px 24px; }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
            padding: 14px 18px; }
  section h2 { font-size: 16px; margin: 0 0 8px; }
  .totals { display: flex; flex-wrap: wrap; gap: 20px; margin-bottom: 12px; }
  .totals b { font-size: 18px; font-variant-numeric: tabular-nums; }
  .pod { display: grid; grid-template-columns: minmax(180px, 260px) 1fr 150px 120px;
         gap: 12px; align-items: center; padding: 5px 0; border-top: 1px solid var(--line); }
  .pod .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .pod .host { color: var(--muted); margin-left: 6px; }
  .bar { position: relative; height: 18px; background: var(--free); border-radius: 4px;
         overflow: hidden; }
  .fill { height: 100%; background: var(--ok); transition: width 0.3s; }
  .fill.high { background: var(--warn); }
  .fill.full { background: var(--full); }
  .fill.uncapped { background: repeating-linear-gradient(45deg, var(--uncapped),
                   var(--uncapped) 6px, #6d96de 6px, #6d96de 12px); }
  .count { font-variant-numeric: tabular-nums; text-align: right; }
  .count .active { font-weight: 700; }
  .flags { font-size: 12px; }
  .flag { display: inline-block; padding: 0 6px; margin-right: 4px; border-radius: 8px;
          background: #fbd9d6; color: #8c1d14; }
  .flag.degraded { background: #fde7c2; color: #7a4f00; }
  .flag.removed { background: #e4e7ec; color: #344054; }
  .queue { margin-top: 10px; display: flex; gap: 10px; align-items: center; }
  .queue .bar { width: 240px; }
  .queue .fill { background: var(--warn); }
  table { border-collapse: collapse; }
  td, th { padding: 3px 14px 3px 0; text-align: left; font-variant-numeric: tabular-nums; }
  #error { color: var(--full); }
</style>
</head>
<body data-refreshes="0">
<header>
  <h1>wslb</h1>
  <span id="state" class="badge">…</span>
  <span class="muted">uptime <span id="uptime">–</span></span>
  <span class="muted">updated <span id="updated">never</span></span>
  <span id="error"></span>
</header>
<main>
  <div id="clusters"></div>
  <section id="listeners-section">
    <h2>Listeners</h2>
    <table>
      <thead><tr><th>listener</th><th>stat_prefix</th><th>downstream connections</th>
        <th>WebSockets</th></tr></thead>
      <tbody id="listeners"></tbody>
    </table>
  </section>
</main>
<script>
'use strict';
(function () {
  const REFRESH_MS = 1000;
  let refreshes = 0;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function percent(value, max) {
    if (!max) return value > 0 ? 100 : 0;
    return Math.min(100, (100 * value) / max);
  }

  function fillClass(pct) {
    if (pct >= 100) return 'fill full';
    if (pct >= 75) return 'fill high';
    return 'fill';
  }

  function formatUptime(s) {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') +
      sec + 's';
  }

  function podRow(endpoint, uncappedScale) {
    const row = el('div', 'pod');
    row.dataset.address = endpoint.address;
    const name = el('div', 'name');
    name.appendChild(el('span', 'address', endpoint.address));
    if (endpoint.hostname) name.appendChild(el('span', 'host', endpoint.hostname));
    row.appendChild(name);

    const bar = el('div', 'bar');
    const capped = endpoint.cap !== null;
    const pct = capped ? percent(endpoint.active, endpoint.cap)
                       : percent(endpoint.active, uncappedScale);
    const fill = el('div', capped ? fillClass(pct) : 'fill uncapped');
    fill.style.width = pct + '%';
    bar.appendChild(fill);
    row.appendChild(bar);

    const count = el('div', 'count');
    count.appendChild(el('span', 'active', endpoint.active));
    count.appendChild(document.createTextNode(' / '));
    count.appendChild(el('span', 'cap', capped ? endpoint.cap : 'unlimited'));
    if (capped) {
      count.appendChild(document.createTextNode(' · room '));
      count.appendChild(el('span', 'remaining', endpoint.remaining));
    }
    row.appendChild(count);

    const flags = el('div', 'flags');
    if (endpoint.removed) flags.appendChild(el('span', 'flag removed', 'removed'));
    else if (!endpoint.healthy) flags.appendChild(el('span', 'flag', 'unhealthy'));
    if (endpoint.degraded) flags.appendChild(el('span', 'flag degraded', 'degraded'));
    flags.appendChild(el('span', 'muted total', endpoint.total + ' total'));
    row.appendChild(flags);
    return row;
  }

  function total(label, className, value, suffix) {
    const span = el('span');
    span.appendChild(document.createTextNode(label + ' '));
    span.appendChild(el('b', className, value));
    if (suffix !== undefined) {
      span.appendChild(document.createTextNode(' / '));
      span.appendChild(el('span', className + '-max', suffix));
    }
    return span;
  }

  function clusterSection(cluster) {
    const section = el('section', 'cluster');
    section.dataset.cluster = cluster.name;
    section.appendChild(el('h2', '', cluster.name));

    const caps = cluster.endpoints.map((e) => e.cap);
    const allCapped = caps.length > 0 && caps.every((c) => c !== null);
    const podCap = allCapped ? caps.reduce((a, b) => a + b, 0) : null;
    const totals = el('div', 'totals');
    totals.appendChild(total('active', 'total-active', cluster.active));
    totals.appendChild(total('pod caps', 'total-cap', podCap === null ? 'unlimited' : podCap));
    totals.appendChild(total('cluster max_connections', 'cluster-max', cluster.max_connections));
    totals.appendChild(total('overflow', 'overflow', cluster.overflow_total));
    section.appendChild(totals);

    const uncappedScale = Math.max(1, ...cluster.endpoints
      .filter((e) => e.cap === null).map((e) => e.active));
    const pods = el('div', 'pods');
    for (const endpoint of cluster.endpoints) pods.appendChild(podRow(endpoint, uncappedScale));
    if (cluster.endpoints.length === 0) pods.appendChild(el('div', 'muted', 'no endpoints'));
    section.appendChild(pods);

    const queue = el('div', 'queue');
    queue.appendChild(el('span', '', 'pending queue'));
    const bar = el('div', 'bar');
    const fill = el('div', 'fill');
    fill.style.width = percent(cluster.pending, cluster.max_pending) + '%';
    bar.appendChild(fill);
    queue.appendChild(bar);
    const count = el('span', 'count');
    count.appendChild(el('span', 'pending', cluster.pending));
    count.appendChild(document.createTextNode(' / '));
    count.appendChild(el('span', 'max-pending', cluster.max_pending));
    queue.appendChild(count);
    section.appendChild(queue);
    return section;
  }

  function render(data) {
    const state = document.getElementById('state');
    state.textContent = data.server.state;
    state.className = 'badge ' + data.server.state;
    document.getElementById('uptime').textContent = formatUptime(data.server.uptime_s);
    document.getElementById('clusters').replaceChildren(...data.clusters.map(clusterSection));
    document.getElementById('listeners').replaceChildren(...data.listeners.map((l) => {
      const tr = el('tr');
      tr.dataset.listener = l.name;
      tr.appendChild(el('td', '', l.name));
      tr.appendChild(el('td', '', l.stat_prefix));
      tr.appendChild(el('td', 'downstream-active', l.downstream_cx_active));
      tr.appendChild(el('td', 'upgrades-active', l.upgrades_active));
      return tr;
    }));
    document.getElementById('updated').textContent = new Date().toLocaleTimeString();
  }

  async function refresh() {
    try {
      const res = await fetch('/live.json', { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      render(await res.json());
      document.getElementById('error').textContent = '';
      refreshes += 1;
      document.body.dataset.refreshes = String(refreshes);
    } catch (err) {
      const state = document.getElementById('state');
      state.textContent = 'offline';
      state.className = 'badge offline';
      document.getElementById('error').textContent = 'cannot read /live.json: ' + err.message;
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view livePageHtml() {
  return kLivePage;
}

}  // namespace wslb::admin
