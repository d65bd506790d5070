import { describe, expect, it } from 'vitest';
import { intersectHostnames } from '../../../src/compile/gateway-attach.ts';
import { matchRoute } from '../../../src/dataplane/match.ts';
import type { Diagnostic, Route, RouteTable, RouteTarget, Snapshot } from '../../../src/snapshot/types.ts';
import { gateway, gatewayClass, httpRoute, listener, referenceGrant, rule } from '../support/gateway.ts';
import { backend, compileObjects, ingress, service, type Obj } from '../support/k8s.ts';

const SERVICES = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => service(n, [{ port: 80 }]));
const BASE: Obj[] = [gatewayClass(), gateway('gw', [listener('web')]), ...SERVICES];
const diagLine = (d: Diagnostic) => `${d.code} ${d.kind} ${d.namespace}/${d.name}: ${d.message}`;

const NO_ROUTES: RouteTable = { hosts: new Map(), wildcards: new Map(), anyHost: undefined, defaultBackend: undefined, list: [] };

/** The routes Gateway port `port` answers (80: the default listener's); HTTPRoutes are served there only. */
const portTable = (state: { readonly gatewayPorts?: Snapshot['gatewayPorts'] }, port = 80): RouteTable => state.gatewayPorts?.get(port)?.routes ?? NO_ROUTES;

/** The Service a request to Gateway port `on` (or the Ingress listener) reaches (its backend key's name), or `-` for none. */
function reach(objs: readonly Obj[], host: string, target: string, method = 'GET', headers: Record<string, string> = {}, on: number | 'ingress' = 80): string {
  const state = compileObjects(objs);
  const path = target.split('?')[0]!;
  const rawHeaders = Object.entries(headers).flat();
  const r: RouteTarget | undefined = matchRoute(on === 'ingress' ? state.routes : portTable(state, on), host, path, { method, rawHeaders }, target);
  return r?.backend?.replace(/^[^/]+\//, '').replace(/:\d+$/, '') ?? '-';
}

describe('hostname intersection of listener and route (spec examples)', () => {
  it.each([
    [undefined, [], ['']],
    [undefined, ['a.example.com'], ['a.example.com']],
    ['a.example.com', [], ['a.example.com']],
    ['*.example.com', [], ['*.example.com']],
    ['a.example.com', ['a.example.com', 'b.example.com'], ['a.example.com']],
    ['*.example.com', ['a.example.com', 'a.b.example.com', 'example.com', 'a.other.com'], ['a.example.com', 'a.b.example.com']],
    ['a.example.com', ['*.example.com'], ['a.example.com']],
    ['a.b.example.com', ['*.example.com'], ['a.b.example.com']],
    ['*.example.com', ['*.example.com'], ['*.example.com']],
    ['*.example.com', ['*.foo.example.com'], ['*.foo.example.com']],
    ['*.foo.example.com', ['*.example.com'], ['*.foo.example.com']],
    ['example.com', ['*.example.com'], []],
    ['a.example.com', ['b.example.com'], []],
  ])('listener %s, route %j → %j', (l, r, out) => expect(intersectHostnames(l, r)).toEqual(out));
});

describe('HTTPRoute → its Gateway port’s route table', () => {
  it('serves HTTPRoutes on the Gateway port and Ingresses on the Ingress listener, never the other way', () => {
    const objs = [...BASE, httpRoute('r', { hostnames: ['gw.example.com'], rules: [rule('a')] }), ingress('i', { rules: [{ host: 'ing.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('b', 80) }] }] })];
    expect(reach(objs, 'gw.example.com', '/x')).toBe('a');
    expect(reach(objs, 'ing.example.com', '/x', 'GET', {}, 'ingress')).toBe('b');
    expect(reach(objs, 'ing.example.com', '/x')).toBe('-');
    expect(reach(objs, 'gw.example.com', '/x', 'GET', {}, 'ingress')).toBe('-');
    const route = compileObjects(objs).routes.list.find((r) => r.host === 'gw.example.com')!;
    expect(route).toMatchObject({ ingress: 'default/r', routeKind: 'HTTPRoute', pathType: 'Prefix', path: '/', listenerPorts: [80] });
    expect(compileObjects(objs).diagnostics).toEqual([]);
  });

  it('carries the ports of every listener a route attaches through', () => {
    const objs = [gatewayClass(), gateway('gw', [listener('a'), listener('b', { port: 8080 })]), ...SERVICES, httpRoute('r', { rules: [rule('a')] })];
    expect(compileObjects(objs).routes.list.map((r) => r.listenerPorts)).toEqual([[80, 8080]]);
    const only = [gatewayClass(), gateway('gw', [listener('a'), listener('b', { port: 8080 })]), ...SERVICES, httpRoute('r', { parentRefs: [{ name: 'gw', port: 8080 }], rules: [rule('a')] })];
    expect(compileObjects(only).routes.list.map((r) => r.listenerPorts)).toEqual([[8080]]);
  });

  it('reports a shadowed wildcard route once, though it sits in two tables', () => {
    const objs = [...BASE, httpRoute('a', { hostnames: ['*.example.com'], rules: [rule('a')] }, { creationTimestamp: '2024-01-01T00:00:00Z' }), httpRoute('b', { hostnames: ['*.example.com'], rules: [rule('b')] }, { creationTimestamp: '2024-02-01T00:00:00Z' })];
    expect(compileObjects(objs).diagnostics.map(diagLine)).toEqual(['HTTPROUTE_MATCH_SHADOWED HTTPRoute default/b: host *.example.com path / (Prefix): never matches, HTTPRoute default/a takes every request there first']);
    expect([reach(objs, 'x.example.com', '/'), reach(objs, 'x.y.example.com', '/')]).toEqual(['a', 'a']);
  });

  it('a Gateway wildcard covers deeper names; an Ingress wildcard one label only', () => {
    const objs = [...BASE, httpRoute('r', { hostnames: ['*.example.com'], rules: [rule('a')] }), ingress('i', { rules: [{ host: '*.example.org', paths: [{ path: '/', pathType: 'Prefix', backend: backend('b', 80) }] }] })];
    expect(['x.example.com', 'x.y.example.com', 'example.com'].map((h) => reach(objs, h, '/'))).toEqual(['a', 'a', '-']);
    expect(['x.example.org', 'x.y.example.org'].map((h) => reach(objs, h, '/', 'GET', {}, 'ingress'))).toEqual(['b', '-']);
  });

  it('an HTTPRoute and an Ingress of one host are apart: each listener matches its own routes', () => {
    const objs = [
      ...BASE,
      ingress('i', { rules: [{ host: 'h.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('b', 80) }] }] }),
      httpRoute('canary', { hostnames: ['h.example.com'], rules: [rule('a', [{ headers: [{ name: 'x-canary', value: 'yes' }] }])] }),
      httpRoute('shadowed', { hostnames: ['h.example.com'], rules: [rule('c')] }),
    ];
    expect(reach(objs, 'h.example.com', '/', 'GET', { 'X-Canary': 'yes' })).toBe('a');
    expect(reach(objs, 'h.example.com', '/')).toBe('c');
    expect(reach(objs, 'h.example.com', '/', 'GET', { 'X-Canary': 'yes' }, 'ingress')).toBe('b');
    expect(compileObjects(objs).diagnostics.map(diagLine)).toEqual([]);
  });
});

describe('matching precedence (HTTPRouteRule: exact > longest prefix > method > most headers > most query params > oldest > name)', () => {
  const route = (name: string, svc: string, match: Obj, ts = '2024-01-01T00:00:00Z') => httpRoute(name, { rules: [rule(svc, [match])] }, { creationTimestamp: ts });
  const objs = [
    ...BASE,
    route('prefix-short', 'a', { path: { type: 'PathPrefix', value: '/' } }),
    route('prefix-long', 'b', { path: { type: 'PathPrefix', value: '/foo' } }),
    route('exact', 'c', { path: { type: 'Exact', value: '/foo/bar' } }),
    route('method', 'd', { path: { type: 'PathPrefix', value: '/foo' }, method: 'POST', headers: [{ name: 'x-1', value: '1' }] }),
    route('headers', 'e', { path: { type: 'PathPrefix', value: '/foo' }, headers: [{ name: 'x-1', value: '1' }, { name: 'x-2', value: '2' }] }),
    route('query', 'f', { path: { type: 'PathPrefix', value: '/foo' }, headers: [{ name: 'x-1', value: '1' }, { name: 'x-2', value: '2' }], queryParams: [{ name: 'q', value: '1' }] }),
  ];
  it.each([
    ['GET', '/foo/bar', {}, 'c', 'an Exact path before any prefix'],
    ['GET', '/foo/baz', {}, 'b', 'the longest prefix'],
    ['GET', '/foobar', {}, 'a', 'prefixes compare whole path elements'],
    ['POST', '/foo/x', { 'x-1': '1', 'x-2': '2' }, 'd', 'a method match before more headers'],
    ['GET', '/foo/x', { 'x-1': '1', 'x-2': '2' }, 'e', 'more headers'],
    ['GET', '/foo/x?q=1', { 'x-1': '1', 'x-2': '2' }, 'f', 'more query params at equal headers'],
    ['GET', '/foo/x?q=2', { 'x-1': '1' }, 'b', 'conditions that do not hold fall to the next route of the path'],
    ['POST', '/other', { 'x-1': '1' }, 'a', 'then to shorter prefixes'],
  ] as [string, string, Record<string, string>, string, string][])('%s %s %j → %s (%s)', (method, target, headers, want) => {
    expect(reach(objs, 'any.example.com', target, method, headers)).toBe(want);
  });

  it.each([
    ['the older route wins a tie', [['new', 'a', '2024-02-01T00:00:00Z'], ['old', 'b', '2024-01-01T00:00:00Z']], 'b'],
    ['at equal age, namespace/name decides', [['zz', 'a', '2024-01-01T00:00:00Z'], ['aa', 'b', '2024-01-01T00:00:00Z']], 'b'],
  ] as [string, [string, string, string][], string][])('%s', (_name, specs, want) => {
    const objs2 = [...BASE, ...specs.map(([n, s, ts]) => route(n, s, { path: { type: 'PathPrefix', value: '/x' } }, ts))];
    expect(reach(objs2, 'h', '/x')).toBe(want);
  });

  it('within a route, the rule listed first wins a tie', () => {
    const r = httpRoute('r', { rules: [rule('c', [{ path: { type: 'Exact', value: '/x' } }]), rule('d', [{ path: { type: 'Exact', value: '/x' } }])] });
    expect(reach([...BASE, r], 'h', '/x')).toBe('c');
  });
});

describe('regular expressions (linear-time dialect, matched whole)', () => {
  const objs = [
    ...BASE,
    httpRoute('r', {
      rules: [
        rule('a', [{ path: { type: 'RegularExpression', value: '/v[0-9]+/.*' } }]),
        rule('b', [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x-version', type: 'RegularExpression', value: 'v(1|2)' }] }]),
        rule('c', [{ path: { type: 'Exact', value: '/v1/exact' } }]),
        rule('d', [{ path: { type: 'RegularExpression', value: '/(a+)+' } }]), // exponential for a backtracking engine on /aaa…a!
      ],
    }),
  ];
  it.each([
    ['/v1/anything', {}, 'a'],
    ['/v1/exact', {}, 'c'],
    ['/vx/anything', { 'x-version': 'v2' }, 'b'],
    ['/x', { 'x-version': 'v12' }, '-'],
    ['/aaaa', {}, 'd'],
    ['/' + 'a'.repeat(5000) + '!', {}, '-'],
  ])('%s %j → %s', (path, headers, want) => expect(reach(objs, 'h', path, 'GET', headers)).toBe(want));

  it('an invalid or non-linear pattern is a diagnostic; the route’s other matches are served', () => {
    const bad = httpRoute('r', {
      rules: [rule('a', [{ path: { type: 'RegularExpression', value: '/(x' } }, { path: { type: 'RegularExpression', value: '/(a)\\1' } }, { path: { type: 'Exact', value: '/ok' } }])],
    });
    const state = compileObjects([...BASE, bad]);
    expect(state.diagnostics.map(diagLine)).toEqual([
      'HTTPROUTE_REGEX_INVALID HTTPRoute default/r: spec.rules[0].matches[0]: path "/(x" is not a usable regular expression: Unterminated group; this match is not served',
      'HTTPROUTE_REGEX_INVALID HTTPRoute default/r: spec.rules[0].matches[1]: path "/(a)\\\\1" is not a usable regular expression: backreferences, lookahead and lookbehind are not supported (patterns must run in linear time); this match is not served',
    ]);
    expect(reach([...BASE, bad], 'h', '/ok')).toBe('a');
  });
});

describe('routes that do not attach: a diagnostic each, the rest keeps routing', () => {
  const codes = (objs: readonly Obj[]) => compileObjects(objs).diagnostics.map(diagLine);
  it.each([
    ['no such Gateway', [httpRoute('r', { parentRefs: [{ name: 'nope' }], rules: [rule('a')] })], 'HTTPROUTE_NOT_ATTACHED HTTPRoute default/r: parentRef Gateway default/nope: no such Gateway (reason NoMatchingParent)'],
    ['no listener of that sectionName', [httpRoute('r', { parentRefs: [{ name: 'gw', sectionName: 'other' }], rules: [rule('a')] })], 'HTTPROUTE_NOT_ATTACHED HTTPRoute default/r: parentRef Gateway default/gw sectionName other: no served listener of that name and port (reason NoMatchingParent)'],
    ['another namespace, allowedRoutes Same', [service('a', [{ port: 80 }], { namespace: 'team' }), httpRoute('r', { parentRefs: [{ name: 'gw', namespace: 'default' }], rules: [rule('a')] }, { namespace: 'team' })], 'HTTPROUTE_NOT_ATTACHED HTTPRoute team/r: parentRef Gateway default/gw: the listener\'s allowedRoutes do not admit HTTPRoutes of namespace team (reason NotAllowedByListeners)'],
    ['no hostname within the listener’s', [gateway('gw2', [listener('web', { hostname: 'a.example.com' })]), httpRoute('r', { parentRefs: [{ name: 'gw2' }], hostnames: ['b.example.com'], rules: [rule('a')] })], 'HTTPROUTE_NOT_ATTACHED HTTPRoute default/r: parentRef Gateway default/gw2: none of the route\'s hostnames (b.example.com) is within the listener\'s hostname a.example.com (reason NoMatchingListenerHostname)'],
  ] as [string, Obj[], string][])('%s', (_name, extra, line) => {
    const objs = [...BASE, ...extra, httpRoute('fine', { rules: [rule('b')] })];
    expect(codes(objs)).toEqual([line]);
    expect(reach(objs, 'h', '/')).toBe('b');
  });

  it('a Gateway of another controller is not served, and routes to it are left to that controller', () => {
    const objs = [gatewayClass('other', 'example.com/other'), gateway('gw', [listener('web')], { className: 'other' }), ...SERVICES, httpRoute('r', { rules: [rule('a')] })];
    expect(codes(objs)).toEqual(['GATEWAY_CLASS_IGNORED Gateway default/gw: not served: GatewayClass other has controllerName "example.com/other", not "switchyard.dev/gateway-controller"']);
    expect(reach(objs, 'h', '/')).toBe('-');
  });

  it('--gateway-controller-name changes which classes are ours', () => {
    const objs = [gatewayClass('other', 'example.com/other'), gateway('gw', [listener('web')], { className: 'other' }), ...SERVICES, httpRoute('r', { rules: [rule('a')] })];
    const state = compileObjects(objs, { gatewayControllerName: 'example.com/other' } as never);
    expect(matchRoute(portTable(state), 'h', '/')?.backend).toBe('default/a:80');
  });

  it('allowedRoutes Selector reads Namespace labels (and the name label every Namespace has)', () => {
    const ns = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    const gw = gateway('gw', [listener('web', { allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { shared: 'yes' } } } } }), listener('named', { port: 81, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['blue'] }] } } } })]);
    const objs = [gatewayClass(), gw, ns('team', { shared: 'yes' }), service('a', [{ port: 80 }], { namespace: 'team' }), service('b', [{ port: 80 }], { namespace: 'blue' }), service('c', [{ port: 80 }], { namespace: 'red' })];
    const r = (n: string) => httpRoute(`r-${n}`, { hostnames: [`${n}.example.com`], parentRefs: [{ name: 'gw', namespace: 'default' }], rules: [rule(n === 'team' ? 'a' : n === 'blue' ? 'b' : 'c')] }, { namespace: n });
    const all = [...objs, r('team'), r('blue'), r('red')];
    expect(['team', 'blue', 'red'].map((n) => reach(all, `${n}.example.com`, '/', 'GET', {}, n === 'blue' ? 81 : 80))).toEqual(['a', 'b', '-']);
    expect(codes(all)).toEqual([expect.stringContaining('HTTPROUTE_NOT_ATTACHED HTTPRoute red/r-red')]);
  });
});

describe('backendRefs', () => {
  const targetOf = (objs: readonly Obj[]) => compileObjects(objs).routes.list[0] as Route;
  it('one resolvable reference is a plain target; several are weighted, weight 0 left out', () => {
    const one = targetOf([...BASE, httpRoute('r', { rules: [rule('a')] })]);
    expect([one.backend, one.weighted]).toEqual(['default/a:80', undefined]);
    const r = httpRoute('r', { rules: [{ backendRefs: [{ name: 'a', port: 80, weight: 90 }, { name: 'b', port: 80, weight: 10 }, { name: 'c', port: 80, weight: 0 }] }] });
    expect(targetOf([...BASE, r]).weighted).toEqual([
      { backend: 'default/a:80', weight: 90, describe: 'default/a:80', problem: undefined, ingress: 'default/r' },
      { backend: 'default/b:80', weight: 10, describe: 'default/b:80', problem: undefined, ingress: 'default/r' },
    ]);
  });

  it.each([
    ['a missing Service', { name: 'missing', port: 80 }, [], 'no such Service in namespace default; its share of requests is answered 500 (reason BackendNotFound)'],
    ['a missing port', { name: 'a', port: 81 }, [], 'the Service has no TCP port 81 (it has 80/TCP); its share of requests is answered 500 (reason BackendNotFound)'],
    ['another kind', { group: 'example.com', kind: 'Bucket', name: 'a' }, [], 'kind example.com/Bucket is not supported (only Service); its share of requests is answered 500 (reason InvalidKind)'],
    ['another namespace without a ReferenceGrant', { name: 'x', namespace: 'team', port: 80 }, [], 'no ReferenceGrant in namespace team allows HTTPRoutes of namespace default to refer to it; its share of requests is answered 500 (reason RefNotPermitted)'],
    ['a grant for another Service', { name: 'x', namespace: 'team', port: 80 }, [referenceGrant('team', 'default', 'y')], 'no ReferenceGrant in namespace team allows HTTPRoutes of namespace default to refer to it; its share of requests is answered 500 (reason RefNotPermitted)'],
  ] as [string, Obj, Obj[], string][])('%s: a diagnostic, and its share unresolved', (_name, ref, extra, message) => {
    const objs = [...BASE, service('x', [{ port: 80 }], { namespace: 'team' }), ...extra, httpRoute('r', { rules: [{ backendRefs: [ref, { name: 'b', port: 80 }] }] })];
    const state = compileObjects(objs);
    expect(state.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([`HTTPROUTE_BACKEND_UNRESOLVED spec.rules[0].backendRefs[0] ${(ref.namespace as string) ?? 'default'}/${ref.name as string}:${(ref.port as number) ?? '?'}: ${message}`]);
    expect((state.routes.list[0] as Route).weighted?.map((w) => w.backend)).toEqual([undefined, 'default/b:80']);
  });

  it('a ReferenceGrant lets a route use a Service of another namespace', () => {
    const objs = [...BASE, service('x', [{ port: 80 }], { namespace: 'team' }), referenceGrant('team', 'default'), httpRoute('r', { rules: [{ backendRefs: [{ name: 'x', namespace: 'team', port: 80 }] }] })];
    expect(compileObjects(objs).diagnostics).toEqual([]);
    expect(reach(objs, 'h', '/')).toBe('x');
  });
});

describe('filters', () => {
  it('a redirect rule needs no backend; a URLRewrite hostname becomes a Host edit; unsupported filters are reported', () => {
    const objs = [
      ...BASE,
      httpRoute('r', {
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/go' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
            backendRefs: [{ name: 'a', port: 80 }],
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'Host', value: 'x' }, { name: 'X-A', value: '1' }] } },
              { type: 'URLRewrite', urlRewrite: { hostname: 'internal.example' } },
              { type: 'CORS', cors: { allowOrigins: ['https://example.com'] } },
            ],
          },
        ],
      }),
    ];
    const state = compileObjects(objs);
    expect(state.diagnostics.map(diagLine)).toEqual(['HTTPROUTE_FILTER_UNSUPPORTED HTTPRoute default/r: spec.rules[1].filters: CORS not applied yet; the rule routes without them']);
    const byPath = new Map(state.routes.list.map((r) => [r.path, r]));
    expect(byPath.get('/go')).toMatchObject({ backend: undefined, describe: '(redirect)', filters: { redirect: { scheme: 'https', statusCode: 301, hostname: undefined, port: undefined, path: undefined } } });
    expect(byPath.get('/api')!.filters!.requestHeaders).toEqual({ remove: [], set: ['x-a', '1', 'host', 'internal.example'], add: [] });
  });
});
