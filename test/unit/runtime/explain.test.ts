/**
 * `explain` over manifests compiled exactly as start-up compiles them (loadAndCompile): the winner is
 * matchRoute's for every URL of the table, the losers and their reasons, the outcome (forward, 308, 400,
 * 404, 503), endpoint states and the next round-robin pick; and bad input (URL, method, header).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoundRobin } from '../../../src/dataplane/balancer.ts';
import { matchRoute } from '../../../src/dataplane/match.ts';
import { ErrorCode } from '../../../src/errors.ts';
import { parseFlags, type Config } from '../../../src/flags.ts';
import { EndpointHealth } from '../../../src/health/endpoint-health.ts';
import { createRootLogger } from '../../../src/log.ts';
import type { Route, RouteTarget, Snapshot } from '../../../src/snapshot/types.ts';
import { explain, type ExplainContext, type Explanation } from '../../../src/runtime/explain.ts';
import { parseExplainInput, type ExplainRequest } from '../../../src/runtime/explain-request.ts';
import { formatExplanation } from '../../../src/runtime/explain-format.ts';
import { loadAndCompile } from '../../../src/runtime/load-manifests.ts';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { endpointSlice, ingress, service, tempManifestDir, writeManifest, type Manifest } from '../../helpers/manifests.ts';

const ns = 'shop';
const dated = (m: Manifest, at: string, extra: Record<string, unknown> = {}): Manifest => ({ ...m, metadata: { ...(m['metadata'] as object), creationTimestamp: at, ...extra } });

const MANIFESTS: Manifest[] = [
  service({ name: 'web', namespace: ns }),
  endpointSlice({ service: 'web', namespace: ns, port: 8080, endpoints: [{ ip: '10.0.0.1', pod: 'web-a' }, { ip: '10.0.0.2', pod: 'web-b' }, { ip: '10.0.0.3', ready: false, pod: 'web-c' }] }),
  service({ name: 'api', namespace: ns }),
  endpointSlice({ service: 'api', namespace: ns, port: 9090, endpoints: [{ ip: '10.0.1.1' }] }),
  service({ name: 'wild', namespace: ns }),
  endpointSlice({ service: 'wild', namespace: ns, port: 8080, endpoints: [{ ip: '10.0.2.1' }] }),
  service({ name: 'any', namespace: ns }),
  endpointSlice({ service: 'any', namespace: ns, port: 8080, endpoints: [{ ip: '10.0.3.1' }] }),
  service({ name: 'empty', namespace: ns }),
  dated(
    ingress({
      name: 'main',
      namespace: ns,
      rules: [
        {
          host: 'shop.example.com',
          paths: [
            { path: '/', service: 'web' },
            { path: '/api', service: 'api' },
            { path: '/api/v1/status', pathType: 'Exact', service: 'api' },
          ],
        },
      ],
    }),
    '2024-01-01T00:00:00Z',
  ),
  dated(ingress({ name: 'late', namespace: ns, rules: [{ host: 'shop.example.com', paths: [{ path: '/api/', service: 'web' }] }] }), '2025-01-01T00:00:00Z'),
  ingress({ name: 'wild', namespace: ns, rules: [{ host: '*.example.com', paths: [{ path: '/', service: 'wild' }] }] }),
  ingress({ name: 'any', namespace: ns, rules: [{ paths: [{ path: '/health', service: 'any' }] }] }),
  ingress({ name: 'broken', namespace: ns, rules: [{ host: 'broken.example.com', paths: [{ path: '/', service: 'missing' }, { path: '/port', service: 'web', port: 9999 }] }] }),
  ingress({ name: 'empty', namespace: ns, rules: [{ host: 'empty.example.com', paths: [{ path: '/', service: 'empty' }] }] }),
  dated(ingress({ name: 'secure', namespace: ns, rules: [{ host: 'secure.example.com', paths: [{ path: '/', service: 'web' }] }] }), '2024-01-01T00:00:00Z', { annotations: { 'switchyard.dev/force-ssl-redirect': 'true' } }),
  { ...ingress({ name: 'nginx', namespace: ns, rules: [{ host: 'shop.example.com', paths: [{ path: '/nginx', service: 'web' }] }] }), spec: { ingressClassName: 'nginx', rules: [] } },
];
const DEFAULT: Manifest = ingress({ name: 'fallback', namespace: ns, defaultBackend: { service: 'any' } });

let config: Config;
let plain: Snapshot;
let withDefault: Snapshot;

async function snapshotOf(docs: Manifest[]): Promise<Snapshot> {
  const dir = await tempManifestDir('swy-explain-');
  await writeManifest(dir, 'all.yaml', docs);
  const parsed = parseFlags(['--manifests', dir, '--workers', '1']);
  if (parsed.kind !== 'config') throw new Error('flags');
  config = parsed.config;
  const loaded = await loadAndCompile(parsed.config);
  if (!loaded.compiled) throw new Error(`manifests rejected: ${loaded.errors.map((e) => e.message).join('; ')}`);
  return { ...loaded.compiled, version: 1, createdAt: '' };
}

beforeAll(async () => {
  plain = await snapshotOf(MANIFESTS);
  withDefault = await snapshotOf([...MANIFESTS, DEFAULT]);
});
afterAll(cleanupAll);

function freshHealth(snapshot: Snapshot): EndpointHealth {
  const health = new EndpointHealth({ log: createRootLogger('silent') });
  health.observe(snapshot);
  return health;
}

function requestOf(url: string, headers: string[] = [], policy: Pick<Config, 'mergeSlashes' | 'escapedSlashes'> = { mergeSlashes: true, escapedSlashes: 'keep' }): ExplainRequest {
  const parsed = parseExplainInput({ url, headers }, policy);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.request;
}

function run(snapshot: Snapshot, url: string, options: { headers?: string[]; ctx?: Partial<ExplainContext>; policy?: Pick<Config, 'mergeSlashes' | 'escapedSlashes'> } = {}): Explanation {
  const ctx: ExplainContext = { snapshot, health: freshHealth(snapshot), balancer: new RoundRobin(), live: false, workers: 1, tlsListener: false, ...options.ctx };
  return explain(requestOf(url, options.headers, options.policy), ctx);
}

const ruleOf = (x: Explanation): string | null => (x.route === null ? null : x.route.default ? 'default' : `${x.route.host} ${x.route.path} (${x.route.pathType})`);

describe('explain: winner, outcome and the losers', () => {
  it.each([
    // url, headers, snapshot, outcome, status, host match, winning rule, a loser rule and a word of its reason
    ['http://shop.example.com/', [], 'plain', 'forward', null, 'exact', 'shop.example.com / (Prefix)', ['shop.example.com /api (Prefix)', 'is not a prefix']],
    ['http://shop.example.com/api/v1/status', [], 'plain', 'forward', null, 'exact', 'shop.example.com /api/v1/status (Exact)', ['shop.example.com /api (Prefix)', 'Exact path equal to the request is chosen before any Prefix']],
    ['http://shop.example.com/api/v2', [], 'plain', 'forward', null, 'exact', 'shop.example.com /api (Prefix)', ['shop.example.com / (Prefix)', 'longer Prefix /api']],
    ['http://shop.example.com/api/v2', [], 'plain', 'forward', null, 'exact', 'shop.example.com /api (Prefix)', ['shop.example.com /api/ (Prefix)', 'oldest Ingress keeps it']],
    ['http://shop.example.com/apix', [], 'plain', 'forward', null, 'exact', 'shop.example.com / (Prefix)', ['shop.example.com /api (Prefix)', 'whole path elements']],
    ['http://shop.example.com/health', [], 'plain', 'forward', null, 'exact', 'shop.example.com / (Prefix)', ['rules without a host (*)', 'would have matched']],
    ['http://shop.example.com/x', [], 'plain', 'forward', null, 'exact', 'shop.example.com / (Prefix)', ['host *.example.com', 'exact host rule is chosen before a wildcard']],
    ['http://a.example.com/', [], 'plain', 'forward', null, 'wildcard', '*.example.com / (Prefix)', undefined],
    ['http://a.b.example.com/', [], 'plain', 'no-route', 404, 'any-host', null, ['host *.example.com', 'exactly one label']],
    ['http://example.com/health', [], 'plain', 'forward', null, 'any-host', '* /health (Prefix)', ['host *.example.com', 'not example.com itself']],
    ['http://other.test/x', [], 'plain', 'no-route', 404, 'any-host', null, ['* /health (Prefix)', 'not a prefix']],
    ['http://broken.example.com/', [], 'plain', 'backend-unresolved', 503, 'exact', 'broken.example.com / (Prefix)', undefined],
    ['http://broken.example.com/port/1', [], 'plain', 'backend-unresolved', 503, 'exact', 'broken.example.com /port (Prefix)', undefined],
    ['http://empty.example.com/', [], 'plain', 'no-endpoints', 503, 'exact', 'empty.example.com / (Prefix)', undefined],
    ['https://secure.example.com/', [], 'plain', 'forward', null, 'exact', 'secure.example.com / (Prefix)', undefined],
    ['/api/x', ['Host: SHOP.example.com.:8080'], 'plain', 'forward', null, 'exact', 'shop.example.com /api (Prefix)', undefined],
    ['http://127.0.0.1:8080/api/x', ['host: shop.example.com'], 'plain', 'forward', null, 'exact', 'shop.example.com /api (Prefix)', undefined],
    ['http://shop.example.com/static/%2e%2e/api//v1/status', [], 'plain', 'forward', null, 'exact', 'shop.example.com /api/v1/status (Exact)', undefined],
    ['http://nowhere.test/', [], 'default', 'forward', null, 'any-host', 'default', undefined],
    ['http://shop.example.com/', [], 'default', 'forward', null, 'exact', 'shop.example.com / (Prefix)', ['default backend', 'no rule matches']],
  ] as const)('%s %j (%s): %s', (url, headers, which, outcome, status, hostMatch, rule, loser) => {
    const snapshot = which === 'plain' ? plain : withDefault;
    const x = run(snapshot, url, { headers: [...headers] });
    expect(x.outcome).toBe(outcome);
    expect(x.status).toBe(status);
    expect(x.host.match).toBe(hostMatch);
    expect(ruleOf(x)).toBe(rule);
    expect(x.matched).toBe(rule !== null);
    if (loser) {
      const found = x.losers.find((l) => l.rule === loser[0]);
      expect(found, JSON.stringify(x.losers, null, 2)).toBeDefined();
      expect(found!.reason).toContain(loser[1]);
    }
    // The winner is never a loser, and the text names it.
    if (x.route && !x.route.default) expect(x.losers.map((l) => l.rule)).not.toContain(rule);
    if (rule !== null) expect(formatExplanation(x)).toContain(rule === 'default' ? 'default backend' : rule);
  });

  const URLS = ['/', '/api', '/api/', '/api/v1/status', '/api/v1/status/', '/apix', '/health', '/health/x', '/nginx', '/port', '/port/x', '/x/y/z'];
  const HOSTS = ['shop.example.com', 'a.example.com', 'a.b.example.com', 'example.com', 'broken.example.com', 'empty.example.com', 'secure.example.com', 'nowhere.test', ''];
  it.each([
    ['without a default backend', 'plain'],
    ['with a default backend', 'default'],
  ] as const)("the winner is matchRoute's for every host and path (%s)", (_name, which) => {
    const snapshot = which === 'plain' ? plain : withDefault;
    let compared = 0;
    for (const host of HOSTS) {
      for (const path of URLS) {
        const x = run(snapshot, path, { headers: host === '' ? [] : [`Host: ${host}`] });
        const expected: RouteTarget | undefined = matchRoute(snapshot.routes, host, path);
        const got = x.route === null ? undefined : x.route.default ? snapshot.routes.defaultBackend : snapshot.routes.list.find((r) => (r.host === '' ? '*' : r.host) === x.route!.host && r.path === x.route!.path && r.pathType === x.route!.pathType);
        expect(got, `${host} ${path}`).toBe(expected);
        if (expected && !x.route!.default) expect((expected as Route).ingress).toBe(x.route!.ingress);
        compared++;
      }
    }
    expect(compared).toBe(HOSTS.length * URLS.length);
  });

  it('names the Ingress of another class as not served', () => {
    const x = run(plain, 'http://shop.example.com/nginx');
    expect(x.ignored).toEqual([expect.objectContaining({ ingress: 'shop/nginx', reason: expect.stringContaining('nginx') })]);
    expect(ruleOf(x)).toBe('shop.example.com / (Prefix)');
  });

  it('says what to change for a 404, a missing Service, a missing port and no endpoints', () => {
    expect(run(plain, 'http://a.b.example.com/').hints.join('\n')).toMatch(/host rule \* has no path covering \/.*spec\.defaultBackend/);
    expect(run(plain, 'http://broken.example.com/').hints.join('\n')).toMatch(/create the Service shop\/missing[\s\S]*INGRESS_BACKEND_SERVICE_MISSING/);
    expect(run(plain, 'http://broken.example.com/port').hints.join('\n')).toMatch(/TCP port 9999[\s\S]*INGRESS_BACKEND_PORT_MISSING/);
    expect(run(plain, 'http://empty.example.com/').hints.join('\n')).toContain('no endpoints at all');
  });

  it('redirects plain HTTP to https only when a TLS listener is open, never an ACME challenge', () => {
    expect(run(plain, 'http://secure.example.com/', { ctx: { tlsListener: true } })).toMatchObject({ outcome: 'redirect', status: 308, matched: true });
    const noTls = run(plain, 'http://secure.example.com/');
    expect(noTls.outcome).toBe('forward');
    expect(noTls.hints.join('\n')).toContain('no TLS listener is open');
    expect(run(plain, 'http://secure.example.com/.well-known/acme-challenge/t', { ctx: { tlsListener: true } }).outcome).toBe('forward');
  });

  it('is a 400 without routing when the path rules refuse the path', () => {
    const x = run(plain, 'http://shop.example.com/a%2Fb', { policy: { mergeSlashes: true, escapedSlashes: 'reject' } });
    expect(x).toMatchObject({ outcome: 'bad-path', status: 400, matched: false, route: null });
    expect(run(plain, 'http://shop.example.com/a%zz').outcome).toBe('bad-path');
  });
});

describe('explain: endpoints and the next round-robin pick', () => {
  it('lists every endpoint with its state, and the next pick of a fresh balancer', () => {
    const x = run(plain, 'http://shop.example.com/');
    expect(x.backend).toMatchObject({ key: 'shop/web:80', service: 'shop/web', port: 80 });
    expect(x.endpoints.map((e) => [e.key, e.state, e.inRotation])).toEqual([
      ['10.0.0.1:8080', 'ready', true],
      ['10.0.0.2:8080', 'ready', true],
      ['10.0.0.3:8080', 'not-ready', false],
    ]);
    expect(x.balancing).toMatchObject({ next: '10.0.0.1:8080', panic: false, rotation: ['10.0.0.1:8080', '10.0.0.2:8080'] });
    expect(formatExplanation(x)).toMatch(/10\.0\.0\.1:8080\s+ready\s+Pod\/shop\/web-a\s+<- next/);
  });

  it('peeks a live balancer without moving it', () => {
    const balancer = new RoundRobin();
    balancer.pick(plain.backends.get('shop/web:80')!);
    const x = run(plain, 'http://shop.example.com/', { ctx: { balancer, live: true } });
    expect(x.balancing!.next).toBe('10.0.0.2:8080');
    expect(x.balancing!.note).toContain('requests take turns over 10.0.0.2:8080, 10.0.0.1:8080');
    expect(run(plain, 'http://shop.example.com/', { ctx: { balancer, live: true } }).balancing!.next).toBe('10.0.0.2:8080');
  });

  it('skips an ejected endpoint, and says panic when every one is out', () => {
    const health = freshHealth(plain);
    const eject = (key: string): void => health.apply({ type: 'ejected', key, since: Date.now(), until: Date.now() + 60_000, reason: '5 consecutive 5xx responses', ejections: 1 });
    eject('10.0.0.1:8080');
    const one = run(plain, 'http://shop.example.com/', { ctx: { health } });
    expect(one.endpoints[0]).toMatchObject({ state: 'ejected', reason: '5 consecutive 5xx responses' });
    expect(one.balancing).toMatchObject({ next: '10.0.0.2:8080', panic: false, rotation: ['10.0.0.2:8080'] });
    eject('10.0.0.2:8080');
    const all = run(plain, 'http://shop.example.com/', { ctx: { health } });
    expect(all.balancing).toMatchObject({ next: '10.0.0.1:8080', panic: true });
    expect(all.hints.join('\n')).toContain('panic mode');
  });
});

describe('explain: bad input', () => {
  const policy = { mergeSlashes: true, escapedSlashes: 'keep' } as const;
  it.each([
    ['an empty URL', { url: '' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['no scheme', { url: 'shop.example.com/x' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['another scheme', { url: 'ftp://shop.example.com/' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['a missing slash', { url: 'http:/shop.example.com/' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['a space', { url: 'http://shop.example.com/a b' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['no host', { url: 'http:///x' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['user info', { url: 'http://user@shop.example.com/' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['a port out of range', { url: 'http://shop.example.com:99999/' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['OPTIONS *', { url: '*' }, ErrorCode.EXPLAIN_BAD_URL, 'url'],
    ['an unknown method', { url: '/', method: 'FETCH' }, ErrorCode.EXPLAIN_BAD_METHOD, 'method'],
    ['an empty method', { url: '/', method: '' }, ErrorCode.EXPLAIN_BAD_METHOD, 'method'],
    ['a header without a colon', { url: '/', headers: ['Host shop.example.com'] }, ErrorCode.EXPLAIN_BAD_HEADER, 'header'],
    ['a header without a name', { url: '/', headers: [': x'] }, ErrorCode.EXPLAIN_BAD_HEADER, 'header'],
    ['a space in a header name', { url: '/', headers: ['X Y: z'] }, ErrorCode.EXPLAIN_BAD_HEADER, 'header'],
    ['a bad Host', { url: '/', headers: ['Host: a b'] }, ErrorCode.EXPLAIN_BAD_HEADER, 'header'],
    ['two Host headers', { url: '/', headers: ['Host: a', 'Host: b'] }, ErrorCode.EXPLAIN_BAD_HEADER, 'header'],
  ] as const)('refuses %s', (_name, input, code, which) => {
    const parsed = parseExplainInput(input, policy);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatchObject({ code, input: which });
    if (which === 'url') expect(parsed.error.message).toContain(JSON.stringify(input.url).slice(1, -1) === '' ? 'empty' : JSON.stringify(input.url));
  });

  it.each([
    ['a lower-case method', { url: '/', method: 'post' }, 'POST', ''],
    ['origin form without a Host', { url: '/x?y=1' }, 'GET', ''],
    ['an IPv6 literal', { url: 'http://[::1]:8080/' }, 'GET', '[::1]'],
    ['a header value with a colon', { url: '/', headers: ['Host: shop.example.com:8080', 'X-Thing: a:b'] }, 'GET', 'shop.example.com'],
  ] as const)('accepts %s', (_name, input, method, host) => {
    const parsed = parseExplainInput(input, policy);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.request.method).toBe(method);
    expect(parsed.request.host).toBe(host);
  });
});
