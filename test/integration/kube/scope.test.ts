/**
 * What the source asks the API server for: namespaces, label selector, the TLS field selector, and
 * v1 Endpoints where the EndpointSlice API is not served.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait.ts';
import { endpoints, ingress, ingressClass, makeSource, slice, startApi, svc, tlsSecret } from './harness.ts';

afterEach(cleanupAll);

describe('--watch-namespace', () => {
  it('lists and watches only the given namespaces, one informer per namespace and kind', async () => {
    const h = await startApi();
    for (const ns of ['a', 'b', 'c']) {
      h.api.upsert('services', svc(ns, 'web'));
      h.api.upsert('endpointslices', slice(ns, 'web', ['10.1.0.1']));
      h.api.upsert('ingresses', ingress(ns, 'web', { tlsSecret: 'tls' }));
      h.api.upsert('secrets', tlsSecret(ns, 'tls'));
    }
    h.api.upsert('ingressclasses', ingressClass('switchyard'));
    const t = makeSource(h, { namespaces: ['a', 'b'] });
    await t.source.start();
    expect(t.keys().filter((k) => k.includes('/c/'))).toEqual([]);
    expect(t.keys().filter((k) => k.includes('/a/'))).toHaveLength(4);
    expect(t.keys().filter((k) => k.includes('/b/'))).toHaveLength(4);
    expect(t.keys()).toContain('IngressClass//switchyard');

    // The Gateway API kinds (404 here: no CRDs) are asked for per namespace too; see gateway-source.test.ts.
    const optional = (p: string): boolean => p.includes('/gateway.networking.k8s.io/') || p === '/api/v1/namespaces';
    const paths = new Set(h.api.requests.map((r) => r.path).filter((p) => !optional(p)));
    expect([...paths].sort()).toEqual([
      '/api/v1/namespaces/a/secrets',
      '/api/v1/namespaces/a/services',
      '/api/v1/namespaces/b/secrets',
      '/api/v1/namespaces/b/services',
      '/apis/discovery.k8s.io/v1/namespaces/a/endpointslices',
      '/apis/discovery.k8s.io/v1/namespaces/b/endpointslices',
      '/apis/networking.k8s.io/v1/ingressclasses',
      '/apis/networking.k8s.io/v1/namespaces/a/ingresses',
      '/apis/networking.k8s.io/v1/namespaces/b/ingresses',
    ]);
    expect(t.source.status().resources).toHaveLength(9);
    expect(t.source.status().namespaces).toEqual(['a', 'b']);

    await waitFor(() => h.api.watchCount() === 9);
    h.api.upsert('services', svc('c', 'later'));
    h.api.upsert('services', svc('b', 'later'));
    await waitFor(() => t.keys().includes('Service/b/later'), { timeoutMs: 1000 });
    expect(t.keys()).not.toContain('Service/c/later');
  });
});

describe('--selector', () => {
  it('passes the label selector for Services, EndpointSlices and Ingresses, and the TLS field selector for Secrets', async () => {
    const h = await startApi();
    const team = { team: 'web' };
    h.api.upsert('services', svc('shop', 'mine', { labels: team }));
    h.api.upsert('services', svc('shop', 'theirs', { labels: { team: 'ops' } }));
    h.api.upsert('endpointslices', slice('shop', 'mine', ['10.1.0.1'], { labels: team }));
    h.api.upsert('endpointslices', slice('shop', 'theirs', ['10.1.0.2']));
    h.api.upsert('ingresses', ingress('shop', 'mine', { labels: team, tlsSecret: 'mine-tls' }));
    h.api.upsert('secrets', tlsSecret('shop', 'mine-tls'));
    h.api.upsert('secrets', { metadata: { name: 'opaque', namespace: 'shop' }, type: 'Opaque', data: {} });
    h.api.upsert('ingressclasses', ingressClass('switchyard'));
    const t = makeSource(h, { labelSelector: 'team=web' });
    await t.source.start();
    expect(t.keys()).toEqual(['EndpointSlice/shop/mine-x7k2p', 'Ingress/shop/mine', 'IngressClass//switchyard', 'Secret/shop/mine-tls', 'Service/shop/mine']);
    expect(t.source.status().labelSelector).toBe('team=web');

    const byPath = (p: string) => h.api.requests.filter((r) => r.path === p);
    for (const p of ['/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices', '/apis/networking.k8s.io/v1/ingresses']) {
      const rs = byPath(p);
      expect(rs.length).toBeGreaterThanOrEqual(1);
      for (const r of rs) expect(r.query['labelSelector'], p).toBe('team=web');
    }
    await waitFor(() => h.api.watchCount() === 5);
    for (const r of byPath('/api/v1/secrets')) {
      expect(r.query['fieldSelector']).toBe('type=kubernetes.io/tls');
      expect(r.query['labelSelector']).toBeUndefined();
    }
    for (const r of byPath('/apis/networking.k8s.io/v1/ingressclasses')) expect(r.query['labelSelector']).toBeUndefined();
    expect(byPath('/api/v1/secrets').some((r) => r.query['watch'] === 'true')).toBe(true);

    // Relabelled out of the selection: the watch says DELETED.
    h.api.upsert('services', svc('shop', 'mine', { labels: { team: 'ops' } }));
    await waitFor(() => !t.keys().includes('Service/shop/mine'), { timeoutMs: 1000, what: 'the relabelled Service to go' });
    h.api.upsert('services', svc('shop', 'theirs', { labels: team }));
    await waitFor(() => t.keys().includes('Service/shop/theirs'), { timeoutMs: 1000, what: 'the relabelled Service to come' });
  });
});

describe('EndpointSlice API absent', () => {
  it('falls back to v1 Endpoints on a 404 from the EndpointSlice list', async () => {
    const h = await startApi();
    h.api.disable('endpointslices');
    h.api.upsert('services', svc('shop', 'web'));
    h.api.upsert('endpoints', endpoints('shop', 'web', ['10.1.0.1', '10.1.0.2']));
    const t = makeSource(h, { namespaces: ['shop', 'other'] });
    await t.source.start();
    expect(t.keys()).toEqual(['Endpoints/shop/web', 'Service/shop/web']);
    const ep = t.latest().find((r) => r.kind === 'Endpoints');
    expect(ep?.kind === 'Endpoints' && ep.groups[0]!.addresses.map((a) => a.address)).toEqual(['10.1.0.1', '10.1.0.2']);
    const status = t.source.status();
    expect(status.endpointsApi).toBe('Endpoints');
    expect(status.resources.filter((r) => r.kind === 'EndpointSlice')).toEqual([]);
    expect(status.resources.filter((r) => r.kind === 'Endpoints').map((r) => r.namespace)).toEqual(['shop', 'other']);
    expect(t.logs.some((l) => l.msg.includes('reading v1 Endpoints instead'))).toBe(true);

    await waitFor(() => h.api.watchCount('endpoints') === 2);
    h.api.upsert('endpoints', endpoints('shop', 'web', ['10.1.0.3']));
    await waitFor(() => {
      const e = t.latest().find((r) => r.kind === 'Endpoints');
      return e?.kind === 'Endpoints' && e.groups[0]!.addresses[0]!.address === '10.1.0.3';
    }, { timeoutMs: 1000, what: 'the Endpoints change' });
  });

  it('keeps reading EndpointSlices, not Endpoints, where the API is served', async () => {
    const h = await startApi();
    h.api.upsert('endpoints', endpoints('shop', 'web', ['10.1.0.1']));
    const t = makeSource(h);
    await t.source.start();
    expect(t.keys()).toEqual([]);
    expect(h.api.requests.some((r) => r.path.endsWith('/endpoints'))).toBe(false);
  });
});
