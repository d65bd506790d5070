/** Ingress status write-back: opt-in, only served Ingresses, only when different, failures logged and retried. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait.ts';
import { WARN, ingress, makeSource, startApi } from './harness.ts';

afterEach(cleanupAll);

const lb = (o: { [k: string]: unknown } | undefined): unknown => (o?.['status'] as { loadBalancer?: { ingress?: unknown } } | undefined)?.loadBalancer?.ingress;

describe('ingress status write-back', () => {
  it('writes the address on every served Ingress whose status differs, once', async () => {
    const h = await startApi();
    h.api.upsert('ingresses', ingress('shop', 'classless', { className: null }));
    h.api.upsert('ingresses', ingress('shop', 'ours', { className: 'edge' }));
    h.api.upsert('ingresses', ingress('shop', 'theirs', { className: 'nginx' }));
    const done = ingress('shop', 'done', { className: 'edge' });
    done['status'] = { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } };
    h.api.upsert('ingresses', done);
    const t = makeSource(h, { statusAddress: '203.0.113.7', ingressClass: 'edge' });
    await t.source.start();

    await waitFor(() => lb(h.api.get('ingresses', 'shop', 'classless')) && lb(h.api.get('ingresses', 'shop', 'ours')), { timeoutMs: 2000, what: 'both statuses' });
    expect(lb(h.api.get('ingresses', 'shop', 'classless'))).toEqual([{ ip: '203.0.113.7' }]);
    expect(lb(h.api.get('ingresses', 'shop', 'ours'))).toEqual([{ ip: '203.0.113.7' }]);
    expect(lb(h.api.get('ingresses', 'shop', 'theirs'))).toBeUndefined();

    // The MODIFIED events carrying the new status settle it: no further writes.
    await sleep(150);
    const writes = h.api.requests.filter((r) => r.path.endsWith('/status'));
    expect(writes.map((r) => [r.method, r.path, r.contentType]).sort()).toEqual([
      ['PATCH', '/apis/networking.k8s.io/v1/namespaces/shop/ingresses/classless/status', 'application/merge-patch+json'],
      ['PATCH', '/apis/networking.k8s.io/v1/namespaces/shop/ingresses/ours/status', 'application/merge-patch+json'],
    ]);
    expect(writes[0]!.body).toEqual({ status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } });
    expect(t.source.status().ingressStatus).toMatchObject({ address: '203.0.113.7', writes: 2, failures: 0 });

    // A new Ingress, and one whose status someone else changed, get the address too.
    h.api.upsert('ingresses', ingress('shop', 'late', { className: null }));
    await waitFor(() => lb(h.api.get('ingresses', 'shop', 'late')), { timeoutMs: 2000, what: 'the new Ingress' });
  });

  it('writes a DNS name as hostname', async () => {
    const h = await startApi();
    h.api.upsert('ingresses', ingress('shop', 'web', { className: null }));
    const t = makeSource(h, { statusAddress: 'lb.example.net' });
    await t.source.start();
    await waitFor(() => lb(h.api.get('ingresses', 'shop', 'web')), { timeoutMs: 2000 });
    expect(lb(h.api.get('ingresses', 'shop', 'web'))).toEqual([{ hostname: 'lb.example.net' }]);
  });

  it('logs a failed write, keeps serving, and retries later', async () => {
    const h = await startApi();
    h.api.upsert('ingresses', ingress('shop', 'web', { className: null }));
    h.api.failStatusWrites(1);
    const t = makeSource(h, { statusAddress: '203.0.113.7', statusRetryMs: 200 });
    await t.source.start();
    const warn = await waitFor(() => t.logs.find((l) => l.level === WARN && l['code'] === 'SWY_ERR_KUBE_STATUS_WRITE'), { timeoutMs: 2000, what: 'the warning' });
    expect(warn.msg).toContain('HTTP 500');
    expect(t.source.status()).toMatchObject({ state: 'connected', ingressStatus: { failures: 1, lastError: { ingress: 'shop/web' } } });
    await waitFor(() => lb(h.api.get('ingresses', 'shop', 'web')), { timeoutMs: 2000, what: 'the retry' });
    await waitFor(() => t.source.status().ingressStatus?.writes === 1, { timeoutMs: 1000, what: 'the write to be counted' });
    expect(t.source.status().ingressStatus).toMatchObject({ writes: 1, failures: 1 });
  });

  it('writes nothing unless enabled', async () => {
    const h = await startApi();
    h.api.upsert('ingresses', ingress('shop', 'web', { className: null }));
    const t = makeSource(h);
    await t.source.start();
    await sleep(100);
    expect(h.api.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(t.source.status().ingressStatus).toBeUndefined();
  });
});
