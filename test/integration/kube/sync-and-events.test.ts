/**
 * The kube source against the fake API server, through the real client: the initial sync, each watch
 * event kind, coalescing, bookmarks, and objects that do not validate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointSliceRec, IngressRec, Rec, ServiceRec } from '../../../src/model/records.ts';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { waitFor, withTimeout } from '../../helpers/wait.ts';
import { WARN, ingress, ingressClass, makeSource, slice, startApi, svc, tlsSecret } from './harness.ts';

afterEach(cleanupAll);

const find = <K extends Rec['kind']>(records: readonly Rec[], kind: K, name: string): Extract<Rec, { kind: K }> | undefined =>
  records.find((r): r is Extract<Rec, { kind: K }> => r.kind === kind && r.meta.name === name);

describe('initial sync', () => {
  it('resolves start() only after every list, then hands over every kind at once', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    h.api.upsert('endpointslices', slice('shop', 'web', ['10.1.0.1', '10.1.0.2']));
    h.api.upsert('ingresses', ingress('shop', 'web', { tlsSecret: 'web-tls' }));
    h.api.upsert('ingressclasses', ingressClass('switchyard'));
    h.api.upsert('secrets', tlsSecret('shop', 'web-tls'));
    const release = h.api.holdLists('ingressclasses');
    const t = makeSource(h);

    let started = false;
    const starting = t.source.start().then(() => (started = true));
    await waitFor(() => ['services', 'endpointslices', 'ingresses', 'secrets'].every((p) => h.api.watchCount(p as 'services') > 0), { what: 'the other informers to watch' });
    await sleep(50);
    expect(started).toBe(false);
    expect(t.updates).toHaveLength(0);
    expect(t.source.status()).toMatchObject({ state: 'syncing', synced: false, connected: false });

    release();
    await withTimeout(starting, 2000, 'start()');
    expect(t.updates).toHaveLength(1);
    expect(t.keys()).toEqual(['EndpointSlice/shop/web-x7k2p', 'Ingress/shop/web', 'IngressClass//switchyard', 'Secret/shop/web-tls', 'Service/shop/web']);
    const web = find(t.latest(), 'Service', 'web')!;
    expect(web).toMatchObject({ origin: { source: 'kubernetes' }, type: 'ClusterIP', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    // The list item's timestamp (a Date in the client) reads as the API server wrote it.
    expect(web.meta.creationTimestamp).toBe('2025-01-02T03:04:05Z');
    expect(find(t.latest(), 'EndpointSlice', 'web-x7k2p')!.group.addresses.map((a) => a.address)).toEqual(['10.1.0.1', '10.1.0.2']);
    expect(find(t.latest(), 'Secret', 'web-tls')!.data).toEqual({ 'tls.crt': 'CERT', 'tls.key': 'KEY' });

    const status = t.source.status();
    expect(status).toMatchObject({ name: 'kubernetes', server: h.api.url, state: 'connected', connected: true, synced: true, objects: 5, reconnects: 0, endpointsApi: 'EndpointSlice', rejected: [] });
    expect(status.syncDurationMs).toBeGreaterThanOrEqual(0);
    expect(status.resources.map((r) => [r.kind, r.namespace, r.state, r.objects])).toEqual([
      ['Service', null, 'connected', 1],
      ['EndpointSlice', null, 'connected', 1],
      ['Ingress', null, 'connected', 1],
      ['IngressClass', null, 'connected', 1],
      ['Secret', null, 'connected', 1],
    ]);
    expect(status.resources.every((r) => r.resourceVersion !== undefined && r.lists === 1)).toBe(true);
  });

  it('sends the kubeconfig token and asks for bookmarks on every watch', async () => {
    const h = await startApi();
    const t = makeSource(h);
    await t.source.start();
    await waitFor(() => h.api.watchCount() === 5, { what: 'five watches' });
    expect(h.api.requests.every((r) => r.authorization === 'Bearer test-token')).toBe(true);
    const watches = h.api.requests.filter((r) => r.query['watch'] === 'true');
    expect(watches.map((r) => r.path).sort()).toEqual([
      '/api/v1/secrets',
      '/api/v1/services',
      '/apis/discovery.k8s.io/v1/endpointslices',
      '/apis/networking.k8s.io/v1/ingressclasses',
      '/apis/networking.k8s.io/v1/ingresses',
    ]);
    for (const w of watches) expect(w.query).toMatchObject({ allowWatchBookmarks: 'true', resourceVersion: h.api.resourceVersion });
  });

  it('pages large lists with limit and continue', async () => {
    const h = await startApi();
    for (let i = 0; i < 7; i++) h.api.upsert('services', svc('shop', `s${i}`));
    const t = makeSource(h, { pageSize: 3 });
    await t.source.start();
    expect(t.latest().filter((r) => r.kind === 'Service')).toHaveLength(7);
    const lists = h.api.requests.filter((r) => r.path === '/api/v1/services' && r.query['watch'] === undefined);
    expect(lists.map((r) => [r.query['limit'], r.query['continue'] !== undefined])).toEqual([
      ['3', false],
      ['3', true],
      ['3', true],
    ]);
  });
});

describe('watch events', () => {
  it('reflects ADDED, MODIFIED and DELETED within a second each', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    const t = makeSource(h);
    await t.source.start();
    await waitFor(() => h.api.watchCount('services') === 1);

    h.api.upsert('services', svc('shop', 'api'));
    await waitFor(() => find(t.latest(), 'Service', 'api'), { timeoutMs: 1000, what: 'ADDED' });

    h.api.upsert('services', svc('shop', 'api', { port: 8443 }));
    await waitFor(() => find(t.latest(), 'Service', 'api')?.ports[0]?.port === 8443, { timeoutMs: 1000, what: 'MODIFIED' });

    h.api.upsert('endpointslices', slice('shop', 'api', ['10.1.0.9']));
    await waitFor(() => find(t.latest(), 'EndpointSlice', 'api-x7k2p'), { timeoutMs: 1000, what: 'ADDED slice' });
    h.api.upsert('endpointslices', slice('shop', 'api', ['10.1.0.9', '10.1.0.10']));
    await waitFor(() => (find(t.latest(), 'EndpointSlice', 'api-x7k2p') as EndpointSliceRec | undefined)?.group.addresses.length === 2, { timeoutMs: 1000, what: 'MODIFIED slice' });

    h.api.remove('services', 'shop', 'api');
    await waitFor(() => !find(t.latest(), 'Service', 'api'), { timeoutMs: 1000, what: 'DELETED' });
    expect(find(t.latest(), 'Service', 'web')).toBeDefined();
  });

  it('coalesces a burst of events into one update', async () => {
    const h = await startApi();
    const t = makeSource(h, { coalesceMs: 30 });
    await t.source.start();
    await waitFor(() => h.api.watchCount('services') === 1);
    const before = t.updates.length;
    for (let i = 0; i < 50; i++) h.api.upsert('services', svc('shop', `burst-${i}`));
    await waitFor(() => t.latest().length === 50, { timeoutMs: 1000, what: 'the burst' });
    await sleep(60);
    expect(t.updates.length - before).toBeLessThanOrEqual(2);
  });

  it('follows bookmarks without emitting anything', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    const t = makeSource(h);
    await t.source.start();
    await waitFor(() => h.api.watchCount() === 5);
    h.api.upsert('ingressclasses', ingressClass('other')); // moves the global resourceVersion past the services'
    await waitFor(() => t.latest().length === 2);
    const updates = t.updates.length;
    h.api.bookmark();
    const rv = h.api.resourceVersion;
    await waitFor(() => t.source.status().resources.find((r) => r.kind === 'Service')?.resourceVersion === rv, { timeoutMs: 1000, what: 'the bookmark' });
    await sleep(30);
    expect(t.updates.length).toBe(updates);
  });
});

describe('objects that do not validate', () => {
  it('rejects a bad object alone, from the list and from a watch event, and accepts its fixed version', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    const badPort = svc('shop', 'broken');
    (badPort['spec'] as { ports: { port: number }[] }).ports[0]!.port = 0;
    h.api.upsert('services', badPort);
    const t = makeSource(h);
    await t.source.start();
    expect(t.keys()).toEqual(['Service/shop/web']);
    expect(t.source.status().rejected).toEqual([
      expect.objectContaining({ kind: 'Service', namespace: 'shop', name: 'broken', code: 'SWY_ERR_MANIFEST_INVALID', message: expect.stringContaining('Service shop/broken field spec.ports[0].port') }),
    ]);

    const badIngress = ingress('shop', 'bad');
    (badIngress['spec'] as { rules: { host: string }[] }).rules[0]!.host = 'not a host!';
    h.api.upsert('ingresses', badIngress);
    h.api.upsert('ingresses', ingress('shop', 'good'));
    await waitFor(() => find(t.latest(), 'Ingress', 'good'), { timeoutMs: 1000, what: 'the good Ingress' });
    expect(find(t.latest(), 'Ingress', 'bad')).toBeUndefined();
    expect(t.source.status().rejected.map((r) => `${r.kind} ${r.namespace}/${r.name}`).sort()).toEqual(['Ingress shop/bad', 'Service shop/broken']);
    const warn = t.logs.find((l) => l.level === WARN && l['name'] === 'bad');
    expect(warn).toMatchObject({ kind: 'Ingress', namespace: 'shop', code: 'SWY_ERR_MANIFEST_INVALID' });
    expect(warn!.msg).toContain('Ingress shop/bad field spec.rules[0].host');

    h.api.upsert('ingresses', ingress('shop', 'bad'));
    await waitFor(() => find(t.latest(), 'Ingress', 'bad'), { timeoutMs: 1000, what: 'the fixed Ingress' });
    expect(t.source.status().rejected.map((r) => r.name)).toEqual(['broken']);
  });

  it('keeps the last valid version of an object whose change does not validate', async () => {
    const h = await startApi();
    h.api.upsert('ingresses', ingress('shop', 'web', { host: 'web.example.com' }));
    const t = makeSource(h);
    await t.source.start();
    const broken = ingress('shop', 'web');
    (broken['spec'] as { rules: { http: { paths: { path: string }[] } }[] }).rules[0]!.http.paths[0]!.path = 'relative';
    h.api.upsert('ingresses', broken);
    await waitFor(() => t.source.status().rejected.length === 1, { timeoutMs: 1000, what: 'the rejection' });
    expect((find(t.latest(), 'Ingress', 'web') as IngressRec).rules[0]!.host).toBe('web.example.com');
    h.api.remove('ingresses', 'shop', 'web');
    await waitFor(() => !find(t.latest(), 'Ingress', 'web') && t.source.status().rejected.length === 0, { timeoutMs: 1000, what: 'the deletion' });
  });

  it('keeps TLS Secrets only while an Ingress references them', async () => {
    const h = await startApi();
    h.api.upsert('secrets', tlsSecret('shop', 'a-tls'));
    h.api.upsert('secrets', tlsSecret('shop', 'b-tls'));
    h.api.upsert('ingresses', ingress('shop', 'a', { tlsSecret: 'a-tls' }));
    const t = makeSource(h);
    await t.source.start();
    expect(t.keys().filter((k) => k.startsWith('Secret/'))).toEqual(['Secret/shop/a-tls']);
    h.api.upsert('ingresses', ingress('shop', 'b', { tlsSecret: 'b-tls' }));
    await waitFor(() => t.keys().includes('Secret/shop/b-tls'), { timeoutMs: 1000, what: 'the referenced Secret' });
    const services = t.latest().filter((r): r is ServiceRec => r.kind === 'Service');
    expect(services).toEqual([]);
  });
});
