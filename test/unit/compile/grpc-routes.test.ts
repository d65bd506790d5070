import { describe, expect, it } from 'vitest';
import { matchRoute } from '../../../src/dataplane/match.ts';
import type { GrpcRouteRec } from '../../../src/model/gateway-records.ts';
import { parseManifest } from '../../../src/sources/normalize.ts';
import type { Diagnostic, RouteTarget } from '../../../src/snapshot/types.ts';
import { gateway, gatewayClass, httpRoute, listener, rule } from '../support/gateway.ts';
import { compileObjects, manifestText, records, service, slice, type Obj } from '../support/k8s.ts';

const V1 = 'gateway.networking.k8s.io/v1';
const GRPC = { 'content-type': 'application/grpc' };

function grpcRoute(name: string, spec: Obj, meta: { namespace?: string; creationTimestamp?: string } = {}): Obj {
  return { apiVersion: V1, kind: 'GRPCRoute', metadata: { name, ...meta }, spec: { parentRefs: [{ name: 'gw' }], ...spec } };
}

/** A rule to Service `svc` port 80 with the given matches. */
const to = (svc: string, ...matches: Obj[]): Obj => ({ ...(matches.length ? { matches } : {}), backendRefs: [{ name: svc, port: 80 }] });
const method = (service?: string, m?: string, type?: string): Obj => ({ method: { ...(type ? { type } : {}), ...(service ? { service } : {}), ...(m ? { method: m } : {}) } });

const SERVICES = ['a', 'b', 'c', 'd', 'e'].map((n) => service(n, [{ port: 80 }]));
const BASE: Obj[] = [gatewayClass(), gateway('gw', [listener('web')]), ...SERVICES];
const diagLine = (d: Diagnostic) => `${d.code} ${d.kind} ${d.namespace}/${d.name}: ${d.message}`;

/** The Service a call reaches on Gateway port 80 (its backend key's name), or `-` for none. */
function reach(objs: readonly Obj[], host: string, path: string, headers: Record<string, string> = GRPC, verb = 'POST'): string {
  const table = compileObjects(objs).gatewayPorts?.get(80)?.routes;
  if (!table) return '-';
  const r: RouteTarget | undefined = matchRoute(table, host, path, { method: verb, rawHeaders: Object.entries(headers).flat() }, path);
  return r?.backend?.replace(/^[^/]+\//, '').replace(/:\d+(\/h2c)?$/, '') ?? '-';
}

function grant(fromKind: string): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: `from-${fromKind.toLowerCase()}`, namespace: 'other' },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: fromKind, namespace: 'default' }], to: [{ group: '', kind: 'Service' }] },
  };
}

const one = (obj: Obj): GrpcRouteRec => records([obj])[0] as GrpcRouteRec;
const errorOf = (obj: Obj) => {
  const r = parseManifest(manifestText([obj]), 'test.yaml', 'test');
  expect(r.records).toEqual([]);
  expect(r.errors).toHaveLength(1);
  return { path: r.errors[0]!.location?.path, message: r.errors[0]!.message };
};

describe('GRPCRoute from manifests', () => {
  it('applies the defaults: Exact method matches, Exact lower-cased headers (first of a name), Service backendRefs of weight 1, a rule of every call', () => {
    const rec = one(grpcRoute('r', { rules: [{ matches: [{ method: { service: 'pkg.Echo' }, headers: [{ name: 'X-Env', value: 'a' }, { name: 'x-env', value: 'b' }] }], backendRefs: [{ name: 'a', port: 80 }] }] }));
    expect(rec).toMatchObject({ kind: 'GRPCRoute', parentRefs: [{ group: V1.split('/')[0], kind: 'Gateway', namespace: 'default', name: 'gw' }], hostnames: [] });
    expect(rec.rules[0]).toEqual({
      matches: [{ method: { type: 'Exact', service: 'pkg.Echo', method: undefined }, headers: [{ type: 'Exact', name: 'x-env', value: 'a' }] }],
      backendRefs: [{ group: '', kind: 'Service', name: 'a', namespace: 'default', port: 80, weight: 1 }],
      filters: [],
    });
    expect(one(grpcRoute('r', {})).rules).toEqual([{ matches: [{ method: undefined, headers: [] }], backendRefs: [], filters: [] }]);
  });

  it('keeps header modifiers and mirrors (HTTPRoute’s records) and marks ExtensionRef unsupported', () => {
    const filters = [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-A', value: '1' }] } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'b', port: 80 }, percent: 25 } },
      { type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Auth', name: 'x' } },
    ];
    expect(one(grpcRoute('r', { rules: [{ filters }] })).rules[0]!.filters).toEqual([
      { type: 'RequestHeaderModifier', headers: { set: [{ name: 'X-A', value: '1' }], add: [], remove: [] } },
      { type: 'RequestMirror', backendRef: { group: '', kind: 'Service', name: 'b', namespace: 'default', port: 80, weight: 1 }, numerator: 25, denominator: 100 },
      { type: 'Unsupported', name: 'ExtensionRef' },
    ]);
  });

  it.each([
    ['a method match naming neither service nor method', grpcRoute('r', { rules: [{ matches: [{ method: { type: 'Exact' } }] }] }), 'spec.rules[0].matches[0].method', `Invalid value: "object": One or both of 'service' or 'method' must be specified`],
    ['an Exact service with a slash', grpcRoute('r', { rules: [to('a', method('pkg/Echo'))] }), 'spec.rules[0].matches[0].method', 'Invalid value: "object": service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)'],
    ['an Exact method starting with a digit', grpcRoute('r', { rules: [to('a', method(undefined, '1Get'))] }), 'spec.rules[0].matches[0].method', 'Invalid value: "object": method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)'],
    ['a method match type Prefix', grpcRoute('r', { rules: [to('a', method('pkg.Echo', undefined, 'Prefix'))] }), 'spec.rules[0].matches[0].method.type', 'Unsupported value: "Prefix"'],
    ['a service of 1025 characters', grpcRoute('r', { rules: [to('a', method('s'.repeat(1025), undefined, 'RegularExpression'))] }), 'spec.rules[0].matches[0].method.service', 'Too long'],
    ['nine matches in a rule', grpcRoute('r', { rules: [to('a', ...Array.from({ length: 9 }, () => method('pkg.Echo')))] }), 'spec.rules[0].matches', 'Too many'],
    ['17 header matches', grpcRoute('r', { rules: [to('a', { headers: Array.from({ length: 17 }, (_, i) => ({ name: `x-${i}`, value: '1' })) })] }), 'spec.rules[0].matches[0].headers', 'Too many'],
    ['a header name with a space', grpcRoute('r', { rules: [to('a', { headers: [{ name: 'x y', value: '1' }] })] }), 'spec.rules[0].matches[0].headers[0].name', 'Invalid value: "x y"'],
    ['an empty header value', grpcRoute('r', { rules: [to('a', { headers: [{ name: 'x', value: '' }] })] }), 'spec.rules[0].matches[0].headers[0].value', 'Required value'],
    ['a URLRewrite filter (HTTPRoute only)', grpcRoute('r', { rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: {} }] }] }), 'spec.rules[0].filters[0].type', 'Unsupported value: "URLRewrite"'],
    ['a filter without its field', grpcRoute('r', { rules: [{ filters: [{ type: 'RequestHeaderModifier' }] }] }), 'spec.rules[0].filters[0]', 'Invalid value: "object": filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type'],
    ['a filter with another type’s field', grpcRoute('r', { rules: [{ filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: {}, requestHeaderModifier: {} }] }] }), 'spec.rules[0].filters[0]', 'Invalid value: "object": filter.requestHeaderModifier must be nil if the filter.type is not RequestHeaderModifier'],
    ['RequestHeaderModifier twice', grpcRoute('r', { rules: [{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: {} }, { type: 'RequestHeaderModifier', requestHeaderModifier: {} }] }] }), 'spec.rules[0].filters', 'Invalid value: "array": RequestHeaderModifier filter cannot be repeated'],
    ['a backendRef without port', grpcRoute('r', { rules: [{ backendRefs: [{ name: 'a' }] }] }), 'spec.rules[0].backendRefs[0].port', 'Required value: Must have port for Service reference'],
    ['a weight above 1,000,000', grpcRoute('r', { rules: [{ backendRefs: [{ name: 'a', port: 80, weight: 1_000_001 }] }] }), 'spec.rules[0].backendRefs[0].weight', 'Invalid value: 1000001'],
    ['17 rules', grpcRoute('r', { rules: Array.from({ length: 17 }, () => to('a')) }), 'spec.rules', 'Too many'],
    ['a hostname with a port', grpcRoute('r', { hostnames: ['grpc.example.com:443'] }), 'spec.hostnames[0]', 'Invalid value: "grpc.example.com:443"'],
    ['GRPCRoute of v1alpha2', { ...grpcRoute('r', {}), apiVersion: 'gateway.networking.k8s.io/v1alpha2' }, 'apiVersion', 'Unsupported value: "gateway.networking.k8s.io/v1alpha2"'],
  ])('refuses %s in the API server’s words', (_name, obj, path, message) => {
    const e = errorOf(obj);
    expect(e.path).toBe(path);
    expect(e.message).toContain(`field ${path}: ${message}`);
  });
});

describe('GRPCRoute → the Gateway port’s route table', () => {
  it('maps service and method to paths, and takes only gRPC calls (POST, content-type application/grpc…)', () => {
    const objs = [...BASE, grpcRoute('r', { hostnames: ['grpc.example.com'], rules: [to('a', method('pkg.Echo', 'Get')), to('b', method('pkg.Echo')), to('c', method(undefined, 'List')), to('d')] })];
    expect(compileObjects(objs).diagnostics).toEqual([]);
    const at = (path: string, headers?: Record<string, string>, verb?: string) => reach(objs, 'grpc.example.com', path, headers, verb);
    expect([at('/pkg.Echo/Get'), at('/pkg.Echo/Put'), at('/other.Svc/List'), at('/other.Svc/Get'), at('/pkg.Echo/List')]).toEqual(['a', 'b', 'c', 'd', 'b']);
    expect(at('/pkg.Echo/Get', { 'content-type': 'application/grpc+proto' })).toBe('a');
    expect([at('/pkg.Echo/Get', {}), at('/pkg.Echo/Get', { 'content-type': 'application/json' }), at('/pkg.Echo/Get', GRPC, 'GET'), at('/pkg.echo/Get')]).toEqual(['-', '-', '-', 'd']);
    const listed = compileObjects(objs).routes.list.filter((r) => r.routeKind === 'GRPCRoute');
    expect(listed.find((r) => r.path === '/pkg.Echo/Get')).toMatchObject({ pathType: 'Exact', ingress: 'default/r', listenerPorts: [80], conditions: { method: 'POST' } });
  });

  it('RegularExpression matches service and method patterns in the linear dialect; an unusable pattern is a diagnostic', () => {
    const objs = [
      ...BASE,
      grpcRoute('r', { rules: [to('a', method('pkg\\.v[0-9]+\\.Echo', 'Get.*', 'RegularExpression')), to('b', method(undefined, '(a)\\1', 'RegularExpression'))] }),
    ];
    expect([reach(objs, 'x', '/pkg.v2.Echo/GetAll'), reach(objs, 'x', '/pkg.v2.Echo/Put'), reach(objs, 'x', '/pkg.vx.Echo/Get')]).toEqual(['a', '-', '-']);
    expect(compileObjects(objs).diagnostics.map(diagLine)).toEqual([
      'GRPCROUTE_REGEX_INVALID GRPCRoute default/r: spec.rules[1].matches[0]: method "(a)\\\\1" is not a usable regular expression: backreferences, lookahead and lookbehind are not supported (patterns must run in linear time); this match is not served',
    ]);
  });

  it.each([
    ['service+method over service over method over every call', [to('a', method('pkg.Echo', 'Get')), to('b', method('pkg.Echo')), to('c', method(undefined, 'Get')), to('d')], ['a', 'b', 'c', 'd', 'b']],
    ['the same, rules listed the other way round', [to('d'), to('c', method(undefined, 'Get')), to('b', method('pkg.Echo')), to('a', method('pkg.Echo', 'Get'))], ['a', 'b', 'c', 'd', 'b']],
    ['a service match over a method match even with headers on the method match', [to('c', { ...method(undefined, 'Get'), headers: [{ name: 'x-a', value: '1' }] }), to('b', method('pkg.Echo'))], ['b', 'b', 'c', '-', 'b']],
  ])('precedence: %s', (_name, rules, expected) => {
    const objs = [...BASE, grpcRoute('r', { rules })];
    const h = { ...GRPC, 'x-a': '1' };
    expect([reach(objs, 'h', '/pkg.Echo/Get', h), reach(objs, 'h', '/pkg.Echo/Put', h), reach(objs, 'h', '/other.Svc/Get', h), reach(objs, 'h', '/other.Svc/Put', { ...GRPC }), reach(objs, 'h', '/pkg.Echo/List', h)]).toEqual(expected);
  });

  it('precedence: more header matches first, then the older route, then namespace/name; a method match falls back when its service match’s headers fail', () => {
    const objs = [
      ...BASE,
      grpcRoute('young', { rules: [to('a', { ...method('pkg.Echo', 'Get'), headers: [{ name: 'x-a', value: '1' }, { name: 'x-b', value: '1' }] })] }, { creationTimestamp: '2025-01-01T00:00:00Z' }),
      grpcRoute('old', { rules: [to('b', { ...method('pkg.Echo', 'Get'), headers: [{ name: 'x-a', value: '1' }] })] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      grpcRoute('older', { rules: [to('c', { ...method('pkg.Echo', 'Get'), headers: [{ name: 'x-b', value: '1' }] })] }, { creationTimestamp: '2023-01-01T00:00:00Z' }),
      grpcRoute('svc', { rules: [to('d', { ...method('pkg.Echo'), headers: [{ name: 'x-c', value: '1' }] }), to('e', method(undefined, 'Get'))] }),
    ];
    const get = (h: Record<string, string>) => reach(objs, 'h', '/pkg.Echo/Get', { ...GRPC, ...h });
    expect([get({ 'x-a': '1', 'x-b': '1' }), get({ 'x-a': '1' }), get({ 'x-b': '1' }), get({ 'x-c': '1' }), get({})]).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(reach(objs, 'h', '/pkg.Echo/Put', { ...GRPC, 'x-c': '1' })).toBe('d');
  });

  it('precedence: an exact hostname over a wildcard, a longer wildcard over a shorter', () => {
    const objs = [
      ...BASE,
      grpcRoute('wild', { hostnames: ['*.example.com'], rules: [to('a', method('pkg.Echo', 'Get'))] }),
      grpcRoute('deeper', { hostnames: ['*.b.example.com'], rules: [to('b')] }),
      grpcRoute('exact', { hostnames: ['x.b.example.com'], rules: [to('c', method('pkg.Echo'))] }),
    ];
    expect(['x.b.example.com', 'y.b.example.com', 'y.a.example.com'].map((h) => reach(objs, h, '/pkg.Echo/Get'))).toEqual(['c', 'b', 'a']);
  });

  it('speaks h2c to a Service port without appProtocol, and as the port says otherwise; weights and missing backends as HTTPRoute', () => {
    const objs = [
      gatewayClass(),
      gateway('gw', [listener('web')]),
      service('plain', [{ port: 80 }]),
      service('said', [], { spec: { ports: [{ port: 80, appProtocol: 'kubernetes.io/h2c' }] } }),
      service('tls', [], { spec: { ports: [{ port: 80, appProtocol: 'https' }] } }),
      slice('plain-1', 'plain', [{ ip: '10.0.0.1', ready: true }], [{ port: 8080 }]),
      grpcRoute('r', { rules: [{ backendRefs: [{ name: 'plain', port: 80, weight: 3 }, { name: 'said', port: 80 }, { name: 'tls', port: 80 }, { name: 'gone', port: 80 }] }] }),
    ];
    const state = compileObjects(objs);
    const route = state.routes.list.find((r) => r.routeKind === 'GRPCRoute')!;
    expect(route.weighted!.map((t) => [t.backend, t.weight])).toEqual([
      ['default/plain:80/h2c', 3],
      ['default/said:80', 1],
      ['default/tls:80', 1],
      [undefined, 1],
    ]);
    expect(state.backends.get('default/plain:80')!.upstream.protocol).toBe('http1');
    expect(state.backends.get('default/plain:80/h2c')).toMatchObject({ key: 'default/plain:80/h2c', service: 'plain', port: 80, upstream: { protocol: 'h2c' }, variantOf: 'default/plain:80' });
    expect(state.backends.get('default/plain:80/h2c')!.ready.map((e) => e.key)).toEqual(['10.0.0.1:8080']);
    expect(state.diagnostics.map(diagLine)).toEqual([
      'GRPCROUTE_BACKEND_UNRESOLVED GRPCRoute default/r: spec.rules[0].backendRefs[3] default/gone:80: no such Service in namespace default; its share of requests is answered UNAVAILABLE (reason BackendNotFound)',
    ]);
  });

  it.each([
    ['no ReferenceGrant', [], 'RefNotPermitted'],
    ['a ReferenceGrant for HTTPRoutes only', [grant('HTTPRoute')], 'RefNotPermitted'],
    ['a ReferenceGrant for GRPCRoutes', [grant('GRPCRoute')], undefined],
  ])('a backend of another namespace with %s', (_name, grants, reason) => {
    const objs = [...BASE, service('api', [{ port: 80 }], { namespace: 'other' }), ...grants, grpcRoute('r', { rules: [{ backendRefs: [{ name: 'api', namespace: 'other', port: 80 }] }] })];
    const state = compileObjects(objs);
    expect(state.routes.list.find((r) => r.routeKind === 'GRPCRoute')!.backend).toBe(reason === undefined ? 'other/api:80/h2c' : undefined);
    expect(state.diagnostics.map((d) => /reason (\w+)/.exec(d.message)?.[1])).toEqual(reason === undefined ? [] : [reason]);
  });

  it('attaches as HTTPRoute does: allowedRoutes.kinds, hostnames; reports what does not attach', () => {
    const objs = [
      gatewayClass(),
      gateway('gw', [listener('http-only', { allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }] } }), listener('named', { port: 8080, hostname: 'a.example.com' })]),
      ...SERVICES,
      grpcRoute('kinds', { parentRefs: [{ name: 'gw', sectionName: 'http-only' }], rules: [to('a')] }),
      grpcRoute('host', { parentRefs: [{ name: 'gw', sectionName: 'named' }], hostnames: ['b.example.com'], rules: [to('a')] }),
      grpcRoute('nogw', { parentRefs: [{ name: 'nope' }], rules: [to('a')] }),
      grpcRoute('ok', { parentRefs: [{ name: 'gw', port: 8080 }], rules: [to('b')] }),
    ];
    const state = compileObjects(objs);
    expect(state.diagnostics.map(diagLine)).toEqual([
      "GRPCROUTE_NOT_ATTACHED GRPCRoute default/host: parentRef Gateway default/gw sectionName named: none of the route's hostnames (b.example.com) is within the listener's hostname a.example.com (reason NoMatchingListenerHostname)",
      "GRPCROUTE_NOT_ATTACHED GRPCRoute default/kinds: parentRef Gateway default/gw sectionName http-only: the listener's allowedRoutes do not admit GRPCRoutes of namespace default (reason NotAllowedByListeners)",
      'GRPCROUTE_NOT_ATTACHED GRPCRoute default/nogw: parentRef Gateway default/nope: no such Gateway (reason NoMatchingParent)',
    ]);
    expect(state.routes.list.filter((r) => r.routeKind === 'GRPCRoute').map((r) => [r.ingress, r.host, r.listenerPorts])).toEqual([['default/ok', 'a.example.com', [8080]]]);
  });

  it('serves an HTTPRoute and a GRPCRoute sharing a hostname: gRPC calls the GRPCRoute matches go to it, the rest to the HTTPRoute', () => {
    const objs = [...BASE, httpRoute('web', { hostnames: ['h.example.com'], rules: [rule('a')] }), grpcRoute('api', { hostnames: ['h.example.com'], rules: [to('b', method('pkg.Echo'))] })];
    expect([reach(objs, 'h.example.com', '/pkg.Echo/Get'), reach(objs, 'h.example.com', '/pkg.Echo/Get', {}, 'GET'), reach(objs, 'h.example.com', '/other.Svc/Get')]).toEqual(['b', 'a', 'a']);
    expect(compileObjects(objs).diagnostics.map(diagLine)).toEqual([
      'GRPCROUTE_HOSTNAME_SHARED GRPCRoute default/api: hostname h.example.com (port 80) with HTTPRoute default/web: both are served; gRPC calls this GRPCRoute matches go to it, other requests to the HTTPRoute',
    ]);
  });

  it('applies header modifiers and mirrors (to the h2c variant), reports unresolved mirrors and the filters it does not apply', () => {
    const filters = [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'X-Via', value: 'sy' }] } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'b', port: 80 }, fraction: { numerator: 1, denominator: 3 } } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'gone', port: 80 } } },
      { type: 'ExtensionRef', extensionRef: { group: 'example.com', kind: 'Auth', name: 'x' } },
    ];
    const state = compileObjects([...BASE, grpcRoute('r', { rules: [{ ...to('a'), filters }] })]);
    const f = state.routes.list.find((r) => r.routeKind === 'GRPCRoute')!.filters!;
    expect(f.requestHeaders).toEqual({ remove: [], set: [], add: ['x-via', 'sy'] });
    expect(f.mirrors).toEqual([{ backend: 'default/b:80/h2c', numerator: 1, denominator: 3 }]);
    expect(state.backends.get('default/b:80/h2c')?.upstream.protocol).toBe('h2c');
    expect(state.diagnostics.map(diagLine)).toEqual([
      'GRPCROUTE_BACKEND_UNRESOLVED GRPCRoute default/r: spec.rules[0].filters[2].requestMirror.backendRef default/gone:80: no such Service in namespace default; calls are not mirrored there (reason BackendNotFound)',
      'GRPCROUTE_FILTER_UNSUPPORTED GRPCRoute default/r: spec.rules[0].filters: ExtensionRef not applied yet; the rule routes without them',
    ]);
  });
});
