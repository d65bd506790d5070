/**
 * `switchyard explain` through the real CLI (exit 0 when a route matches, 1 when none does, 2 for bad
 * flags or input, with one line naming it) and `GET /api/v1/explain` on a running proxy (its live
 * balancer's next pick; 400 with a stable code on bad input).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, getJson } from '../helpers/http.ts';
import { endpointSlice, ingress, service, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startPods } from '../helpers/pods.ts';
import { REPO_ROOT, runSwitchyard, startSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const DEMO = join(REPO_ROOT, 'examples/demo/demo.yaml');

function explainCli(args: readonly string[]): ReturnType<typeof runSwitchyard> {
  return runSwitchyard(['explain', ...args]);
}

/** shop/web with two ready endpoints and one not ready, shop/api, and a path to a missing Service. */
function shopManifests(web: readonly { host: string; port: number }[] = [{ host: '10.0.0.1', port: 8080 }, { host: '10.0.0.2', port: 8080 }]): Manifest[] {
  return [
    service({ name: 'web', namespace: 'shop' }),
    endpointSlice({ service: 'web', namespace: 'shop', port: web[0]!.port, endpoints: [...web.map((w) => ({ ip: w.host })), { ip: '10.0.0.9', ready: false }] }),
    service({ name: 'api', namespace: 'shop' }),
    endpointSlice({ service: 'api', namespace: 'shop', port: 9090, endpoints: [{ ip: '10.0.1.1' }] }),
    ingress({
      name: 'shop',
      namespace: 'shop',
      rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }, { path: '/api', service: 'api' }, { path: '/reviews', service: 'reviews' }] }],
    }),
  ];
}

interface ExplainJson {
  matched: boolean;
  outcome: string;
  status: number | null;
  route: { host: string; path: string; pathType: string; ingress: string; service: string } | null;
  losers: { rule: string; reason: string }[];
  backend: { key: string } | null;
  endpoints: { key: string; state: string; inRotation: boolean }[];
  balancing: { next: string | null; rotation: string[]; workers: number; note: string } | null;
  hints: string[];
}

describe('switchyard explain (CLI)', () => {
  it('explains the demo URL: the winning rule, the Service, the endpoints and the next pick (exit 0)', async () => {
    const run = await explainCli(['--manifests', DEMO, 'http://demo.localhost/hello']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('Result: forwarded to demo/hello:80 (127.0.0.11:18081) by Ingress demo/hello');
    expect(run.stdout).toContain('Route:  demo.localhost / (Prefix) -> demo/hello:http  [Ingress demo/hello]');
    expect(run.stdout).toMatch(/127\.0\.0\.11:18081\s+ready\s+Pod\/demo\/hello-7d9c5-a1\s+<- next/);
    expect(run.stdout).toContain('127.0.0.13:18081');
    expect(run.stderr).toBe('');
  });

  it('exits 1 with the 404 and what to change when no rule matches', async () => {
    const run = await explainCli(['--manifests', DEMO, '--output', 'json', 'http://nothing.localhost/']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const x = JSON.parse(run.stdout) as ExplainJson;
    expect(x).toMatchObject({ matched: false, outcome: 'no-route', status: 404, route: null, backend: null });
    expect(x.hints[0]).toContain('add an Ingress rule with host: nothing.localhost');
  });

  it('prints JSON for scripts: winner, losers with reasons, endpoints with state, next pick', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'shop.yaml', shopManifests());
    const run = await explainCli(['--manifests', dir, '--output', 'json', '--method', 'post', '-H', 'Host: shop.example.com', '/api/v1?x=1']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const x = JSON.parse(run.stdout) as ExplainJson & { request: { method: string; host: string; hostFrom: string; path: string } };
    expect(x.request).toMatchObject({ method: 'POST', host: 'shop.example.com', hostFrom: 'host-header', path: '/api/v1' });
    expect(x).toMatchObject({ matched: true, outcome: 'forward', status: null, route: { host: 'shop.example.com', path: '/api', pathType: 'Prefix', ingress: 'shop/shop', service: 'shop/api:80' } });
    expect(x.losers).toContainEqual(expect.objectContaining({ rule: 'shop.example.com / (Prefix)', reason: expect.stringContaining('longer Prefix /api') }));
    expect(x.endpoints).toEqual([expect.objectContaining({ key: '10.0.1.1:9090', state: 'ready', inRotation: true })]);
    expect(x.balancing).toMatchObject({ next: '10.0.1.1:9090', rotation: ['10.0.1.1:9090'] });

    const web = JSON.parse((await explainCli(['--manifests', dir, '--output', 'json', 'http://shop.example.com/'])).stdout) as ExplainJson;
    expect(web.endpoints.map((e) => [e.key, e.state])).toEqual([['10.0.0.1:8080', 'ready'], ['10.0.0.2:8080', 'ready'], ['10.0.0.9:8080', 'not-ready']]);
    expect(web.balancing!.next).toBe('10.0.0.1:8080');
  });

  it('exits 0 for a matched route whose Service is missing, and says 503 and what to change', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'shop.yaml', shopManifests());
    const run = await explainCli(['--manifests', dir, 'http://shop.example.com/reviews']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("Result: 503: the route's backend shop/reviews:80 does not resolve (unknown-service)");
    expect(run.stdout).toContain('create the Service shop/reviews');
  });

  it.each([
    ['a URL that does not parse', ['not a url'], /^switchyard explain: URL "not a url" does not parse: .*\[SWY_ERR_EXPLAIN_BAD_URL\]$/],
    ['an unknown method', ['--method', 'FETCH', 'http://demo.localhost/'], /^switchyard explain: method "FETCH" is not one the HTTP parser accepts .*\[SWY_ERR_EXPLAIN_BAD_METHOD\]$/],
    ['a header without a colon', ['--header', 'Host demo.localhost', '/'], /^switchyard explain: header "Host demo\.localhost" has no colon: write it as 'Name: value' \[SWY_ERR_EXPLAIN_BAD_HEADER\]$/],
    ['no URL', [], /^switchyard explain: a URL is required/],
    ['two URLs', ['http://a/', 'http://b/'], /^switchyard explain: one URL only; got "http:\/\/a\/", "http:\/\/b\/"$/],
    ['--output xml', ['--output', 'xml', 'http://demo.localhost/'], /^switchyard explain: --output: "xml" is not one of text, json$/],
    ['a cluster flag', ['--kubeconfig', '/x', 'http://demo.localhost/'], /^switchyard explain: --kubeconfig: switchyard explain reads manifest files only/],
    ['an unknown flag', ['--frobnicate', 'x', 'http://demo.localhost/'], /^switchyard explain: Unknown option '--frobnicate'/],
  ])('exits 2 on %s, with one line saying so', async (_name, args, line) => {
    const run = await explainCli(['--manifests', DEMO, ...args]);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines, run.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  });

  it('exits 1 when the manifests do not load, as the proxy would not start', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'broken.yaml', 'kind: Service\nmetadata: [x\n');
    const run = await explainCli(['--manifests', dir, 'http://demo.localhost/']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('SWY_ERR_MANIFEST_PARSE');
    expect(run.stderr).toContain('the manifests do not load');
  });
});

describe('GET /api/v1/explain (live)', () => {
  it('explains against the running proxy: its next pick follows the traffic', async () => {
    const pods = await startPods(['web-a', 'web-b'], { hosts: [2, 3] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'shop.yaml', shopManifests(pods));
    const sy = await startSwitchyard({ manifests: dir });
    const ask = (url: string) => getJson<ExplainJson>(sy.admin, `/api/v1/explain?url=${encodeURIComponent(url)}&method=GET`);

    const first = await ask('http://shop.example.com/');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ matched: true, outcome: 'forward', route: { path: '/', ingress: 'shop/shop' }, backend: { key: 'shop/web:80' } });
    const [a, b] = [`${pods[0]!.host}:${pods[0]!.port}`, `${pods[1]!.host}:${pods[1]!.port}`];
    expect(first.body.balancing).toMatchObject({ next: a, workers: 1, rotation: [a, b] });
    // Asking does not move the cursor; a request does, to the endpoint explain named.
    expect((await ask('http://shop.example.com/')).body.balancing!.next).toBe(a);
    const res = await get(sy.ingress, 'shop.example.com', '/');
    expect(res.headers['x-pod']).toBe('web-a');
    expect((await ask('http://shop.example.com/')).body.balancing!.next).toBe(b);

    const miss = await ask('http://elsewhere.example.com/');
    expect(miss.status).toBe(200);
    expect(miss.body).toMatchObject({ matched: false, outcome: 'no-route', status: 404 });
  });

  it('answers 400 naming the bad input, with a stable code', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'shop.yaml', shopManifests());
    const sy = await startSwitchyard({ manifests: dir });
    const bad = async (query: string) => getJson<{ error: string; input: string; value: string; message: string }>(sy.admin, `/api/v1/explain?${query}`);

    const url = await bad(`url=${encodeURIComponent('shop.example.com/x')}`);
    expect(url).toMatchObject({ status: 400, body: { error: 'SWY_ERR_EXPLAIN_BAD_URL', input: 'url', value: 'shop.example.com/x' } });
    expect(url.body.message).toContain('URL "shop.example.com/x" does not parse');
    expect(await bad('')).toMatchObject({ status: 400, body: { error: 'SWY_ERR_ADMIN_BAD_QUERY', input: 'url' } });
    expect(await bad(`url=${encodeURIComponent('http://shop.example.com/')}&method=FETCH`)).toMatchObject({ status: 400, body: { error: 'SWY_ERR_EXPLAIN_BAD_METHOD', input: 'method', value: 'FETCH' } });
    expect(await bad(`url=%2F&header=${encodeURIComponent('Host shop.example.com')}`)).toMatchObject({ status: 400, body: { error: 'SWY_ERR_EXPLAIN_BAD_HEADER', input: 'header' } });
    const withHost = await getJson<ExplainJson>(sy.admin, `/api/v1/explain?url=%2Fapi&header=${encodeURIComponent('Host: shop.example.com')}`);
    expect(withHost).toMatchObject({ status: 200, body: { route: { path: '/api' } } });
  });

  it('names the next pick with several worker threads too (they share one cursor per Service port)', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'shop.yaml', shopManifests());
    const sy = await startSwitchyard({ manifests: dir, args: ['--workers', '2'], timeoutMs: 20_000 });
    const res = await getJson<ExplainJson>(sy.admin, `/api/v1/explain?url=${encodeURIComponent('http://shop.example.com/')}`);
    expect(res.status).toBe(200);
    expect(res.body.balancing).toMatchObject({ next: '10.0.0.1:8080', workers: 2, rotation: ['10.0.0.1:8080', '10.0.0.2:8080'] });
    expect(res.body.balancing!.note).toContain('the next request goes to 10.0.0.1:8080');
  });
});
