/**
 * Passive health (outlier detection) with real pods and the real CLI: a pod answering 500s is ejected
 * after 5 consecutive 5xx and comes back after its ejection time; a pod that never answers gets the
 * request a 504 after the Service's response timeout and is ejected; when every pod fails, panic mode
 * keeps spreading traffic over all of them.
 */
import { describe, expect, it } from 'vitest';
import { useManifestDir } from './helpers/fixture.ts';
import { request, sequence, tally } from './helpers/http.ts';
import { startPods, requestCounts, type Pod } from './helpers/pod.ts';
import { endpointsOf, startSwitchyard, stateOf, waitFor, type AdminServices } from './helpers/switchyard.ts';

const NET = '127.0.102.';
const HOST = 'web.test';

const manifestDir = useManifestDir();

const endpoints = (pods: readonly Pod[]) => pods.map((p) => ({ address: p.address, pod: p.name }));

describe('outlier detection', () => {
  it('ejects a pod answering 500 after 5 consecutive 5xx and takes it back after its ejection time (1s)', async () => {
    const pods = await startPods(NET, ['a', 'bad', 'c']);
    await pods[1]!.set({ status: 500 });
    await manifestDir().write([{ name: 'web', port: pods[0]!.port, endpoints: endpoints(pods), annotations: { 'switchyard.dev/outlier-base-ejection-time': '1s' } }]);
    const sy = await startSwitchyard(manifestDir().dir);
    const bad = pods[1]!.key;

    // Round-robin: the bad pod gets every third request; its 5th 500 in a row ejects it.
    const first = await sequence(sy.ingress, 15, { host: HOST });
    expect(first.map((r) => r.pod)).toEqual(Array(5).fill(['a', 'bad', 'c']).flat());
    expect(first.filter((r) => r.pod === 'bad').map((r) => r.status)).toEqual([500, 500, 500, 500, 500]);
    const ejected = (await endpointsOf(sy, 'web')).find((e) => e.key === bad)!;
    expect(ejected.state).toBe('ejected');
    expect(ejected.reason).toBe('5 consecutive 5xx responses');
    expect(Date.parse(ejected.ejectedUntil!) - Date.parse(ejected.since)).toBe(1000);

    // While ejected, it gets nothing.
    const during = await sequence(sy.ingress, 10, { host: HOST });
    expect(during.map((r) => r.pod)).toEqual(Array(5).fill(['a', 'c']).flat());

    // After its ejection time it is back in the rotation, at its place.
    await waitFor('the bad pod back to ready', 3000, async () => (await stateOf(sy, 'web', bad)) === 'ready');
    const back = Date.now() - Date.parse(ejected.since);
    expect(back).toBeGreaterThanOrEqual(1000);
    const after = await sequence(sy.ingress, 6, { host: HOST });
    expect(after.map((r) => r.pod)).toEqual(['a', 'bad', 'c', 'a', 'bad', 'c']);
    console.log(`[reliability] 500-pod ejection: answers before=${JSON.stringify(tally(first))} during=${JSON.stringify(tally(during))} after=${JSON.stringify(tally(after))} backAfterMs=${back}`);
  });

  it('answers 504 upstream-timeout for a pod that never answers (response-timeout 500ms), ejects it, other pods unaffected', async () => {
    const pods = await startPods(NET, [{ name: 'hang', kind: 'hang' }, 'a', 'b']);
    await manifestDir().write([{ name: 'web', port: pods[0]!.port, endpoints: endpoints(pods), annotations: { 'switchyard.dev/response-timeout': '500ms' } }]);
    const sy = await startSwitchyard(manifestDir().dir);
    const hang = pods[0]!;

    // The first pick of the rotation is the hanging pod (lowest address).
    let settled = false;
    const hung = request(sy.ingress, { host: HOST }).finally(() => (settled = true));
    await waitFor('the hanging pod to receive the request', 2000, async () => (await hang.requests()) === 1, 10);
    // A burst while it hangs: round-robin sends 6 to the healthy pods, 2 more to the hanging one.
    const burst = await Promise.all(Array.from({ length: 8 }, () => request(sy.ingress, { host: HOST }).then((r) => ({ ...r, whileHung: !settled }))));
    expect(tally(burst)).toEqual({ a: 3, b: 3, 'switchyard:504:upstream-timeout': 2 });
    const healthy = burst.filter((r) => r.pod !== '');
    expect(healthy.every((r) => r.status === 200 && r.whileHung)).toBe(true);
    expect(Math.max(...healthy.map((r) => r.ms))).toBeLessThan(450);

    const timedOut = await hung;
    expect(timedOut.status).toBe(504);
    expect(timedOut.error).toBe('upstream-timeout');
    expect(timedOut.ms).toBeGreaterThanOrEqual(450);
    expect(timedOut.ms).toBeLessThan(2000);

    const view = (await endpointsOf(sy, 'web')).find((e) => e.key === hang.key)!;
    expect(view.state).toBe('ejected');
    expect(view.reason).toBe('upstream timeout');
    const after = await sequence(sy.ingress, 10, { host: HOST });
    expect(after.every((r) => r.status === 200)).toBe(true);
    expect(tally(after)).toEqual({ a: 5, b: 5 });
    expect(await hang.requests()).toBe(3);
    console.log(`[reliability] hanging pod: timeoutAfterMs=${Math.round(timedOut.ms)} burst=${JSON.stringify(tally(burst))} maxHealthyMs=${Math.round(Math.max(...healthy.map((r) => r.ms)))} after=${JSON.stringify(tally(after))}`);
  });

  it('panic mode: with every pod failing, traffic keeps being spread over all pods and /api/v1/services shows panic', async () => {
    const pods = await startPods(NET, ['a', 'b', 'c'], { status: 500 });
    await manifestDir().write([{ name: 'web', port: pods[0]!.port, endpoints: endpoints(pods), annotations: { 'switchyard.dev/outlier-max-ejection-percent': '100' } }]);
    const sy = await startSwitchyard(manifestDir().dir);
    const panicOf = async () => (await sy.adminJson<AdminServices>('/api/v1/services')).services.find((s) => s.name === 'web')!.ports[0]!.panic;
    expect(await panicOf()).toBe(false);

    const ejecting = await sequence(sy.ingress, 15, { host: HOST });
    expect(tally(ejecting)).toEqual({ a: 5, b: 5, c: 5 });
    expect((await endpointsOf(sy, 'web')).map((e) => e.state)).toEqual(['ejected', 'ejected', 'ejected']);

    const panicking = await sequence(sy.ingress, 30, { host: HOST });
    // The pods' own 500s, never Switchyard's 503 no-ready-endpoint; spread round-robin.
    expect(panicking.every((r) => r.status === 500 && r.pod !== '' && r.error === '')).toBe(true);
    expect(panicking.map((r) => r.pod)).toEqual(Array(10).fill(['a', 'b', 'c']).flat());
    expect(await requestCounts(pods)).toEqual({ a: 15, b: 15, c: 15 });
    expect(await panicOf()).toBe(true);
    console.log(`[reliability] panic: before=${JSON.stringify(tally(ejecting))} inPanic=${JSON.stringify(tally(panicking))} panicFlag=true`);
  });
});
