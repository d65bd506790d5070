/**
 * The dashboard page: polls the admin API's JSON views every 2 s and draws them. Every name on screen
 * comes from configuration a user wrote, so the DOM is built with createElement and text nodes only —
 * never innerHTML — and an Ingress named `<script>` shows as those characters. A view that is missing
 * or failing (an older Switchyard without /api/v1/stats, a restart) shows "no data yet" and is retried.
 */
import { computeRates, formatPercent, formatRate, formatSeconds, pushBounded, serviceKey } from './stats.js';

const POLL_MS = 2000;
/** An absent /api/v1/stats (a Switchyard without it) is asked again this rarely, not every poll. */
const STATS_RETRY_MS = 30_000;
const HISTORY = 60;
/** Rows drawn at most: beyond this the filter box narrows the table (10,000 routes must not freeze the tab). */
const MAX_ROUTE_ROWS = 500;
const SVG = 'http://www.w3.org/2000/svg';

/** An element with attributes and children; strings become text nodes, null/false are skipped. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const $ = (id) => document.getElementById(id);
const empty = (text = 'no data yet') => h('p', { class: 'empty' }, text);

/** GET a JSON view relative to the page (so a path prefix in front of the admin API keeps working); null when it fails. */
async function getJson(path) {
  try {
    const res = await fetch(`../${path}`, { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) return { ok: false, status: res.status };
    return { ok: true, body: await res.json() };
  } catch {
    return { ok: false, status: 0 };
  }
}

function ago(iso, now) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/** When an ejection ends, as "in 25 s" (or "now" once past). */
function until(iso, now) {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  if (!Number.isFinite(s)) return '';
  return s <= 0 ? 'now' : s < 90 ? `in ${s} s` : `in ${Math.round(s / 60)} min`;
}

// ---- routes ----

let routes = [];
/** Snapshot version of the routes on screen: the route table only changes with the snapshot. */
let routesVersion;

function renderRoutes() {
  const needle = $('filter').value.trim().toLowerCase();
  const rows = routes.filter((r) => !needle || [r.host, r.path, r.pathType, r.ingress, r.service].some((v) => String(v ?? '').toLowerCase().includes(needle)));
  $('routes-count').textContent = needle ? `${rows.length} of ${routes.length}` : String(routes.length);
  const body = rows.slice(0, MAX_ROUTE_ROWS).map((r) =>
    h(
      'tr',
      null,
      h('td', { class: 'mono' }, r.host),
      h('td', { class: 'mono' }, r.path),
      h('td', null, r.pathType),
      h('td', null, r.ingress),
      h('td', { class: 'mono' }, r.service, r.problem ? h('div', { class: 'problem' }, r.problem) : null),
      h('td', { class: r.readyEndpoints > 0 ? 'sev-ok' : 'sev-error' }, r.readyEndpoints),
    ),
  );
  if (body.length === 0) body.push(h('tr', null, h('td', { colspan: 6, class: 'empty' }, routes.length ? 'no route matches the filter' : 'no routes')));
  if (rows.length > MAX_ROUTE_ROWS) body.push(h('tr', null, h('td', { colspan: 6, class: 'empty' }, `${rows.length - MAX_ROUTE_ROWS} more: narrow them with the filter`)));
  $('routes').tBodies[0].replaceChildren(...body);
}

function updateRoutes(view) {
  if (!view) return;
  routesVersion = view.version;
  routes = [...view.routes];
  const d = view.defaultBackend;
  if (d) routes.push({ host: '*', path: '(default backend)', pathType: '', ...d });
  renderRoutes();
}

// ---- endpoints ----

/** Words for the states whose API name says less than it could. */
const STATE_LABEL = { unhealthy: 'failing checks', 'not-ready': 'not ready' };

/** The pod of an endpoint: targetRef is `Pod/<namespace>/<name>` (or an object in other views). */
function podName(ref) {
  if (typeof ref === 'string') return ref.slice(ref.lastIndexOf('/') + 1);
  return ref?.name ?? '';
}

function updateEndpoints(view, now) {
  if (!view) return;
  const groups = new Map();
  for (const e of view.endpoints) {
    const key = e.backend ?? 'removed from the configuration';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(e);
  }
  const out = [];
  for (const key of [...groups.keys()].sort()) {
    const list = groups.get(key);
    const ready = list.filter((e) => e.state === 'ready').length;
    out.push(h('h3', null, h('span', { class: 'mono' }, key), ' ', h('span', { class: 'muted' }, `${ready}/${list.length} ready`)));
    out.push(
      h(
        'table',
        { class: 'endpoints' },
        h('thead', null, h('tr', null, h('th', null, 'Endpoint'), h('th', null, 'Pod'), h('th', null, 'State'), h('th', null, 'Reason'), h('th', null, 'Since'))),
        h(
          'tbody',
          null,
          list.map((e) =>
            h(
              'tr',
              { 'data-endpoint': e.key, 'data-state': e.state },
              h('td', { class: 'mono' }, e.key),
              h('td', null, podName(e.targetRef)),
              h('td', null, h('span', { class: `badge state-${e.state}` }, STATE_LABEL[e.state] ?? e.state)),
              h('td', null, e.reason ?? '', e.ejectedUntil ? h('span', { class: 'muted' }, ` · back ${until(e.ejectedUntil, now)}`) : null),
              h('td', { title: e.since ?? '' }, e.since ? ago(e.since, now) : ''),
            ),
          ),
        ),
      ),
    );
  }
  $('endpoints').replaceChildren(...(out.length ? out : [empty('no endpoints')]));
}

// ---- traffic charts ----

let lastStats;
let statsRetryAt = 0;
const history = new Map();

/** A sparkline: one polyline per run of known values, scaled to the series' maximum (or `ceiling`). */
function sparkline(values, ceiling) {
  const W = HISTORY - 1;
  const H = 36;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const base = document.createElementNS(SVG, 'line');
  base.setAttribute('class', 'base');
  for (const [k, v] of [['x1', 0], ['x2', W], ['y1', H - 0.5], ['y2', H - 0.5]]) base.setAttribute(k, String(v));
  svg.append(base);
  const known = values.filter((v) => v !== null && Number.isFinite(v));
  const max = ceiling ?? Math.max(...known, 0);
  const offset = HISTORY - values.length;
  let run = [];
  const flush = () => {
    if (run.length > 0) {
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', (run.length === 1 ? [[run[0][0] - 1, run[0][1]], run[0]] : run).map(([x, y]) => `${x},${y}`).join(' '));
      svg.append(line);
    }
    run = [];
  };
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) return flush();
    run.push([offset + i, max > 0 ? (H - 2 - (v / max) * (H - 4)).toFixed(2) : H - 2]);
  });
  flush();
  return svg;
}

function chart(label, values, format, cls, ceiling) {
  const last = values.length ? values[values.length - 1] : null;
  return h('div', { class: `chart ${cls}` }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, format(last)), sparkline(values, ceiling));
}

function updateStats(result, now) {
  if (!result.ok) {
    if (result.status === 404) statsRetryAt = now + STATS_RETRY_MS;
    lastStats = undefined;
    if (history.size === 0) $('charts').replaceChildren(empty(result.status === 404 ? 'no data yet (this Switchyard has no /api/v1/stats)' : 'no data yet'));
    return;
  }
  const rates = computeRates(lastStats, result.body);
  lastStats = result.body;
  const present = new Set(result.body.services.map(serviceKey));
  for (const key of history.keys()) if (!present.has(key)) history.delete(key);
  for (const [key, p] of rates) {
    if (!history.has(key)) history.set(key, { rps: [], errorRate: [], p50: [], p99: [] });
    const series = history.get(key);
    for (const name of ['rps', 'errorRate', 'p50', 'p99']) pushBounded(series[name], p[name], HISTORY);
  }
  if (history.size === 0) {
    $('charts').replaceChildren(empty(result.body.services.length ? 'no data yet (a rate needs two polls)' : 'no data yet (no Service has had a request)'));
    return;
  }
  const cards = [...history.keys()].sort().map((key) => {
    const s = history.get(key);
    return h(
      'div',
      { class: 'service', 'data-service': key },
      h('h3', { class: 'mono' }, key),
      h('div', { class: 'charts' }, chart('req/s', s.rps, formatRate, 'rps'), chart('errors (5xx)', s.errorRate, formatPercent, 'errors', 1), chart('p50', s.p50, formatSeconds, 'p50'), chart('p99', s.p99, formatSeconds, 'p99')),
    );
  });
  $('charts').replaceChildren(h('div', { class: 'services' }, cards));
}

// ---- configuration and certificates ----

function sourceProblems(src) {
  const out = [];
  // A file error's message already names the file, the document and the field.
  for (const f of src.rejectedFiles ?? []) out.push(`${f.code}: ${f.message}`);
  for (const r of src.rejected ?? []) out.push(`${r.code}: ${r.kind} ${r.namespace}/${r.name}: ${r.message}`);
  if (src.readError) out.push(`${src.readError.code}: ${src.readError.path}: ${src.readError.message}`);
  if (src.lastError && !(src.rejectedFiles ?? []).length) out.push(`last error ${src.lastError.code}: ${src.lastError.message}`);
  return out;
}

function updateConfig(view, now) {
  if (!view) return;
  const snap = view.snapshot;
  const out = [
    h('dl', { class: 'kv' }, h('dt', null, 'Snapshot'), h('dd', null, `version ${snap.version}, built ${ago(snap.createdAt, now)}`), h('dt', null, 'Hash'), h('dd', { class: 'mono' }, snap.hash), h('dt', null, 'Started'), h('dd', { title: view.startedAt }, ago(view.startedAt, now))),
  ];
  for (const src of view.sources) {
    const state = src.state ?? (src.loaded ? 'loaded' : 'loading');
    const problems = sourceProblems(src);
    const last = src.lastReload ? `last reload ${src.lastReload.result} ${ago(src.lastReload.at, now)}` : '';
    out.push(h('h3', null, `Source ${src.name} `, h('span', { class: `badge ${problems.length ? 'sev-warning' : 'sev-ok'}` }, state), ' ', h('span', { class: 'muted' }, `${src.objects ?? 0} objects ${last}`)));
    if (problems.length) out.push(h('ul', { class: 'problems' }, problems.map((p) => h('li', { class: 'problem' }, p))));
  }
  out.push(h('h3', null, `Diagnostics (${view.diagnostics.length})`));
  out.push(
    view.diagnostics.length === 0
      ? empty('none: every object compiled cleanly')
      : h(
          'table',
          { class: 'diagnostics' },
          h('thead', null, h('tr', null, h('th', null, 'Severity'), h('th', null, 'Code'), h('th', null, 'Object'), h('th', null, 'Message'))),
          h('tbody', null, view.diagnostics.map((d) => h('tr', null, h('td', { class: `sev-${d.severity}` }, d.severity), h('td', { class: 'mono' }, d.code), h('td', null, `${d.kind} ${d.namespace}/${d.name}`), h('td', null, d.message)))),
        ),
  );
  $('config').replaceChildren(...out);
}

function updateCertificates(view) {
  if (!view) return;
  if (view.certificates.length === 0) return $('certificates').replaceChildren(empty('no certificates in use (no TLS listener or no tls: entries)'));
  const rows = view.certificates.map((c) => {
    const days = c.daysLeft;
    const cls = days === null ? '' : days < 0 ? 'days-bad' : days < 14 ? 'days-warn' : '';
    return h(
      'tr',
      null,
      h('td', { class: 'mono' }, c.secret ?? 'generated (self-signed)', c.isDefault ? h('span', { class: 'muted' }, ' default') : null),
      h('td', { class: 'mono' }, (c.hosts.length ? c.hosts : c.sans).join(', ')),
      h('td', null, c.ingresses.join(', ')),
      h('td', { title: c.notAfter ?? '' }, c.notAfter ? c.notAfter.slice(0, 10) : ''),
      h('td', { class: cls }, days === null ? '' : days < 0 ? `expired ${-days} days ago` : `${days} days`),
      h('td', { class: 'problem' }, c.error ?? ''),
    );
  });
  $('certificates').replaceChildren(
    h('table', null, h('thead', null, h('tr', null, ['Secret', 'Hosts', 'Ingresses', 'Not after', 'Left', 'Problem'].map((t) => h('th', null, t)))), h('tbody', null, rows)),
  );
}

// ---- polling ----

async function tick() {
  const now = Date.now();
  const wantStats = now >= statsRetryAt;
  const [e, c, t, s] = await Promise.all([getJson('api/v1/endpoints'), getJson('api/v1/config'), getJson('api/v1/certificates'), wantStats ? getJson('api/v1/stats') : null]);
  // The route table can be large: fetched again only when the snapshot changed (or its version is unknown).
  const r = c.ok && c.body.snapshot.version === routesVersion ? { ok: true, body: null } : await getJson('api/v1/routes');
  updateRoutes(r.ok ? r.body : null);
  updateEndpoints(e.ok ? e.body : null, now);
  updateConfig(c.ok ? c.body : null, now);
  updateCertificates(t.ok ? t.body : null);
  if (s) updateStats(s, now);
  const status = $('status');
  const down = !e.ok && !c.ok;
  status.className = down ? 'status bad' : 'status';
  status.textContent = down ? 'admin API unreachable; retrying' : `live · snapshot v${c.ok ? c.body.snapshot.version : '?'} · updated ${new Date(now).toLocaleTimeString()}`;
}

async function loop() {
  try {
    await tick();
  } catch (err) {
    // A view with an unexpected shape (a newer or older Switchyard): say so rather than stop polling.
    $('status').className = 'status bad';
    $('status').textContent = `cannot show a view: ${err instanceof Error ? err.message : String(err)}`;
  }
  setTimeout(loop, POLL_MS);
}

$('filter').addEventListener('input', renderRoutes);
loop();
