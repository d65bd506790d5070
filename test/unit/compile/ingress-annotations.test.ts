import { describe, expect, it } from 'vitest';
import { matchRoute } from '../../../src/dataplane/match.ts';
import { WeightedChoice } from '../../../src/dataplane/weighted.ts';
import type { CompiledState } from '../../../src/compile/compile.ts';
import type { Diagnostic, Route, RouteFilters, RouteTarget } from '../../../src/snapshot/types.ts';
import { backend, compileObjects, ingress, service, type Obj } from '../support/k8s.ts';

const SERVICES = ['main', 'canary', 'other'].map((n) => service(n, [{ port: 80 }]));
const HOST = 'shop.example';
const P = 'switchyard.dev/';
const diagLine = (d: Diagnostic) => `${d.severity} ${d.code} ${d.kind} ${d.namespace}/${d.name}: ${d.message}`;

const ing = (name: string, annotations: Record<string, string>, svc = 'main', path = '/app', pathType: 'Prefix' | 'Exact' = 'Prefix', host = HOST, timestamp = '2024-01-01T00:00:00Z'): Obj =>
  ingress(name, { rules: [{ host, paths: [{ path, pathType, backend: backend(svc, 80) }] }] }, { annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [P + k, v])), creationTimestamp: timestamp });
const canary = (annotations: Record<string, string>, extra: { svc?: string; path?: string; pathType?: 'Prefix' | 'Exact'; host?: string; name?: string } = {}): Obj =>
  ing(extra.name ?? 'shop-canary', { canary: 'true', ...annotations }, extra.svc ?? 'canary', extra.path ?? '/app', extra.pathType ?? 'Prefix', extra.host ?? HOST, '2024-02-01T00:00:00Z');

function routeOf(state: CompiledState, path = '/app'): Route {
  const r = state.routes.list.find((x) => x.host === HOST && x.path === path);
  if (!r) throw new Error(`no route ${path}: ${state.diagnostics.map(diagLine).join('\n')}`);
  return r;
}

/** The Service name a request reaches (weighted targets picked by `choice`), or `-` for none. */
function reach(state: CompiledState, headers: Record<string, string> = {}, choice = new WeightedChoice(), path = '/app/x'): string {
  const r: RouteTarget | undefined = matchRoute(state.routes, HOST, path, { method: 'GET', rawHeaders: Object.entries(headers).flat() }, path);
  const chosen = r?.weighted === undefined ? r : choice.pick(r.weighted);
  return chosen?.backend?.replace(/^[^/]+\//, '').replace(/:\d+$/, '') ?? '-';
}

describe('Ingress route annotations → the route filters HTTPRoute filters compile to', () => {
  const cases: [string, Record<string, string>, 'Prefix' | 'Exact', Partial<RouteFilters>][] = [
    ['rewrite-target on a Prefix path: ReplacePrefixMatch', { 'rewrite-target': '/' }, 'Prefix', { rewrite: { hostname: undefined, path: { type: 'ReplacePrefixMatch', value: '/' } } }],
    ['rewrite-target on an Exact path: ReplaceFullPath', { 'rewrite-target': '/v2/app' }, 'Exact', { rewrite: { hostname: undefined, path: { type: 'ReplaceFullPath', value: '/v2/app' } } }],
    [
      'request-headers: set, add, remove; blank lines and comments skipped',
      { 'request-headers': 'X-Env: prod\n\n# a comment\nadd X-Via:  switchyard \nremove X-Debug\nX-Empty:' },
      'Prefix',
      { requestHeaders: { set: ['x-env', 'prod', 'x-empty', ''], add: ['x-via', 'switchyard'], remove: ['x-debug'] } },
    ],
    ['response-headers', { 'response-headers': 'Cache-Control: no-store\nremove Server' }, 'Prefix', { responseHeaders: { set: ['cache-control', 'no-store'], add: [], remove: ['server'] } }],
    ['a header named add is set', { 'request-headers': 'add: 1' }, 'Prefix', { requestHeaders: { set: ['add', '1'], add: [], remove: [] } }],
    [
      'permanent-redirect: 301 to the URL',
      { 'permanent-redirect': 'https://new.example/landing' },
      'Prefix',
      { redirect: { scheme: 'https', hostname: 'new.example', port: undefined, path: { type: 'ReplaceFullPath', value: '/landing' }, statusCode: 301 } },
    ],
    [
      'permanent-redirect with a port and permanent-redirect-code 308',
      { 'permanent-redirect': 'http://new.example:8080', 'permanent-redirect-code': '308' },
      'Exact',
      { redirect: { scheme: 'http', hostname: 'new.example', port: 8080, path: { type: 'ReplaceFullPath', value: '/' }, statusCode: 308 } },
    ],
    ['permanent-redirect to an IPv6 address', { 'permanent-redirect': 'https://[::1]/x' }, 'Prefix', { redirect: { scheme: 'https', hostname: '::1', port: undefined, path: { type: 'ReplaceFullPath', value: '/x' }, statusCode: 301 } }],
    [
      'rewrite-target and request-headers together',
      { 'rewrite-target': '/api', 'request-headers': 'X-A: 1' },
      'Prefix',
      { requestHeaders: { set: ['x-a', '1'], add: [], remove: [] }, rewrite: { hostname: undefined, path: { type: 'ReplacePrefixMatch', value: '/api' } } },
    ],
  ];
  it.each(cases)('%s', (_name, annotations, pathType, expected) => {
    const state = compileObjects([...SERVICES, ing('shop', annotations, 'main', '/app', pathType)]);
    const r = routeOf(state);
    expect(r.backend).toBe('default/main:80');
    expect(r.filters).toMatchObject(expected);
    expect(state.diagnostics.map(diagLine)).toEqual([]);
  });

  it('no route annotation: no filters (the Ingress hot path stays filter-free)', () => {
    expect(routeOf(compileObjects([...SERVICES, ing('shop', {})])).filters).toBeUndefined();
  });

  it('a redirect makes the other route annotations moot: reported as ignored', () => {
    const state = compileObjects([...SERVICES, ing('shop', { 'permanent-redirect': 'https://x.example/', 'rewrite-target': '/', 'response-headers': 'X: 1' })]);
    expect(routeOf(state).filters?.rewrite).toBeUndefined();
    expect(state.diagnostics.map((d) => `${d.severity} ${d.code} ${d.message.split(' ')[0]}`)).toEqual([
      'info ANNOTATION_IGNORED switchyard.dev/response-headers',
      'info ANNOTATION_IGNORED switchyard.dev/rewrite-target',
    ]);
  });
});

describe('bad Ingress annotations: a warning naming the Ingress and annotation, the rest still routes', () => {
  const cases: [string, string][] = [
    ['rewrite-target', '/$1'],
    ['rewrite-target', 'app'],
    ['rewrite-target', '/a?b=1'],
    ['request-headers', 'X-Env prod'],
    ['request-headers', 'X Env: prod'],
    ['response-headers', 'remove'],
    ['request-headers', 'Transfer-Encoding: chunked'],
    ['request-headers', 'X-A: 1\nadd Content-Length: 5'],
    ['response-headers', 'remove Connection'],
    ['permanent-redirect', 'ftp://files.example/'],
    ['permanent-redirect', 'not a url'],
    ['permanent-redirect', 'https://x.example/?q=1'],
    ['permanent-redirect', 'https://user:pw@x.example/'],
    ['permanent-redirect-code', '300'],
    ['canary', 'yes'],
  ];
  it.each(cases)('%s: %j', (name, value) => {
    const state = compileObjects([...SERVICES, ing('shop', { [name]: value })]);
    const r = routeOf(state);
    expect(r.backend).toBe('default/main:80');
    expect(r.filters?.redirect).toBeUndefined();
    expect(r.filters?.rewrite).toBeUndefined();
    expect(r.filters?.requestHeaders).toBeUndefined();
    const d = state.diagnostics.map(diagLine);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(new RegExp(`^warning ANNOTATION_INVALID Ingress default/shop: switchyard\\.dev/${name}: `));
  });

  it.each([
    ['canary-weight', '101', /canary-weight: "101" is not a whole number from 0 to 100; using the default 0/],
    ['canary-weight', 'ten', /canary-weight: "ten" is not a whole number/],
    ['canary-weight-total', '0', /canary-weight-total: "0" is not a whole number from 1 to/],
    ['canary-by-header', 'X Canary', /canary-by-header: "X Canary" is not a header name/],
  ])('canary %s: %j', (name, value, message) => {
    const state = compileObjects([...SERVICES, ing('shop', {}), canary({ [name]: value })]);
    const d = state.diagnostics.map(diagLine);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatch(/^warning ANNOTATION_INVALID Ingress default\/shop-canary: /);
    expect(d[0]).toMatch(message);
    expect(reach(state)).toBe('main');
  });

  it('canary annotations on an Ingress that is not a canary: reported as ignored', () => {
    const state = compileObjects([...SERVICES, ing('shop', { 'canary-weight': '10' })]);
    expect(state.diagnostics.map(diagLine)).toEqual(['info ANNOTATION_IGNORED Ingress default/shop: switchyard.dev/canary-weight has no effect without switchyard.dev/canary: "true"']);
    expect(routeOf(state).weighted).toBeUndefined();
  });

  it('the new annotations are known: no ANNOTATION_UNKNOWN; a misspelt one is', () => {
    const state = compileObjects([...SERVICES, ing('shop', { 'rewrite-target': '/', 'rewrite-targets': '/' })]);
    expect(state.diagnostics.map(diagLine)).toEqual(['warning ANNOTATION_UNKNOWN Ingress default/shop: unknown annotation switchyard.dev/rewrite-targets ignored']);
  });
});

describe('canary Ingresses join the main route', () => {
  // [name, canary annotations, requests as [headers, expected Service]]
  const cases: [string, Record<string, string>, [Record<string, string>, string][]][] = [
    ['weight 100: every request to the canary', { 'canary-weight': '100' }, [[{}, 'canary'], [{}, 'canary']]],
    ['weight 0: none', { 'canary-weight': '0' }, [[{}, 'main']]],
    ['weight 5 of total 5', { 'canary-weight': '5', 'canary-weight-total': '5' }, [[{}, 'canary']]],
    [
      'by header: always → canary, never → main, anything else → the weights (0)',
      { 'canary-by-header': 'X-Canary' },
      [[{ 'x-canary': 'always' }, 'canary'], [{ 'X-CANARY': 'always' }, 'canary'], [{ 'x-canary': 'never' }, 'main'], [{ 'x-canary': 'yes' }, 'main'], [{ 'x-canary': 'Always' }, 'main'], [{}, 'main']],
    ],
    ['by header never beats weight 100', { 'canary-by-header': 'x-canary', 'canary-weight': '100' }, [[{ 'x-canary': 'never' }, 'main'], [{}, 'canary'], [{ 'x-canary': 'other' }, 'canary']]],
    [
      'by header value: only that value → canary; always and never are plain values then',
      { 'canary-by-header': 'x-user', 'canary-by-header-value': 'beta' },
      [[{ 'x-user': 'beta' }, 'canary'], [{ 'x-user': 'always' }, 'main'], [{ 'x-user': 'never' }, 'main'], [{}, 'main']],
    ],
  ];
  it.each(cases)('%s', (_name, annotations, requests) => {
    const state = compileObjects([...SERVICES, ing('shop', {}), canary(annotations)]);
    expect(state.diagnostics.map(diagLine)).toEqual([]);
    for (const [headers, expected] of requests) expect(reach(state, headers), JSON.stringify(headers)).toBe(expected);
  });

  it('weight 10 of 100: exactly 10 of every 100 requests, interleaved (smooth weighted round-robin)', () => {
    const state = compileObjects([...SERVICES, ing('shop', {}), canary({ 'canary-weight': '10' })]);
    expect(routeOf(state).describe).toBe('default/main:80×90, default/canary:80×10');
    const choice = new WeightedChoice();
    const picks = Array.from({ length: 1000 }, () => reach(state, {}, choice));
    expect(picks.filter((p) => p === 'canary')).toHaveLength(100);
    for (let i = 0; i < 1000; i += 100) expect(picks.slice(i, i + 100).filter((p) => p === 'canary')).toHaveLength(10);
    expect(picks.slice(0, 20).join(' ')).not.toMatch(/canary canary/);
  });

  it('every route of the chain keeps the main Ingress\'s filters; the canary\'s own are reported as ignored', () => {
    const state = compileObjects([...SERVICES, ing('shop', { 'rewrite-target': '/' }), canary({ 'canary-by-header': 'x-canary', 'canary-weight': '50', 'rewrite-target': '/other' })]);
    const chain = state.routes.list.filter((r) => r.host === HOST);
    expect(chain).toHaveLength(3);
    for (const r of chain) expect(r.filters?.rewrite?.path).toEqual({ type: 'ReplacePrefixMatch', value: '/' });
    expect(chain.map((r) => r.ingress)).toEqual(['default/shop-canary', 'default/shop', 'default/shop']);
    expect(state.diagnostics.map(diagLine)).toEqual([
      'info ANNOTATION_IGNORED Ingress default/shop-canary: switchyard.dev/rewrite-target has no effect on a canary Ingress: its requests get the main Ingress\'s',
    ]);
  });

  it.each([
    ['another host', { host: 'other.example' }],
    ['another path', { path: '/api' }],
    ['another path type (Exact against a Prefix main)', { pathType: 'Exact' as const }],
  ])('a canary without a main Ingress for its host and path (%s): warning, not served', (_name, extra) => {
    const state = compileObjects([...SERVICES, ing('shop', {}), canary({ 'canary-weight': '100' }, extra)]);
    expect(state.diagnostics.map((d) => `${d.severity} ${d.code} ${d.name}`)).toEqual(['warning INGRESS_CANARY_WITHOUT_MAIN shop-canary']);
    expect(reach(state)).toBe('main');
    expect(state.routes.list.map((r) => r.backend)).toEqual(['default/main:80']);
  });

  it('a canary of an Exact path joins the Exact main route; trailing slashes of a prefix compare as the main\'s', () => {
    const exact = compileObjects([...SERVICES, ing('shop', {}, 'main', '/app/x', 'Exact'), canary({ 'canary-weight': '100' }, { path: '/app/x', pathType: 'Exact' })]);
    expect(reach(exact)).toBe('canary');
    const slash = compileObjects([...SERVICES, ing('shop', {}), canary({ 'canary-weight': '100' }, { path: '/app/' })]);
    expect(reach(slash)).toBe('canary');
  });

  it('a second canary of one route is refused (the older canary wins)', () => {
    const state = compileObjects([...SERVICES, ing('shop', {}), canary({ 'canary-weight': '100' }), canary({ 'canary-weight': '100' }, { name: 'shop-canary2', svc: 'other' })]);
    expect(state.diagnostics.map((d) => `${d.code} ${d.name}`)).toEqual(['INGRESS_CANARY_CONFLICT shop-canary2']);
    expect(reach(state)).toBe('canary');
  });

  it('a canary whose Service is missing: reported, the main route keeps every request', () => {
    const state = compileObjects([...SERVICES, ing('shop', {}), canary({ 'canary-weight': '100' }, { svc: 'nope' })]);
    expect(state.diagnostics.map((d) => `${d.code} ${d.name}`)).toEqual(['INGRESS_BACKEND_SERVICE_MISSING shop-canary']);
    expect(reach(state)).toBe('main');
  });

  it('canary: "false" is an ordinary Ingress', () => {
    const state = compileObjects([...SERVICES, ing('shop', { canary: 'false' }, 'main', '/other')]);
    expect(state.diagnostics.map(diagLine)).toEqual([]);
    expect(state.routes.list.map((r) => r.path)).toEqual(['/other']);
  });
});
