// The operator dashboard: asks for a token once (kept in sessionStorage), polls the provisioner's
// overview every 2 s and renders its tables and charts. Data goes into the page as text only.
import { drawBarChart, drawLineChart } from './charts.js';

const OVERVIEW = '/provisioner/api/v1/overview';
const TOKEN_KEY = 'provisioner-dashboard-token';
const REFRESH_MS = 2000;
/** Samples kept per app for the charts (two minutes at one sample per refresh). */
const SLOTS = 60;
/** A colour per reason the edge refuses for (edge/src/sla/metrics.ts Rejection). */
const REASON_COLOURS = {
  rate: '#e8590c',
  quota: '#c2255c',
  concurrency: '#ae3ec9',
  auth: '#5c940d',
  circuit: '#c92a2a',
  limiter: '#0c8599',
};

const $ = (id) => document.getElementById(id);
/** Per app (`org/app`): the last SLOTS samples of requests/s and p95 latency. */
const history = new Map();
let refreshes = 0;
let timer;

function cell(row, value, className) {
  const td = document.createElement('td');
  td.textContent = value === null || value === undefined ? '–' : String(value);
  if (className) td.className = className;
  row.append(td);
  return td;
}

function fillTable(id, rows, columns) {
  const body = $(id).tBodies[0];
  body.replaceChildren(
    ...rows.map((item) => {
      const tr = document.createElement('tr');
      for (const column of columns) {
        const value = column(item);
        if (value && typeof value === 'object') cell(tr, value.text, value.className);
        else cell(tr, value);
      }
      return tr;
    }),
  );
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    cell(tr, 'none').colSpan = columns.length;
    body.append(tr);
  }
}

const phase = (value) => ({ text: value, className: `phase phase-${String(value).toLowerCase()}` });
const ms = (value) => (value === null || value === undefined ? null : `${+value.toFixed(1)} ms`);
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : null);
const sum = (record) => Object.values(record ?? {}).reduce((a, b) => a + b, 0);

/** The most used quota of the app's consumers: "acme 8/10 calls a day (80 %)", or none. */
function quotaText(sla) {
  if (!sla) return null;
  const [top] = sla.quotaUsed ?? [];
  if (!top) return 'none';
  const parts = [top.calls && [top.calls, 'calls'], top.bytes && [top.bytes, 'bytes']].filter(Boolean);
  const [[count, unit]] = parts.sort((a, b) => b[0].used / (b[0].limit || 1) - a[0].used / (a[0].limit || 1));
  const share = count.limit === 0 ? 100 : Math.round((100 * count.used) / count.limit);
  const more = sla.quotaUsed.length > 1 ? ` (+${sla.quotaUsed.length - 1})` : '';
  return `${top.consumer} ${count.used}/${count.limit} ${unit} a ${top.period} (${share} %)${more}`;
}

function render(overview) {
  const apps = [...overview.clusters.flatMap((c) => c.apps), ...overview.unplacedApps];
  const edge = overview.edge;
  $('edge').textContent = edge.status === 'ok' ? 'Edge metrics: live' : `Edge metrics: ${edge.status}. ${edge.detail}`;
  $('edge').className = `edge edge-${edge.status}`;
  $('orgs').textContent = overview.orgs.length ? overview.orgs.join(', ') : 'none';
  fillTable('clusters', overview.clusters, [
    (c) => c.org,
    (c) => phase(c.phase),
    (c) =>
      [c.spec.region, c.spec.kubernetesVersion, c.spec.nodeCount && `${c.spec.nodeCount} nodes`]
        .filter(Boolean)
        .join(' · ') || null,
    (c) => `${c.observedGeneration}/${c.generation}`,
    (c) => c.apps.length,
    (c) => c.ingressUrl,
  ]);
  fillTable('apps', apps, [
    (a) => `${a.org}/${a.app}`,
    (a) => phase(a.phase),
    (a) => `${a.desiredRevision}${a.version ? ` (${a.version})` : ''}`,
    (a) => a.servingRevision,
    (a) => (a.replicas ? `${a.replicas.ready}/${a.replicas.desired}` : `?/${a.scale.replicas}`),
    (a) => a.sla?.requests,
    (a) => (a.sla ? +a.sla.requestsPerSecond.toFixed(2) : null),
    (a) => ms(a.sla?.latencyMs.p50),
    (a) => ms(a.sla?.latencyMs.p95),
    (a) => ms(a.sla?.latencyMs.p99),
    (a) => a.sla?.status['5xx'],
    (a) => (a.sla ? sum(a.sla.rejections) : null),
    (a) => quotaText(a.sla),
    (a) =>
      a.conditions
        .filter((c) => c.status !== 'True')
        .map((c) => `${c.type}: ${c.reason}`)
        .join('; ') || 'ok',
  ]);
  fillTable('releases', overview.releases, [
    (r) => `${r.org}/${r.app}`,
    (r) => r.revision,
    (r) => r.version,
    (r) => r.image,
    (r) => [r.serving && 'serving', r.desired && 'desired'].filter(Boolean).join(', ') || null,
    (r) => r.createdBy,
    (r) => time(r.createdAt),
  ]);
  fillTable('operations', overview.operations, [
    (o) => o.kind,
    (o) => (o.app ? `${o.org}/${o.app}` : o.org),
    (o) => phase(o.status),
    (o) => o.phase,
    (o) => o.reason,
    (o) => o.message,
    (o) => time(o.createdAt),
  ]);
  renderCharts(overview);
}

function renderCharts(overview) {
  for (const sla of overview.sla) {
    const key = `${sla.org}/${sla.app}`;
    const samples = history.get(key) ?? { rps: [], p95: [] };
    samples.rps.push(sla.requestsPerSecond);
    samples.p95.push(sla.latencyMs.p95);
    samples.rps.splice(0, Math.max(samples.rps.length - SLOTS, 0));
    samples.p95.splice(0, Math.max(samples.p95.length - SLOTS, 0));
    history.set(key, samples);
  }
  const series = (field) => [...history].map(([name, samples]) => ({ name, values: samples[field] }));
  drawLineChart($('chart-rps'), $('legend-rps'), series('rps'), { slots: SLOTS, unit: '/s', every: '2 s' });
  drawLineChart($('chart-p95'), $('legend-p95'), series('p95'), { slots: SLOTS, unit: ' ms', every: '2 s' });
  const reasons = new Map();
  for (const sla of overview.sla) {
    for (const [reason, n] of Object.entries(sla.rejections)) reasons.set(reason, (reasons.get(reason) ?? 0) + n);
  }
  const bars = [...reasons]
    .sort((a, b) => b[1] - a[1])
    .map(([label, value]) => ({ label, value, colour: REASON_COLOURS[label] }));
  drawBarChart($('chart-rejections'), bars);
}

function showStatus(text, problem = false) {
  $('status').textContent = text;
  $('status').className = problem ? 'status problem' : 'status';
}

function showLogin(message) {
  clearTimeout(timer);
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message ?? '';
  $('token').focus();
}

async function refresh() {
  clearTimeout(timer);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return showLogin();
  try {
    const response = await fetch(OVERVIEW, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    // Signed out (or another token entered) while this request ran: its answer is not shown.
    if (sessionStorage.getItem(TOKEN_KEY) !== token) return;
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      const problem = await response.json().catch(() => ({}));
      return showLogin(`${response.status}: ${problem.detail ?? problem.title ?? 'not allowed'}`);
    }
    if (!response.ok) throw new Error(`the provisioner answered ${response.status}`);
    const overview = await response.json();
    $('login').hidden = true;
    $('board').hidden = false;
    $('sign-out').hidden = false;
    render(overview);
    refreshes += 1;
    document.body.dataset.refreshes = String(refreshes);
    showStatus(`Updated ${time(overview.generatedAt)} · every ${REFRESH_MS / 1000} s`);
  } catch (error) {
    showStatus(`Refresh failed: ${error.message}; retrying`, true);
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  refresh();
});

$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  history.clear();
  showLogin();
});

refresh();
