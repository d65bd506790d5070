import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GroupMetrics, serviceStatsView } from '../../../src/admin/metrics.ts';
import { emptySnapshot } from '../../../src/compile/compile.ts';
import { ExchangeTrace } from '../../../src/dataplane/exchange-trace.ts';
import type { HttpExchange } from '../../../src/dataplane/exchange.ts';
import { LATENCY_BUCKETS, TrafficStats } from '../../../src/dataplane/traffic-stats.ts';
import { EndpointHealth } from '../../../src/health/endpoint-health.ts';
import type { RouteTarget } from '../../../src/snapshot/types.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import { parseSamples, sumSamples } from '../../helpers/metrics.ts';
import { backend, snapshotOf } from '../reliability/fixtures.ts';

/** An ended exchange as TrafficStats reads it. */
function ended(method: string, status: number | undefined, tookMs: number, protocol: 'http/1.1' | 'h2' = 'http/1.1'): HttpExchange {
  const trace = new ExchangeTrace(1234);
  (trace as { startedAt: number }).startedAt = 1000 - tookMs;
  return { method, protocol, statusCode: status ?? 0, headersSent: status !== undefined, trace } as unknown as HttpExchange;
}

const web = backend(['10.0.0.1:8080']);
const route: RouteTarget = { backend: web.key, problem: undefined, describe: 'shop/web:80', ingress: 'shop/storefront' };

function group(dataPlane: () => Promise<object[][]>, holder = new SnapshotHolder(emptySnapshot('cluster.local'))) {
  return new GroupMetrics({
    holder,
    health: new EndpointHealth({ log: pino({ level: 'silent' }) }),
    draining: () => new Map(),
    workers: () => [],
    traffic: () => ({ inFlight: 0, tunnelsOpen: 1, tunnelsTotal: 5 }),
    sources: () => [{ rejectedReloads: 2 }],
    dnsQueries: () => ({ NOERROR: 4, NXDOMAIN: 1 }),
    dataPlane,
  });
}

describe('TrafficStats', () => {
  it('counts by exact status code, method and route labels, and cut connections as code 0', () => {
    const stats = new TrafficStats();
    const slot = stats.listenerSlot('ingress');
    const labels = stats.routeLabels(route, web);
    for (const [method, status] of [['GET', 200], ['GET', 200], ['POST', 503], ['GET', undefined]] as const) {
      const x = ended(method, status, 3);
      x.trace.route = labels;
      stats.record(slot, x, 1000);
    }
    stats.record(slot, ended('GET', 404, 1), 1000); // matched nothing
    const text = render(stats);
    const route_ = { listener: 'ingress', protocol: 'http/1.1', namespace: 'shop', ingress: 'storefront', service: 'web' };
    expect(sumSamples(text, 'switchyard_requests_total', { ...route_, method: 'GET', code: '200' })).toBe(2);
    expect(sumSamples(text, 'switchyard_requests_total', { ...route_, method: 'POST', code: '503' })).toBe(1);
    expect(sumSamples(text, 'switchyard_requests_total', { ...route_, method: 'GET', code: '0' })).toBe(1);
    expect(sumSamples(text, 'switchyard_requests_total', { namespace: '', ingress: '', service: '', code: '404' })).toBe(1);
  });

  it.each([
    [0.5, '0.001'],
    [1, '0.001'],
    [1.01, '0.0025'],
    [49, '0.05'],
    [59_999, '60'],
    [61_000, '+Inf'],
  ])('puts %f ms in the bucket le=%s (upper bounds inclusive, cumulative buckets)', (ms, le) => {
    const stats = new TrafficStats();
    stats.record(stats.listenerSlot('ingress'), ended('GET', 200, ms), 1000);
    const buckets = parseSamples(render(stats)).filter((s) => s.name === 'switchyard_request_duration_seconds_bucket');
    expect(buckets.map((b) => b.labels.le)).toEqual([...LATENCY_BUCKETS.map(String), '+Inf']);
    const first = buckets.find((b) => b.value === 1)!;
    expect(first.labels.le).toBe(le);
    expect(buckets.at(-1)!.value).toBe(1);
  });

  it('keeps the series bounded: any method a client invents counts as OTHER', () => {
    const stats = new TrafficStats();
    const slot = stats.listenerSlot('ingress');
    for (let i = 0; i < 100; i++) stats.record(slot, ended(`M${i}`, 400, 1), 1000);
    const requests = parseSamples(render(stats)).filter((s) => s.name === 'switchyard_requests_total');
    expect(requests).toEqual([{ name: 'switchyard_requests_total', labels: expect.objectContaining({ method: 'OTHER', code: '400' }), value: 100 }]);
  });

  it('gives the same labels object to a route in every snapshot, so its series carry on across reloads', () => {
    const stats = new TrafficStats();
    const again: RouteTarget = { ...route };
    expect(stats.routeLabels(again, { ...web })).toBe(stats.routeLabels(route, web));
    expect(stats.service({ ...web })).toBe(stats.service(web));
  });

  it('names the Service of a route whose backend did not resolve from what the Ingress wrote', () => {
    const stats = new TrafficStats();
    expect(stats.routeLabels({ ...route, backend: undefined, describe: 'shop/missing:http' }, undefined)).toMatchObject({ namespace: 'shop', ingress: 'storefront', service: 'missing' });
  });
});

describe('GroupMetrics', () => {
  it("sums the data plane's families over every process and adds the control plane's own", async () => {
    const perWorker = (n: number) => {
      const stats = new TrafficStats();
      const slot = stats.listenerSlot('ingress');
      const labels = stats.routeLabels(route, web);
      for (let i = 0; i < n; i++) {
        const x = ended('GET', 200, 2);
        x.trace.route = labels;
        stats.record(slot, x, 1000);
      }
      stats.service(web).retries = n;
      return stats.families() as object[];
    };
    const holder = new SnapshotHolder(emptySnapshot('cluster.local'));
    const metrics = group(async () => [perWorker(3), perWorker(4)], holder);
    holder.swap({ ...snapshotOf([web]), version: 7 });
    const { text, contentType } = await metrics.exposition();
    expect(contentType).toMatch(/^text\/plain/);
    expect(sumSamples(text, 'switchyard_requests_total', { service: 'web', code: '200' })).toBe(7);
    expect(sumSamples(text, 'switchyard_request_duration_seconds_count', { service: 'web' })).toBe(7);
    expect(sumSamples(text, 'switchyard_upstream_retries_total', { namespace: 'shop', service: 'web' })).toBe(7);
    expect(sumSamples(text, 'switchyard_snapshot_version')).toBe(7);
    expect(sumSamples(text, 'switchyard_config_reloads_total', { result: 'success' })).toBe(1);
    expect(sumSamples(text, 'switchyard_config_reloads_total', { result: 'failure' })).toBe(2);
    expect(sumSamples(text, 'switchyard_config_last_reload_success_timestamp_seconds')).toBeGreaterThan(1_700_000_000);
    expect(sumSamples(text, 'switchyard_dns_queries_total', { rcode: 'NXDOMAIN' })).toBe(1);
    expect(sumSamples(text, 'switchyard_endpoints', { namespace: 'shop', service: 'web', state: 'ready' })).toBe(1);
    expect(sumSamples(text, 'switchyard_tunnels_total')).toBe(5);
    expect(sumSamples(text, 'switchyard_build_info', { version: /^\d+\.\d+\.\d+/, node_version: process.version })).toBe(1);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });

  it('follows the Prometheus conventions: HELP and TYPE for every family, counters end in _total, units in the name', async () => {
    const stats = new TrafficStats();
    const { text } = await group(async () => [stats.families() as object[]]).exposition();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    const ours = types.filter(([name]) => name.startsWith('switchyard_'));
    expect(ours.length).toBeGreaterThanOrEqual(20);
    for (const [name, type] of ours) {
      expect(text, name).toContain(`# HELP ${name} `);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$/);
    }
  });

  it('serves the dashboard per-Service totals from the same families', async () => {
    const stats = new TrafficStats();
    const slot = stats.listenerSlot('ingress');
    const labels = stats.routeLabels(route, web);
    for (const status of [200, 200, 502]) {
      const x = ended('GET', status, 7);
      x.trace.route = labels;
      stats.record(slot, x, 1000);
    }
    const [view] = serviceStatsView(await group(async () => [stats.families() as object[]]).families());
    expect(view).toMatchObject({ namespace: 'shop', service: 'web', requests: 3, errors: 1, latency: { count: 3 } });
    expect(view!.latency.buckets.find(([le]) => le === 0.01)).toEqual([0.01, 3]);
    expect(view!.latency.buckets.at(-1)).toEqual(['+Inf', 3]);
  });
});

function render(stats: TrafficStats): string {
  const lines: string[] = [];
  for (const f of stats.families()) for (const v of f.values) lines.push(`${v.metricName ?? f.name}{${Object.entries(v.labels).map(([k, x]) => `${k}="${x}"`).join(',')}} ${v.value}`);
  return lines.join('\n');
}
