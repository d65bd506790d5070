/**
 * Losing the API server never drops routing: dropped watches, 410 Gone, and a server that stops and
 * comes back on the same port, with changes made while the source was not looking.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/errors.ts';
import { recordKey } from '../../../src/model/keys.ts';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { waitFor, withTimeout } from '../../helpers/wait.ts';
import { ERROR, ingress as ingressOf, makeSource, slice, startApi, svc, type SourceUnderTest } from './harness.ts';

afterEach(cleanupAll);

/** Every update since `from` still holds every key of `keys`. */
function neverDropped(t: SourceUnderTest, from: number, keys: readonly string[]): void {
  for (const u of t.updates.slice(from)) {
    const have = new Set(u.records.map(recordKey));
    for (const k of keys) expect(have.has(k), `update at ${u.at} lost ${k}`).toBe(true);
  }
}

describe('410 Gone', () => {
  it('relists after a watch answered 410 and removes what vanished meanwhile', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'stays'));
    h.api.upsert('services', svc('shop', 'goes'));
    const t = makeSource(h);
    await t.source.start();
    await waitFor(() => h.api.watchCount('services') === 1);

    // The watch breaks; while the source reconnects the object is deleted, and the server has
    // compacted the history the source would resume from.
    h.api.expireNextWatches(5);
    h.api.dropWatches();
    h.api.remove('services', 'shop', 'goes');
    h.api.upsert('services', svc('shop', 'new'));
    h.api.compact();

    await waitFor(() => t.keys().join() === 'Service/shop/new,Service/shop/stays', { timeoutMs: 3000, what: 'the relist' });
    const services = t.source.status().resources.find((r) => r.kind === 'Service')!;
    expect(services.expired).toBeGreaterThanOrEqual(1);
    expect(services.lists).toBeGreaterThanOrEqual(2);
    expect(t.logs.some((l) => l.msg.includes('410 Gone'))).toBe(true);
    // The relist's list request came after the 410, from scratch.
    const lists = h.api.requests.filter((r) => r.path === '/api/v1/services' && r.query['watch'] === undefined);
    expect(lists.length).toBeGreaterThanOrEqual(2);
  });

  it('relists when the server answers the watch itself with 410 after a restart', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'a'));
    h.api.upsert('services', svc('shop', 'b'));
    const t = makeSource(h);
    await t.source.start();
    const from = t.updates.length;

    await h.api.stop();
    h.api.remove('services', 'shop', 'b');
    h.api.compact(); // etcd compacted while we were away
    await waitFor(() => t.source.status().state === 'disconnected', { timeoutMs: 2000, what: 'disconnected' });
    await h.api.restart();

    await waitFor(() => t.keys().join() === 'Service/shop/a', { timeoutMs: 3000, what: 'b removed by the relist' });
    neverDropped(t, from, ['Service/shop/a']);
    await waitFor(() => t.source.status().state === 'connected', { timeoutMs: 2000, what: 'connected again' });
  });
});

describe('the API server going away', () => {
  it('keeps the last state while disconnected, then catches up from its resourceVersion', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    h.api.upsert('services', svc('shop', 'old'));
    h.api.upsert('endpointslices', slice('shop', 'web', ['10.1.0.1', '10.1.0.2', '10.1.0.3']));
    const t = makeSource(h);
    await t.source.start();
    await waitFor(() => h.api.watchCount() === 5);
    const from = t.updates.length;
    const all = t.keys();

    await h.api.stop();
    const down = await waitFor(() => (t.source.status().state === 'disconnected' ? t.source.status() : undefined), { timeoutMs: 2000, what: 'disconnected' });
    expect(down.connected).toBe(false);
    expect(down.lastError).toMatchObject({ code: 'SWY_ERR_KUBE_UNAVAILABLE' });
    expect(Date.parse(down.since)).toBeGreaterThan(0);
    expect(t.logs.some((l) => l.level === ERROR && l.msg.includes('keeping the last known state'))).toBe(true);
    // Reconnect attempts fail for a while; nothing is dropped meanwhile.
    await sleep(400);
    neverDropped(t, from, all);
    expect(t.keys()).toEqual(all);

    // Changes made while the source was away arrive from the server's history once it is back.
    h.api.remove('services', 'shop', 'old');
    h.api.upsert('services', svc('shop', 'new'));
    h.api.upsert('endpointslices', slice('shop', 'web', ['10.1.0.1', '10.1.0.4']));
    await h.api.restart();

    await waitFor(() => t.keys().includes('Service/shop/new') && !t.keys().includes('Service/shop/old'), { timeoutMs: 3000, what: 'catching up' });
    await waitFor(() => {
      const web = t.latest().find((r) => r.kind === 'EndpointSlice');
      return web?.kind === 'EndpointSlice' && web.group.addresses.map((a) => a.address).join() === '10.1.0.1,10.1.0.4';
    }, { timeoutMs: 3000, what: 'the new endpoints' });
    neverDropped(t, from, ['Service/shop/web', 'EndpointSlice/shop/web-x7k2p']);
    const up = await waitFor(() => (t.source.status().state === 'connected' ? t.source.status() : undefined), { timeoutMs: 2000, what: 'connected' });
    expect(up.reconnects).toBe(1);
    expect(up.resources.every((r) => r.reconnects >= 1 && r.state === 'connected')).toBe(true);
    // It resumed from its resourceVersion: no relist was needed.
    expect(up.resources.every((r) => r.lists === 1)).toBe(true);
  });

  it('resumes dropped watches without a relist', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    const t = makeSource(h);
    await t.source.start();
    await waitFor(() => h.api.watchCount() === 5);
    for (let round = 0; round < 3; round++) {
      h.api.dropWatches();
      h.api.upsert('services', svc('shop', `after-drop-${round}`));
      await waitFor(() => t.keys().includes(`Service/shop/after-drop-${round}`), { timeoutMs: 2000, what: `round ${round}` });
    }
    const status = t.source.status();
    expect(status.resources.every((r) => r.lists === 1)).toBe(true);
    expect(status.resources.find((r) => r.kind === 'Service')!.watches).toBeGreaterThanOrEqual(4);
  });

  it('treats a watch the server ends cleanly as routine: watches again, stays connected', async () => {
    const h = await startApi();
    const t = makeSource(h);
    await t.source.start();
    await waitFor(() => h.api.watchCount() === 5);
    h.api.endWatches();
    h.api.upsert('services', svc('shop', 'after-end'));
    await waitFor(() => t.keys().includes('Service/shop/after-end'), { timeoutMs: 2000, what: 'the event after the clean end' });
    await waitFor(() => h.api.watchCount() === 5, { timeoutMs: 2000, what: 'every watch again' });
    expect(t.source.status()).toMatchObject({ state: 'connected', reconnects: 0 });
    expect(t.source.status().resources.every((r) => r.lists === 1 && r.reconnects === 0 && r.lastError === undefined)).toBe(true);
  });

  it('waits for an unreachable API server at start, bounded by syncTimeoutMs', async () => {
    const h = await startApi();
    await h.api.stop();
    const t = makeSource(h, { syncTimeoutMs: 400 });
    const started = Date.now();
    const err = await withTimeout(t.source.start().then(() => undefined, (e: unknown) => e), 3000, 'start() to fail');
    expect(hasCode(err, 'SWY_ERR_KUBE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(h.api.url);
    expect((err as Error).message).toContain('waiting for services');
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(t.source.status()).toMatchObject({ state: 'syncing', synced: false });
  });

  it('syncs once an API server that was down at start comes up', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    await h.api.stop();
    const t = makeSource(h);
    const starting = t.source.start();
    await waitFor(() => t.source.status().lastError !== undefined, { timeoutMs: 2000, what: 'a failed list' });
    expect(t.logs.some((l) => l.msg.startsWith('cannot list services yet'))).toBe(true);
    await h.api.restart();
    await withTimeout(starting, 3000, 'start()');
    expect(t.keys()).toEqual(['Service/shop/web']);
    expect(t.source.status().reconnects).toBe(0);
  });

  it('settles start() when closed before the initial sync', async () => {
    const h = await startApi();
    h.api.holdLists('services');
    const t = makeSource(h);
    const starting = t.source.start().then(() => undefined, (e: unknown) => e);
    await sleep(50);
    t.source.close();
    const err = await withTimeout(starting, 1000, 'start() to settle');
    expect(hasCode(err, 'SWY_ERR_KUBE_UNAVAILABLE')).toBe(true);
    expect(t.source.status().state).toBe('closed');
  });
});

describe('permissions', () => {
  it('says so when RBAC forbids a list, keeps retrying, and syncs once allowed', async () => {
    const h = await startApi();
    h.api.upsert('ingresses', ingressOf('shop', 'web'));
    h.api.forbid('ingresses');
    const t = makeSource(h);
    const starting = t.source.start();
    const warn = await waitFor(() => t.logs.find((l) => l['code'] === 'SWY_ERR_KUBE_FORBIDDEN'), { timeoutMs: 2000, what: 'the warning' });
    expect(warn.msg).toContain('cannot list ingresses yet, retrying: HTTP 403 Forbidden');
    expect(warn.msg).toContain('check the credentials and RBAC');
    expect(t.source.status().lastError).toMatchObject({ code: 'SWY_ERR_KUBE_FORBIDDEN', status: 403 });
    h.api.allow('ingresses');
    await withTimeout(starting, 3000, 'start()');
    expect(t.keys()).toEqual(['Ingress/shop/web']);
  });
});

describe('resyncMs', () => {
  it('relists periodically, removing an object whose deletion event was lost', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    h.api.upsert('services', svc('shop', 'ghost'));
    const t = makeSource(h, { resyncMs: 150 });
    await t.source.start();
    await waitFor(() => h.api.watchCount() === 5);
    h.api.forget('services', 'shop', 'ghost');
    await waitFor(() => t.keys().join() === 'Service/shop/web', { timeoutMs: 2000, what: 'the resync' });
    const services = t.source.status().resources.find((r) => r.kind === 'Service')!;
    expect(services.lists).toBeGreaterThanOrEqual(2);
    expect(services.expired).toBe(0);
    expect(t.source.status()).toMatchObject({ state: 'connected', reconnects: 0 });
  });
});
