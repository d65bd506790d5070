import { describe, expect, it } from 'vitest';
import { compile } from '../../../src/compile/compile.ts';
import { compareByAge, prefixKey } from '../../../src/compile/routes.ts';
import { matchRoute } from '../../../src/dataplane/match.ts';
import type { IngressRec } from '../../../src/model/records.ts';
import type { Diagnostic, Route } from '../../../src/snapshot/types.ts';
import { DEFAULT_OPTIONS, backend, compileObjects, ingress, records, service, storeView, type Obj, type PathSpec } from '../support/k8s.ts';

const SERVICES: Obj[] = [
  service('web', [{ port: 80 }]),
  service('api', [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9090 }]),
  service('web', [{ port: 80 }], { namespace: 'team' }),
  service('ext', [], { spec: { type: 'ExternalName', externalName: 'x.example.com' } }),
];

const routeLine = (r: Route) => `${r.host || '*'} ${r.pathType} ${r.path} → ${r.backend ?? r.problem} (${r.ingress})`;
const diagLine = (d: Diagnostic) => `${d.severity} ${d.code} ${d.kind} ${d.namespace}/${d.name}`;
const prefix = (path: string, svc = 'web', port: number | string = 80): PathSpec => ({ path, pathType: 'Prefix', backend: backend(svc, port) });
const exact = (path: string, svc = 'web', port: number | string = 80): PathSpec => ({ path, pathType: 'Exact', backend: backend(svc, port) });

describe('prefixKey', () => {
  it.each([
    ['/', ''],
    ['/foo', '/foo'],
    ['/foo/', '/foo'],
    ['/foo//', '/foo'],
    ['/aaa/bbb/', '/aaa/bbb'],
    ['//', ''],
  ])('%j → %j', (path, key) => expect(prefixKey(path)).toBe(key));
});

describe('compareByAge', () => {
  const rec = (namespace: string, name: string, creationTimestamp?: string) => {
    const [r] = records([ingress(name, {}, { namespace, ...(creationTimestamp ? { creationTimestamp } : {}) })]);
    return r as IngressRec;
  };
  it.each([
    ['older first', rec('b', 'x', '2024-01-01T00:00:00Z'), rec('a', 'x', '2024-06-01T00:00:00Z'), -1],
    ['newer second', rec('a', 'x', '2024-06-01T00:00:00Z'), rec('b', 'x', '2024-01-01T00:00:00Z'), 1],
    ['same time: namespace/name', rec('a', 'z', '2024-01-01T00:00:00Z'), rec('b', 'a', '2024-01-01T00:00:00Z'), -1],
    ['same time, same namespace: name', rec('a', 'b', '2024-01-01T00:00:00Z'), rec('a', 'a', '2024-01-01T00:00:00Z'), 1],
    ['dated before undated', rec('z', 'z', '2030-01-01T00:00:00Z'), rec('a', 'a'), -1],
    ['undated after dated', rec('a', 'a'), rec('z', 'z', '2030-01-01T00:00:00Z'), 1],
    ['both undated: namespace/name', rec('a', 'a'), rec('a', 'b'), -1],
    ['itself', rec('a', 'a', '2024-01-01T00:00:00Z'), rec('a', 'a', '2024-01-01T00:00:00Z'), 0],
  ])('%s', (_name, a, b, sign) => {
    expect(Math.sign(compareByAge(a, b))).toBe(sign);
  });
});

describe('compileRoutes: backends', () => {
  // [description, backend, expected target as "backend|problem describe"]
  const cases: [string, Obj, string][] = [
    ['by port number', backend('web', 80), 'default/web:80 default/web:80'],
    ['by port name', backend('api', 'grpc'), 'default/api:9090 default/api:grpc'],
    ['by port number of a named port', backend('api', 8080), 'default/api:8080 default/api:8080'],
    ['missing Service', backend('nope', 80), 'unknown-service default/nope:80'],
    ['missing port number', backend('web', 81), 'unknown-port default/web:81'],
    ['missing port name', backend('api', 'metrics'), 'unknown-port default/api:metrics'],
    ['a port name on a Service whose only port is unnamed', backend('web', 'http'), 'unknown-port default/web:http'],
    ['an ExternalName Service', backend('ext', 80), 'unsupported-backend default/ext:80'],
    ['a resource backend', { resource: { kind: 'StorageBucket', name: 'assets' } }, 'unsupported-backend StorageBucket/assets'],
  ];
  it.each(cases)('%s', (_name, b, expected) => {
    const snap = compileObjects([...SERVICES, ingress('i', { rules: [{ host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: b }] }] })]);
    expect(snap.routes.list).toHaveLength(1);
    const r = snap.routes.list[0]!;
    expect(`${r.backend ?? r.problem} ${r.describe}`).toBe(expected);
    expect(r.backend === undefined).toBe(r.problem !== undefined);
    expect(r.ingress).toBe('default/i');
  });

  it.each([
    ['missing Service', backend('nope', 80), 'INGRESS_BACKEND_SERVICE_MISSING'],
    ['missing port', backend('web', 81), 'INGRESS_BACKEND_PORT_MISSING'],
    ['ExternalName', backend('ext', 80), 'INGRESS_BACKEND_EXTERNALNAME'],
    ['resource backend', { resource: { kind: 'StorageBucket', name: 'assets' } }, 'INGRESS_RESOURCE_BACKEND_UNSUPPORTED'],
  ])('a %s is a warning diagnostic on the Ingress, reported once however many paths use it', (_name, b, code) => {
    const snap = compileObjects([
      ...SERVICES,
      ingress('i', { rules: [{ host: 'a.example.com', paths: [{ path: '/a', pathType: 'Prefix', backend: b }, { path: '/b', pathType: 'Exact', backend: b }] }], defaultBackend: b }, { namespace: 'default' }),
    ]);
    expect(snap.diagnostics.map(diagLine)).toEqual([`warning ${code} Ingress default/i`]);
    expect(snap.routes.list).toHaveLength(2);
  });

  const one = (path: string, b: PathSpec['backend'], host = 'shop.example'): Obj => ingress('web', { rules: [{ ...(host === '' ? {} : { host }), paths: [{ path, pathType: 'Prefix', backend: b }] }] }, { namespace: 'shop' });
  it.each([
    ['a missing Service', one('/cart', backend('cart', 80)), 'host shop.example path /cart (Prefix) → Service cart port 80: no such Service in namespace shop; requests to it get 503'],
    ['a missing Service by port name', one('/cart', backend('cart', 'http')), 'host shop.example path /cart (Prefix) → Service cart port "http": no such Service in namespace shop; requests to it get 503'],
    ['a rule without host', one('/', backend('cart', 80), ''), 'host (any) path / (Prefix) → Service cart port 80: no such Service in namespace shop; requests to it get 503'],
    ['a wildcard host', one('/', backend('cart', 80), '*.shop.example'), 'host *.shop.example path / (Prefix) → Service cart port 80: no such Service in namespace shop; requests to it get 503'],
    ['a missing port number, naming the ports there are', one('/', backend('web', 81)), 'host shop.example path / (Prefix) → Service web port 81: Service shop/web has no TCP port 81 (it has 80/TCP (http), 53/UDP (dns)); requests to it get 503'],
    ['a missing port name', one('/', backend('web', 'grpc')), 'host shop.example path / (Prefix) → Service web port "grpc": Service shop/web has no TCP port named "grpc" (it has 80/TCP (http), 53/UDP (dns)); requests to it get 503'],
    ['a UDP-only port', one('/', backend('web', 53)), 'host shop.example path / (Prefix) → Service web port 53: Service shop/web has no TCP port 53 (it has 80/TCP (http), 53/UDP (dns)); requests to it get 503'],
    ['a Service without ports', one('/', backend('bare', 80)), 'host shop.example path / (Prefix) → Service bare port 80: Service shop/bare has no TCP port 80 (it has no ports); requests to it get 503'],
    ['an ExternalName Service', one('/', backend('ext', 80)), 'host shop.example path / (Prefix) → Service ext port 80: Service shop/ext is of type ExternalName, which is not proxied; requests to it get 503'],
    ['a resource backend', one('/', { resource: { kind: 'StorageBucket', name: 'assets' } }), 'host shop.example path / (Prefix) → resource StorageBucket/assets: resource backends are not supported; requests to it get 503'],
    ['a default backend', ingress('web', { defaultBackend: backend('cart', 80) }, { namespace: 'shop' }), 'spec.defaultBackend → Service cart port 80: no such Service in namespace shop; requests to it get 503'],
  ])('the diagnostic about %s names the host and path that use it', (_name, ing, message) => {
    const services = [
      service('web', [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }], { namespace: 'shop' }),
      service('bare', [], { namespace: 'shop' }),
      service('ext', [], { namespace: 'shop', spec: { type: 'ExternalName', externalName: 'x.example.com' } }),
    ];
    expect(compileObjects([...services, ing]).diagnostics.map((d) => [d.namespace, d.name, d.message])).toEqual([['shop', 'web', message]]);
  });

  it('one diagnostic per missing backend lists every use, the first three by name', () => {
    const paths = ['/a', '/b', '/c', '/d', '/e'].map((p) => prefix(p, 'cart', 80));
    const snap = compileObjects([
      ingress('web', { rules: [{ host: 'shop.example', paths }, { paths: [exact('/x', 'cart', 80), exact('/y', 'gone', 80)] }], defaultBackend: backend('cart', 80) }, { namespace: 'shop' }),
    ]);
    expect(snap.diagnostics.map((d) => d.message).sort()).toEqual([
      'host (any) path /y (Exact) → Service gone port 80: no such Service in namespace shop; requests to it get 503',
      'spec.defaultBackend, host shop.example path /a (Prefix), host shop.example path /b (Prefix) and 4 more → Service cart port 80: no such Service in namespace shop; requests to it get 503',
    ]);
  });

  it('a backend Service is looked up in the Ingress namespace', () => {
    const snap = compileObjects([...SERVICES, ingress('i', { rules: [{ paths: [prefix('/')] }] }, { namespace: 'team' }), ingress('j', { rules: [{ paths: [prefix('/api', 'api', 'http')] }] }, { namespace: 'team' })]);
    expect(snap.routes.list.map(routeLine)).toEqual(['* Prefix /api → unknown-service (team/j)', '* Prefix / → team/web:80 (team/i)']);
  });

  it('defaultBackend resolves like a path backend', () => {
    const snap = compileObjects([...SERVICES, ingress('i', { defaultBackend: backend('api', 'http') })]);
    expect(snap.routes.defaultBackend).toEqual({ backend: 'default/api:8080', problem: undefined, describe: 'default/api:http', ingress: 'default/i' });
    expect(snap.routes.list).toEqual([]);
  });
});

describe('compileRoutes: merging Ingresses', () => {
  it('rules of several Ingresses merge by host', () => {
    const snap = compileObjects([
      ...SERVICES,
      ingress('a', { rules: [{ host: 'shop.example.com', paths: [prefix('/')] }] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      ingress('b', { rules: [{ host: 'shop.example.com', paths: [prefix('/api', 'api', 8080)] }, { host: 'other.example.com', paths: [prefix('/')] }] }),
      ingress('c', { rules: [{ host: 'Shop.Example.com', paths: [exact('/login', 'api', 'grpc')] }] }),
    ]);
    const shop = snap.routes.hosts.get('shop.example.com')!;
    expect([...shop.prefix.keys()].sort()).toEqual(['', '/api']);
    expect([...shop.exact.keys()]).toEqual(['/login']);
    expect([...snap.routes.hosts.keys()].sort()).toEqual(['other.example.com', 'shop.example.com']);
    expect(snap.routes.list.map(routeLine)).toEqual([
      'other.example.com Prefix / → default/web:80 (default/b)',
      'shop.example.com Exact /login → default/api:9090 (default/c)',
      'shop.example.com Prefix /api → default/api:8080 (default/b)',
      'shop.example.com Prefix / → default/web:80 (default/a)',
    ]);
    expect(snap.diagnostics).toEqual([]);
  });

  it('wildcard rules are keyed by their suffix, host-less rules go to anyHost', () => {
    const snap = compileObjects([...SERVICES, ingress('a', { rules: [{ host: '*.example.com', paths: [prefix('/')] }, { paths: [exact('/healthz')] }] })]);
    expect([...snap.routes.wildcards.keys()]).toEqual(['example.com']);
    expect([...snap.routes.hosts.keys()]).toEqual([]);
    expect([...snap.routes.anyHost!.exact.keys()]).toEqual(['/healthz']);
    expect(snap.routes.list.map((r) => r.host)).toEqual(['', '*.example.com']);
  });

  it('hosts with paths of one type only share one empty map for the other (memory at 10,000 hosts)', () => {
    const snap = compileObjects([
      ...SERVICES,
      ingress('a', { rules: [{ host: 'a.example.com', paths: [prefix('/')] }, { host: 'b.example.com', paths: [prefix('/b')] }, { host: 'c.example.com', paths: [exact('/c')] }] }),
    ]);
    const [a, b, c] = ['a', 'b', 'c'].map((h) => snap.routes.hosts.get(`${h}.example.com`)!);
    expect(a!.exact.size).toBe(0);
    expect(a!.exact).toBe(b!.exact);
    expect(c!.prefix).toBe(a!.exact);
    expect([...c!.exact.keys()]).toEqual(['/c']);
    expect(a!.prefix).not.toBe(b!.prefix);
    expect((matchRoute(snap.routes, 'b.example.com', '/b/x') as Route | undefined)?.path).toBe('/b');
    expect((matchRoute(snap.routes, 'c.example.com', '/c') as Route | undefined)?.path).toBe('/c');
    expect(matchRoute(snap.routes, 'c.example.com', '/')).toBeUndefined();
  });

  // [description, ingresses, expected winner ingress, expected loser]
  const conflicts: [string, Obj[], string, string][] = [
    [
      'the oldest creationTimestamp wins',
      [
        ingress('new', { rules: [{ host: 'a.example.com', paths: [prefix('/', 'api', 8080)] }] }, { creationTimestamp: '2024-06-01T00:00:00Z' }),
        ingress('old', { rules: [{ host: 'a.example.com', paths: [prefix('/')] }] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      ],
      'default/old',
      'new',
    ],
    [
      'the oldest wins even when its name sorts last',
      [
        ingress('aaa', { rules: [{ host: 'a.example.com', paths: [prefix('/')] }] }, { creationTimestamp: '2024-01-02T00:00:00Z' }),
        ingress('zzz', { rules: [{ host: 'a.example.com', paths: [prefix('/', 'api', 8080)] }] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      ],
      'default/zzz',
      'aaa',
    ],
    [
      'equal timestamps: namespace/name decides',
      [
        ingress('b', { rules: [{ host: 'a.example.com', paths: [prefix('/', 'api', 8080)] }] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
        ingress('a', { rules: [{ host: 'a.example.com', paths: [prefix('/')] }] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      ],
      'default/a',
      'b',
    ],
    [
      'no timestamps: namespace/name decides',
      [ingress('b', { rules: [{ host: 'a.example.com', paths: [prefix('/', 'api', 8080)] }] }), ingress('a', { rules: [{ host: 'a.example.com', paths: [prefix('/')] }] })],
      'default/a',
      'b',
    ],
    [
      'a dated Ingress beats an undated one',
      [
        ingress('a', { rules: [{ host: 'a.example.com', paths: [prefix('/')] }] }),
        ingress('b', { rules: [{ host: 'a.example.com', paths: [prefix('/', 'api', 8080)] }] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      ],
      'default/b',
      'a',
    ],
    [
      'Prefix /foo and /foo/ are the same rule',
      [
        ingress('a', { rules: [{ host: 'a.example.com', paths: [prefix('/foo/')] }] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
        ingress('b', { rules: [{ host: 'a.example.com', paths: [prefix('/foo', 'api', 8080)] }] }, { creationTimestamp: '2024-02-01T00:00:00Z' }),
      ],
      'default/a',
      'b',
    ],
    [
      'host-less rules conflict too',
      [
        ingress('b', { rules: [{ paths: [exact('/x', 'api', 8080)] }] }, { creationTimestamp: '2024-02-01T00:00:00Z' }),
        ingress('a', { rules: [{ paths: [exact('/x')] }] }, { creationTimestamp: '2024-01-01T00:00:00Z' }),
      ],
      'default/a',
      'b',
    ],
  ];
  it.each(conflicts)('conflicting host+path+pathType: %s, the loser gets INGRESS_RULE_CONFLICT', (_name, ings, winner, loser) => {
    for (const order of [ings, [...ings].reverse()]) {
      const snap = compileObjects([...SERVICES, ...order]);
      expect(snap.routes.list.map((r) => r.ingress)).toEqual([winner]);
      expect(snap.diagnostics.map(diagLine)).toEqual([`warning INGRESS_RULE_CONFLICT Ingress default/${loser}`]);
      expect(snap.diagnostics[0]!.message).toContain(`already routed by Ingress ${winner}`);
    }
  });

  it('an Ingress with an unparseable creationTimestamp sorts like an undated one: the conflict winner does not depend on input order', () => {
    const a = ingress('a', { rules: [{ host: 'a.example.com', paths: [prefix('/')] }] }, { creationTimestamp: 'not-a-date' });
    const b = ingress('b', { rules: [{ host: 'a.example.com', paths: [prefix('/', 'api', 8080)] }] }, { creationTimestamp: 'not-a-date' });
    const forward = compileObjects([...SERVICES, a, b]).routes.list.map((r) => r.ingress);
    const backward = compileObjects([...SERVICES, b, a]).routes.list.map((r) => r.ingress);
    expect(forward).toEqual(['default/a']);
    expect(backward).toEqual(['default/a']);
  });

  it.each([
    ['Prefix and Exact on the same path', [prefix('/foo')], 'a.example.com', [exact('/foo', 'api', 8080)]],
    ['the same path on different hosts', [prefix('/')], 'b.example.com', [prefix('/', 'api', 8080)]],
    ['an exact host and a wildcard covering it', [prefix('/')], '*.example.com', [prefix('/', 'api', 8080)]],
  ])('no conflict: %s', (_name, pathsA, hostB, pathsB) => {
    const snap = compileObjects([...SERVICES, ingress('a', { rules: [{ host: 'a.example.com', paths: pathsA }] }), ingress('b', { rules: [{ host: hostB, paths: pathsB }] })]);
    expect(snap.routes.list).toHaveLength(2);
    expect(snap.diagnostics).toEqual([]);
  });

  it('two default backends: the oldest Ingress keeps it, the other gets INGRESS_DEFAULT_BACKEND_CONFLICT', () => {
    const snap = compileObjects([
      ...SERVICES,
      ingress('young', { defaultBackend: backend('api', 8080) }, { creationTimestamp: '2025-01-01T00:00:00Z' }),
      ingress('old', { defaultBackend: backend('web', 80) }, { creationTimestamp: '2020-01-01T00:00:00Z' }),
    ]);
    expect(snap.routes.defaultBackend).toMatchObject({ backend: 'default/web:80', ingress: 'default/old' });
    expect(snap.diagnostics.map(diagLine)).toEqual(['warning INGRESS_DEFAULT_BACKEND_CONFLICT Ingress default/young']);
  });
});

describe('compileRoutes: ingress class', () => {
  // [Ingress spec/meta, served by class "switchyard"?]
  const cases: [string, Obj, boolean][] = [
    ['spec.ingressClassName equal to the served class', ingress('i', { ingressClassName: 'switchyard', rules: [{ paths: [prefix('/')] }] }), true],
    ['no class at all', ingress('i', { rules: [{ paths: [prefix('/')] }] }), true],
    ['another spec.ingressClassName', ingress('i', { ingressClassName: 'nginx', rules: [{ paths: [prefix('/')] }] }), false],
    ['the legacy annotation with the served class', ingress('i', { rules: [{ paths: [prefix('/')] }] }, { annotations: { 'kubernetes.io/ingress.class': 'switchyard' } }), true],
    ['the legacy annotation with another class', ingress('i', { rules: [{ paths: [prefix('/')] }] }, { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }), false],
    ['spec class served, annotation another', ingress('i', { ingressClassName: 'switchyard', rules: [{ paths: [prefix('/')] }] }, { annotations: { 'kubernetes.io/ingress.class': 'nginx' } }), true],
    ['class names compare exactly', ingress('i', { rules: [{ paths: [prefix('/')] }] }, { annotations: { 'kubernetes.io/ingress.class': 'Switchyard' } }), false],
    ['an empty legacy annotation counts as no class', ingress('i', { rules: [{ paths: [prefix('/')] }] }, { annotations: { 'kubernetes.io/ingress.class': '' } }), true],
  ];
  it.each(cases)('%s', (_name, ing, served) => {
    const snap = compileObjects([...SERVICES, ing]);
    expect(snap.routes.list).toHaveLength(served ? 1 : 0);
    expect(snap.diagnostics.map(diagLine)).toEqual(served ? [] : ['info INGRESS_CLASS_IGNORED Ingress default/i']);
  });

  it('an ignored Ingress neither routes, nor claims a path, nor sets the default backend', () => {
    const snap = compileObjects([
      ...SERVICES,
      ingress('ignored', { ingressClassName: 'nginx', defaultBackend: backend('api', 8080), rules: [{ host: 'a.example.com', paths: [prefix('/', 'api', 8080)] }] }, { creationTimestamp: '2000-01-01T00:00:00Z' }),
      ingress('served', { rules: [{ host: 'a.example.com', paths: [prefix('/')] }] }),
    ]);
    expect(snap.routes.list.map(routeLine)).toEqual(['a.example.com Prefix / → default/web:80 (default/served)']);
    expect(snap.routes.defaultBackend).toBeUndefined();
  });

  it('a custom served class', () => {
    const snap = compileObjects([...SERVICES, ingress('i', { ingressClassName: 'nginx', rules: [{ paths: [prefix('/')] }] })], { ingressClass: 'nginx' });
    expect(snap.routes.list).toHaveLength(1);
  });

  it('the ignored-class diagnostic names both classes', () => {
    const snap = compileObjects([...SERVICES, ingress('i', { ingressClassName: 'nginx' })]);
    expect(snap.diagnostics.map((d) => d.message)).toEqual([
      'not served: spec.ingressClassName "nginx" is not "switchyard" (no IngressClass object is known, so only --ingress-class is served)',
    ]);
  });
});

describe('compileRoutes: IngressClass objects', () => {
  const ingressClass = (name: string, controller: string, isDefault = false): Obj => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    spec: { controller },
  });
  const OURS = 'switchyard.dev/ingress-controller';
  const served = (objs: Obj[], options: { ingressControllerName?: string; watchIngressWithoutClass?: boolean } = {}) =>
    compile(storeView([...SERVICES, ...objs]), { ...DEFAULT_OPTIONS, ...options });

  it('an Ingress naming a class of our controller is served whatever the class is called', () => {
    const snap = served([ingressClass('edge', OURS), ingress('i', { ingressClassName: 'edge', rules: [{ paths: [prefix('/')] }] })]);
    expect(snap.routes.list.map(routeLine)).toEqual(['* Prefix / → default/web:80 (default/i)']);
    expect(snap.diagnostics).toEqual([]);
  });

  it('once an IngressClass exists, --ingress-class names no class by itself: only the legacy annotation still uses it', () => {
    const snap = served([
      ingressClass('nginx', 'k8s.io/ingress-nginx'),
      ingress('named', { ingressClassName: 'switchyard', rules: [{ host: 'a.example.com', paths: [prefix('/')] }] }),
      ingress('legacy', { rules: [{ host: 'b.example.com', paths: [prefix('/')] }] }, { annotations: { 'kubernetes.io/ingress.class': 'switchyard' } }),
    ]);
    expect(snap.routes.list.map(routeLine)).toEqual(['b.example.com Prefix / → default/web:80 (default/legacy)']);
    expect(snap.diagnostics.map((d) => `${d.code} ${d.name}: ${d.message}`)).toEqual([
      'INGRESS_CLASS_IGNORED named: not served: spec.ingressClassName "switchyard" names no existing IngressClass',
    ]);
  });

  it('a custom --ingress-controller-name', () => {
    const objs = [ingressClass('edge', 'example.com/edge'), ingress('i', { ingressClassName: 'edge', rules: [{ paths: [prefix('/')] }] })];
    expect(served(objs).routes.list).toHaveLength(0);
    expect(served(objs, { ingressControllerName: 'example.com/edge' }).routes.list).toHaveLength(1);
  });
});
