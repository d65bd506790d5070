/**
 * deploy/grafana/switchyard-dashboard.json: importable into Grafana 10/11 (a Prometheus datasource variable,
 * namespace/service variables, a sane grid), and every metric its queries read is one the real program
 * exports: the `# TYPE` lines of GET /metrics on the admin listener of the CLI started as a child process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, request } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods } from '../helpers/pods.ts';
import { REPO_ROOT, startSwitchyard } from '../helpers/switchyard.ts';
import { exportedTypes, metricNames, unknownMetrics } from './promql.ts';

afterEach(cleanupAll);

interface Target {
  readonly refId?: string;
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query?: string };
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}
interface Dashboard {
  readonly id: number | null;
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
  readonly annotations?: { readonly list: readonly { readonly name: string; readonly expr?: string; readonly datasource?: { readonly uid?: string } }[] };
}

const FILE = join(REPO_ROOT, 'deploy/grafana/switchyard-dashboard.json');
const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
const DATASOURCE = '${datasource}';
/** Interval and range variables Grafana defines itself. */
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms']);

/** Every panel, rows' nested panels (a collapsed row keeps them there) included. */
const panels: readonly Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');
const variableQuery = (v: Variable): string | undefined => (typeof v.query === 'string' ? v.query : v.query?.query);

/** Every PromQL expression in the dashboard, with where it is. */
const queries: readonly { readonly where: string; readonly expr: string }[] = [
  ...queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr ?? '' }))),
  ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `variable $${v.name}`, expr: variableQuery(v) ?? '' })),
  ...(dashboard.annotations?.list ?? []).filter((a) => a.expr !== undefined).map((a) => ({ where: `annotation "${a.name}"`, expr: a.expr! })),
];

describe('deploy/grafana: the dashboard imports into Grafana 10/11', () => {
  it('is a dashboard for import: no id, a stable uid, a schema version Grafana 10 and 11 both migrate from', () => {
    expect(dashboard.id).toBeNull();
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).toMatch(/Switchyard/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(39);
  });

  it('has a Prometheus datasource variable, and instance/namespace/service variables from label_values over it', () => {
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['instance', 'namespace', 'service']) {
      const v = vars.get(name);
      expect(v?.type, name).toBe('query');
      expect(v?.datasource?.uid, name).toBe(DATASOURCE);
      expect(variableQuery(v!), name).toMatch(new RegExp(`^label_values\\(.*, ${name}\\)$`));
    }
  });

  it('every panel queries the datasource variable, with at least one non-empty expression and distinct refIds', () => {
    expect(queryPanels.length).toBeGreaterThanOrEqual(20);
    for (const p of queryPanels) {
      expect(p.datasource?.uid, p.title).toBe(DATASOURCE);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.expr?.trim(), `${p.title} ${t.refId}`).toBeTruthy();
        expect(t.datasource?.uid ?? DATASOURCE, `${p.title} ${t.refId}`).toBe(DATASOURCE);
      }
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
    }
  });

  it('panel ids are unique and the panels tile the 24-column grid without overlapping', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const taken = new Map<string, string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && h > 0 && x + w <= 24, `${p.title} at ${JSON.stringify(p.gridPos)}`).toBe(true);
      for (let r = y; r < y + h; r++) {
        for (let c = x; c < x + w; c++) {
          expect(taken.get(`${r},${c}`), `${p.title} overlaps`).toBeUndefined();
          taken.set(`${r},${c}`, p.title);
        }
      }
    }
  });

  it('every variable a query uses is defined', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    for (const { where, expr } of queries) {
      for (const m of expr.matchAll(/\$\{([a-zA-Z0-9_]+)(?::[a-z]+)?\}|\$([a-zA-Z0-9_]+)|\[\[([a-zA-Z0-9_]+)\]\]/g)) {
        const name = m[1] ?? m[2] ?? m[3]!;
        expect(defined.has(name) || BUILTIN_VARIABLES.has(name), `${where}: $${name}`).toBe(true);
      }
    }
  });

  it('shows what operators ask for: request rate, 5xx share, latency quantiles, upstreams, reloads, DNS, certificates, process', () => {
    const exprs = queries.map((q) => q.expr);
    const uses = (name: string): boolean => exprs.some((e) => metricNames(e).includes(name));
    for (const q of ['0.5', '0.95', '0.99']) {
      expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q}, sum by (le) (rate(switchyard_request_duration_seconds_bucket{`)), `p${q.slice(2)} latency`).toBe(true);
    }
    expect(exprs.some((e) => /code=~"5\.\."[^/]*\/\s*sum by \(namespace, service\)/.test(e)), '5xx share by Service').toBe(true);
    for (const name of [
      'switchyard_requests_total', 'switchyard_upstream_response_seconds_bucket', 'switchyard_upstream_connect_failures_total',
      'switchyard_upstream_retries_total', 'switchyard_retry_budget_exhausted_total', 'switchyard_endpoint_ejections_total',
      'switchyard_endpoints', 'switchyard_config_reloads_total', 'switchyard_config_last_reload_success_timestamp_seconds',
      'switchyard_client_connections', 'switchyard_tunnels_open', 'switchyard_dns_queries_total', 'switchyard_certificate_expiry_seconds',
      'switchyard_build_info', 'process_resident_memory_bytes', 'process_cpu_seconds_total',
    ]) {
      expect(uses(name), name).toBe(true);
    }
  });
});

describe('deploy/grafana: every query reads metrics the running program exports', () => {
  it('the scanner reads every expression of the dashboard', () => {
    expect(queries.length).toBeGreaterThanOrEqual(30);
    for (const { where, expr } of queries) expect(() => metricNames(expr), where).not.toThrow();
  });

  // The deployed roles between them: the edge's TLS listener, the node role's DNS, and worker processes
  // (--workers 2: one exposition aggregated over the workers) as well as the single-process data plane.
  it.each([1, 2])('GET /metrics with --workers %i declares every metric the dashboard reads (# TYPE lines)', async (workers) => {
    const [pod] = await startPods(['web-a'], { hosts: [2] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'shop.yaml', [
      ...serviceWithPods('web', 'shop', [pod!]),
      ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'web' }] }] }),
    ]);
    const sy = await startSwitchyard({
      manifests: dir,
      args: ['--workers', String(workers), '--listen-tls', '127.0.0.1:0', '--dns', '127.0.0.1:0'],
    });
    // Some traffic, so that labelled series have samples too (prom-client declares a family either way).
    for (const host of ['shop.example', 'nothing.example']) expect((await get(sy.ingress, host, '/')).status).toBeGreaterThan(0);

    const res = await request(sy.admin, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const types = exportedTypes(res.body);
    expect(types.size, 'families declared by # TYPE lines').toBeGreaterThan(0);

    const missing = unknownMetrics(
      queries.map((q) => q.expr),
      types,
    );
    const report = [...missing].map(([name, expr]) => `  ${name}  (first used in: ${queries.find((q) => q.expr === expr)!.where})`).join('\n');
    expect([...missing.keys()], `metrics the dashboard reads that GET /metrics does not declare:\n${report}`).toEqual([]);
  });
});
