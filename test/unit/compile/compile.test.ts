import { describe, expect, it } from 'vitest';
import { compile, emptySnapshot } from '../../../src/compile/compile.ts';
import { Store } from '../../../src/store/store.ts';
import { backend, compileObjects, DEFAULT_OPTIONS, ingress, records, service, slice, storeView, type Obj } from '../support/k8s.ts';

const BASE: Obj[] = [
  service('web', [{ port: 80, targetPort: 8080 }], { namespace: 'shop' }),
  service('api', [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }], { namespace: 'shop' }),
  slice('web-1', 'web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false }], [{ port: 8080 }], 'shop'),
  slice('api-1', 'api', [{ ip: '10.0.1.1' }], [{ name: 'http', port: 8080 }, { name: 'admin', port: 9001 }], 'shop'),
  ingress(
    'shop',
    {
      rules: [
        { host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('web', 80) }, { path: '/api', pathType: 'Prefix', backend: backend('api', 'http') }] },
      ],
      defaultBackend: backend('web', 80),
    },
    { namespace: 'shop', creationTimestamp: '2024-01-01T00:00:00Z' },
  ),
  ingress('legacy', { rules: [{ paths: [{ path: '/', pathType: 'Prefix', backend: backend('web', 80) }] }] }, { namespace: 'shop', annotations: { 'kubernetes.io/ingress.class': 'nginx' } }),
  ingress('other', { ingressClassName: 'traefik', rules: [{ paths: [{ path: '/', pathType: 'Prefix', backend: backend('web', 80) }] }] }, { namespace: 'shop' }),
  ingress('broken', { rules: [{ host: 'b.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('missing', 80) }] }] }, { namespace: 'shop' }),
];

const hashOf = (objs: readonly Obj[], options: { clusterDomain?: string; ingressClass?: string } = {}) => compileObjects(objs, options).hash;

const ingressClass = (name: string, controller: string, isDefault = false): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec: { controller },
});

/** Returns a deep copy of BASE with `fn` applied to the object named `name`. */
function mutate(name: string, fn: (o: any) => void): Obj[] {
  return BASE.map((o) => {
    const copy = structuredClone(o) as any;
    if (copy.metadata.name === name) fn(copy);
    return copy;
  });
}

describe('compile', () => {
  it('stamps the store version and the cluster domain, and hashes to 16 hex digits', () => {
    const view = storeView(BASE);
    const out = compile(view, { clusterDomain: 'corp.example', ingressClass: 'switchyard' });
    expect(out.storeVersion).toBe(1);
    expect(out.clusterDomain).toBe('corp.example');
    expect(out.hash).toMatch(/^[0-9a-f]{16}$/);
    expect([...out.services.keys()]).toEqual(['shop/api', 'shop/web']);
    expect([...out.backends.keys()]).toEqual(['shop/api:80', 'shop/api:9000', 'shop/web:80']);
    expect(out.registry.get('web.shop.svc.corp.example')).toBe('shop/web');
    expect(out.routes.list.map((r) => `${r.host}${r.path}→${r.backend}`)).toEqual(['b.example.com/→undefined', 'shop.example.com/api→shop/api:80', 'shop.example.com/→shop/web:80']);
    expect(out.diagnostics.map((d) => `${d.code} ${d.namespace}/${d.name}`).sort()).toEqual(
      ['INGRESS_BACKEND_SERVICE_MISSING shop/broken', 'INGRESS_CLASS_IGNORED shop/legacy', 'INGRESS_CLASS_IGNORED shop/other'].sort(),
    );
  });

  it('is deterministic: the same view twice gives the same hash', () => {
    const view = storeView(BASE);
    expect(compile(view, DEFAULT_OPTIONS).hash).toBe(compile(view, DEFAULT_OPTIONS).hash);
  });

  it('the same objects from a new store give the same hash (store version and timestamps are not content)', () => {
    const store = new Store();
    store.replace('a', []);
    store.replace('a', records(BASE));
    expect(store.version).toBe(2);
    const out = compile(store.view(), DEFAULT_OPTIONS);
    expect(out.storeVersion).toBe(2);
    expect(out.hash).toBe(hashOf(BASE));
  });

  it.each([
    ['reversed', (objs: Obj[]) => [...objs].reverse()],
    ['rotated', (objs: Obj[]) => [...objs.slice(3), ...objs.slice(0, 3)]],
    ['ingresses first', (objs: Obj[]) => [...objs.filter((o) => o['kind'] === 'Ingress'), ...objs.filter((o) => o['kind'] !== 'Ingress')]],
  ])('the same objects in another document order give the same hash (%s)', (_name, reorder) => {
    expect(hashOf(reorder(BASE))).toBe(hashOf(BASE));
  });

  it('two Ingresses of other classes in either order give the same hash (INGRESS_CLASS_IGNORED diagnostics)', () => {
    const a = ingress('a', { ingressClassName: 'nginx' });
    const b = ingress('b', { ingressClassName: 'traefik' });
    const ab = compileObjects([a, b]);
    const ba = compileObjects([b, a]);
    expect(ab.diagnostics.map((d) => d.name).sort()).toEqual(['a', 'b']);
    expect(ba.diagnostics).toEqual(ab.diagnostics);
    expect(ba.hash).toBe(ab.hash);
  });

  it('the same objects split across two sources give the same hash', () => {
    const store = new Store();
    store.replace('one', records(BASE.slice(0, 4)));
    store.replace('two', records(BASE.slice(4)));
    expect(compile(store.view(), DEFAULT_OPTIONS).hash).toBe(hashOf(BASE));
  });

  const changes: [string, () => string][] = [
    ['an endpoint becomes ready', () => hashOf(mutate('web-1', (o) => (o.endpoints[1].conditions = { ready: true })))],
    ['an endpoint is added', () => hashOf(mutate('web-1', (o) => o.endpoints.push({ addresses: ['10.0.0.3'] })))],
    ['an endpoint address changes', () => hashOf(mutate('web-1', (o) => (o.endpoints[0].addresses = ['10.0.0.9'])))],
    ['an endpoint port changes', () => hashOf(mutate('web-1', (o) => (o.ports[0].port = 8081)))],
    ['a Service port changes', () => hashOf(mutate('web', (o) => (o.spec.ports[0].port = 81)))],
    ['a Service targetPort changes', () => hashOf(mutate('web', (o) => (o.spec.ports[0].targetPort = 8081)))],
    ['a Service is removed', () => hashOf(BASE.filter((o) => (o['metadata'] as { name: string }).name !== 'api'))],
    ['a path changes', () => hashOf(mutate('shop', (o) => (o.spec.rules[0].http.paths[1].path = '/v2')))],
    ['a pathType changes', () => hashOf(mutate('shop', (o) => (o.spec.rules[0].http.paths[1].pathType = 'Exact')))],
    ['a host changes', () => hashOf(mutate('shop', (o) => (o.spec.rules[0].host = 'www.example.com')))],
    ['a backend port changes', () => hashOf(mutate('shop', (o) => (o.spec.rules[0].http.paths[1].backend.service.port = { name: 'admin' })))],
    ['the default backend is removed', () => hashOf(mutate('shop', (o) => delete o.spec.defaultBackend))],
    ['an ignored Ingress becomes served', () => hashOf(mutate('other', (o) => (o.spec.ingressClassName = 'switchyard')))],
    ['the cluster domain changes', () => hashOf(BASE, { clusterDomain: 'corp.example' })],
    ['the served ingress class changes', () => hashOf(BASE, { ingressClass: 'nginx' })],
    ['an IngressClass of another controller appears (class-less Ingresses are no longer served)', () => hashOf([...BASE, ingressClass('nginx', 'k8s.io/ingress-nginx')])],
    ['--watch-ingress-without-class under an IngressClass of another controller', () => compile(storeView([...BASE, ingressClass('nginx', 'k8s.io/ingress-nginx')]), { ...DEFAULT_OPTIONS, watchIngressWithoutClass: true }).hash],
  ];
  it.each(changes)('a change gives a different hash: %s', (_name, changed) => {
    const before = hashOf(BASE);
    const after = changed();
    expect(after).toMatch(/^[0-9a-f]{16}$/);
    expect(after).not.toBe(before);
  });

  it('TLS hosts come from the Ingresses the IngressClass rule serves, and from no other', () => {
    const route = { host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix' as const, backend: backend('web', 80) }] };
    const objs = (controller: string): Obj[] => [
      ...BASE.slice(0, 4),
      ingressClass('x', controller),
      // Served through the legacy annotation; it has no tls: entry of its own.
      ingress('plain', { rules: [route] }, { namespace: 'shop', annotations: { 'kubernetes.io/ingress.class': 'switchyard' } }),
      { ...ingress('tls', {}, { namespace: 'shop' }), spec: { ingressClassName: 'x', tls: [{ hosts: ['a.example.com'] }], rules: [{ host: 'a.example.com', http: { paths: route.paths } }] } },
    ];
    const redirects = (controller: string) => compile(storeView(objs(controller)), DEFAULT_OPTIONS).routes.list.map((r) => `${r.host} ${r.ingress} ${r.redirectToHttps}`);
    expect(redirects('switchyard.dev/ingress-controller')).toEqual(['a.example.com shop/plain true']);
    expect(redirects('k8s.io/ingress-nginx')).toEqual(['a.example.com shop/plain false']);
  });

  it('emptySnapshot has nothing and version 0', () => {
    const s = emptySnapshot('cluster.local');
    expect([s.version, s.hash, s.storeVersion, s.clusterDomain, s.services.size, s.backends.size, s.registry.size, s.routes.list, s.routes.defaultBackend, s.diagnostics]).toEqual([
      0,
      '',
      0,
      'cluster.local',
      0,
      0,
      0,
      [],
      undefined,
      [],
    ]);
  });
});
