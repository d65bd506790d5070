/**
 * Which endpoints take traffic, from the EndpointSlice conditions and from active health checks:
 * serving+terminating endpoints are the fallback when none is ready, not-serving ones never; a pod
 * failing its /healthz leaves the rotation while it still answers, and comes back when it passes.
 */
import { describe, expect, it } from 'vitest';
import { useManifestDir } from './helpers/fixture.ts';
import { request, sequence, tally } from './helpers/http.ts';
import { requestCounts, startPods } from './helpers/pod.ts';
import { endpointsOf, startSwitchyard, stateOf, waitFor, type AdminServices } from './helpers/switchyard.ts';

const NET = '127.0.105.';

const manifestDir = useManifestDir();

describe('EndpointSlice conditions', () => {
  it('serves from serving+terminating endpoints when none is ready; never from not-serving terminating ones', async () => {
    const pods = await startPods(NET, ['fa', 'fb', 'ga', 'gb', 'ready', 'term']);
    const [fa, fb, ga, gb, ready, term] = pods as [typeof pods[0], typeof pods[0], typeof pods[0], typeof pods[0], typeof pods[0], typeof pods[0]];
    const serving = { ready: false, serving: true, terminating: true };
    const notServing = { ready: false, serving: false, terminating: true };
    await manifestDir().write([
      { name: 'fallback', port: fa.port, endpoints: [{ address: fa.address, ...serving }, { address: fb.address, ...serving }] },
      { name: 'gone', port: fa.port, endpoints: [{ address: ga.address, ...notServing }, { address: gb.address, ...notServing }] },
      { name: 'mixed', port: fa.port, endpoints: [{ address: ready.address }, { address: term.address, ...serving }] },
    ]);
    const sy = await startSwitchyard(manifestDir().dir);

    const fallback = await sequence(sy.ingress, 4, { host: 'fallback.test' });
    expect(fallback.map((r) => [r.status, r.pod])).toEqual([[200, 'fa'], [200, 'fb'], [200, 'fa'], [200, 'fb']]);
    const gone = await sequence(sy.ingress, 3, { host: 'gone.test' });
    expect(gone.map((r) => [r.status, r.error])).toEqual(Array(3).fill([503, 'no-ready-endpoint']));
    // A ready endpoint exists: the terminating one gets nothing.
    const mixed = await sequence(sy.ingress, 4, { host: 'mixed.test' });
    expect(tally(mixed)).toEqual({ ready: 4 });
    expect(await requestCounts(pods)).toEqual({ fa: 2, fb: 2, ga: 0, gb: 0, ready: 4, term: 0 });

    const services = (await sy.adminJson<AdminServices>('/api/v1/services')).services;
    const port = (name: string) => services.find((s) => s.name === name)!.ports[0]!;
    expect([port('fallback').terminatingFallback, port('gone').terminatingFallback, port('mixed').terminatingFallback]).toEqual([true, false, false]);
    expect((await endpointsOf(sy, 'fallback')).map((e) => [e.state, e.reason])).toEqual(Array(2).fill(['terminating', 'terminating, still serving']));
    expect((await endpointsOf(sy, 'gone')).map((e) => [e.state, e.reason])).toEqual(Array(2).fill(['terminating', 'terminating']));
    expect((await endpointsOf(sy, 'mixed')).map((e) => e.state)).toEqual(['ready', 'terminating']);
  });
});

describe('active health checks', () => {
  it('takes a pod whose /healthz answers 503 out of the rotation (state unhealthy) while it still answers, and back when it passes', async () => {
    const pods = await startPods(NET, ['a', 'b', 'c']);
    const b = pods[1]!;
    await manifestDir().write([
      {
        name: 'web',
        port: b.port,
        endpoints: pods.map((p) => ({ address: p.address })),
        annotations: {
          'switchyard.dev/health-check-path': '/healthz',
          'switchyard.dev/health-check-interval': '200ms',
          'switchyard.dev/health-check-healthy-threshold': '2',
          'switchyard.dev/health-check-unhealthy-threshold': '2',
        },
      },
    ]);
    const sy = await startSwitchyard(manifestDir().dir);
    await waitFor('every pod to pass its checks', 3000, async () => (await endpointsOf(sy, 'web')).every((e) => e.activeCheck === 'healthy'));
    expect(tally(await sequence(sy.ingress, 6, { host: 'web.test' }))).toEqual({ a: 2, b: 2, c: 2 });

    await b.set({ health: 503 });
    const outMs = await waitFor('b unhealthy', 3000, async () => (await stateOf(sy, 'web', b.key)) === 'unhealthy', 20);
    const view = (await endpointsOf(sy, 'web')).find((e) => e.key === b.key)!;
    expect(view.reason).toBe('health check /healthz answered 503');
    expect(view.activeCheck).toBe('unhealthy');
    // Two failed checks, 200 ms ± 10 % apart: not before the second one.
    expect(outMs).toBeGreaterThanOrEqual(150);
    const servedBefore = await b.requests();
    // It still answers ordinary requests (asked directly), but the proxy sends it nothing.
    const direct = await request(`${b.address}:${b.port}`, { host: 'web.test' });
    expect([direct.status, direct.pod]).toEqual([200, 'b']);
    const without = await sequence(sy.ingress, 10, { host: 'web.test' });
    expect(tally(without)).toEqual({ a: 5, c: 5 });
    expect(await b.requests()).toBe(servedBefore + 1);

    await b.set({ health: 200 });
    const backMs = await waitFor('b ready again', 3000, async () => (await stateOf(sy, 'web', b.key)) === 'ready', 20);
    expect(tally(await sequence(sy.ingress, 6, { host: 'web.test' }))).toEqual({ a: 2, b: 2, c: 2 });
    console.log(`[reliability] active checks: outOfRotationAfterMs=${outMs} backAfterMs=${backMs} whileUnhealthy=${JSON.stringify(tally(without))}`);
  });

  it('a pod that was unhealthy when the Service dropped its health-check annotations takes traffic again', async () => {
    const pods = await startPods(NET, ['a', 'b']);
    const b = pods[1]!;
    const checked = {
      'switchyard.dev/health-check-path': '/healthz',
      'switchyard.dev/health-check-interval': '200ms',
      'switchyard.dev/health-check-unhealthy-threshold': '2',
    };
    const eps = pods.map((p) => ({ address: p.address }));
    await manifestDir().write([{ name: 'web', port: b.port, endpoints: eps, annotations: checked }]);
    const sy = await startSwitchyard(manifestDir().dir);
    await b.set({ health: 503 });
    await waitFor('b unhealthy', 3000, async () => (await stateOf(sy, 'web', b.key)) === 'unhealthy', 20);

    // No active check any more: nothing will ever mark b healthy again, so its old verdict must not count.
    await manifestDir().write([{ name: 'web', port: b.port, endpoints: eps }]);
    await waitFor('the active check to be off', 3000, async () => (await endpointsOf(sy, 'web')).every((e) => e.activeCheck === 'off'));
    expect(await stateOf(sy, 'web', b.key)).toBe('ready');
    const after = await sequence(sy.ingress, 6, { host: 'web.test' });
    console.log(`[reliability] health check removed: admin state of b=ready, answers=${JSON.stringify(tally(after))}`);
    expect(tally(after)).toEqual({ a: 3, b: 3 });
  });

  it('a changed health-check-expected-statuses applies to the checks already running', async () => {
    const pods = await startPods(NET, ['a', 'b']);
    const b = pods[1]!;
    const policy = (expected: string) => ({
      'switchyard.dev/health-check-path': '/healthz',
      'switchyard.dev/health-check-interval': '200ms',
      'switchyard.dev/health-check-healthy-threshold': '2',
      'switchyard.dev/health-check-unhealthy-threshold': '2',
      'switchyard.dev/health-check-expected-statuses': expected,
    });
    const eps = pods.map((p) => ({ address: p.address }));
    await manifestDir().write([{ name: 'web', port: b.port, endpoints: eps, annotations: policy('200') }]);
    const sy = await startSwitchyard(manifestDir().dir);
    await b.set({ health: 503 });
    await waitFor('b unhealthy', 3000, async () => (await stateOf(sy, 'web', b.key)) === 'unhealthy', 20);

    // The operator accepts 503 as healthy now: two passing checks (~0.4 s) should bring b back.
    const version = async () => (await sy.adminJson<{ snapshot: { version: number } }>('/api/v1/config')).snapshot.version;
    const before = await version();
    await manifestDir().write([{ name: 'web', port: b.port, endpoints: eps, annotations: policy('200,503') }]);
    await waitFor('the new snapshot', 3000, async () => (await version()) > before);
    let state = '';
    const backMs = await waitFor('b ready under the new expected statuses', 2500, async () => (state = await stateOf(sy, 'web', b.key)) === 'ready', 50).catch(() => -1);
    console.log(`[reliability] expected statuses changed to 200,503: b back after ${backMs} ms (state ${state})`);
    expect(state).toBe('ready');
  });
});
