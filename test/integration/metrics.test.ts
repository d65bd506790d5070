/**
 * GET /metrics of the real CLI: label values come from configuration objects only (a client's host,
 * path or method never becomes a series), every process of the group is summed, and the exposition
 * stays on the admin listener.
 */
import autocannon from 'autocannon';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { parseSamples, sumSamples } from '../helpers/metrics.ts';
import { startPods } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

async function start(args: readonly string[] = []): Promise<RunningSwitchyard> {
  const pods = await startPods(['web-a', 'web-b'], { hosts: [2, 3] });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'app.yaml', [...serviceWithPods('web', 'shop', pods), ingress({ name: 'storefront', namespace: 'shop', rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'web' }] }] })]);
  return startSwitchyard({ manifests: dir, args: ['--access-log', 'off', ...args] });
}

async function scrape(sy: RunningSwitchyard): Promise<string> {
  const res = await get(sy.admin, `${sy.admin.host}:${sy.admin.port}`, '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

/** Switchyard's own series (the process_* and nodejs_* ones change with garbage collection, not with clients). */
function ownSeries(text: string): string[] {
  return parseSamples(text)
    .filter((s) => s.name.startsWith('switchyard_'))
    .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    .sort();
}

/** Methods autocannon can send (any other token counts as OTHER: test/unit/admin/metrics.test.ts). */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** `count` requests, each with a host, path and method of its own, over 10 keep-alive connections. */
async function randomRequests(sy: RunningSwitchyard, count: number, host: (n: number) => string): Promise<number> {
  let n = 0;
  const result = await autocannon({
    url: `http://${sy.ingress.host}:${sy.ingress.port}`,
    connections: 10,
    amount: count,
    timeout: 10,
    requests: [
      {
        setupRequest: (req) => {
          n++;
          return { ...req, method: METHODS[n % METHODS.length]!, path: `/${n.toString(36)}/${Math.random().toString(36).slice(2)}?q=${n}`, headers: { host: host(n) } };
        },
      },
    ],
  });
  return result.requests.total;
}

describe('/metrics', () => {
  it('10,000 requests to random hosts and paths add no series', async () => {
    const sy = await start();
    // One of each kind first: a routed request, and one that matched nothing (empty route labels).
    expect((await get(sy.ingress, 'shop.example', '/')).status).toBe(200);
    expect((await get(sy.ingress, 'nowhere.example', '/')).status).toBe(404);
    // Every method once to the route and once to an unknown host (n cycles through the methods).
    await randomRequests(sy, 60, (n) => (Math.floor(n / METHODS.length) % 2 === 0 ? 'shop.example' : `r${Math.random().toString(36).slice(2)}.example`));
    await randomRequests(sy, 20, () => `r${Math.random().toString(36).slice(2)}.example`);
    const before = ownSeries(await scrape(sy));

    const sent = await randomRequests(sy, 10_000, () => (Math.random() < 0.5 ? 'shop.example' : `${Math.random().toString(36).slice(2)}.example`));
    expect(sent).toBeGreaterThanOrEqual(10_000);
    const text = await scrape(sy);
    expect(ownSeries(text)).toEqual(before);
    // Every one of them was counted, under configuration labels or none.
    expect(sumSamples(text, 'switchyard_requests_total')).toBeGreaterThanOrEqual(10_082);
    expect(text).not.toMatch(/r[0-9a-z]+\.example|\?q=/);
  });

  it('sums every worker process and counts each request once, with its route and exact status', async () => {
    const sy = await start(['--workers', '2']);
    for (let i = 0; i < 20; i++) expect((await get(sy.ingress, 'shop.example', `/${i}`)).status).toBe(200);
    const text = await scrape(sy);
    expect(sumSamples(text, 'switchyard_requests_total', { listener: 'ingress', protocol: 'http/1.1', method: 'GET', code: '200', namespace: 'shop', ingress: 'storefront', service: 'web' })).toBe(20);
    expect(sumSamples(text, 'switchyard_upstream_response_seconds_count', { namespace: 'shop', service: 'web' })).toBe(20);
    expect(sumSamples(text, 'switchyard_endpoints', { namespace: 'shop', service: 'web', state: 'ready' })).toBe(2);
    expect(sumSamples(text, 'switchyard_workers')).toBe(2);
    // Three processes' default metrics, summed: the primary's and both workers' CPU.
    expect(sumSamples(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('is served on the admin listener only', async () => {
    const sy = await start();
    const res = await get(sy.ingress, 'shop.example', '/metrics');
    // The proxy listener forwards /metrics to the pod like any other path: the pod answers, not Switchyard.
    expect(res.headers['x-switchyard-error']).toBeUndefined();
    expect(res.body).not.toContain('switchyard_requests_total');
  });
});
