/**
 * Faults under continuous load (autocannon, 50 connections): a pod SIGKILLed and restarted, and a
 * rolling update of three replicas. The client must see ZERO failed requests: no connection errors,
 * no timeouts, no non-2xx answers.
 */
import { describe, expect, it } from 'vitest';
import { useManifestDir } from './helpers/fixture.ts';
import { sequence, tally } from './helpers/http.ts';
import { loadFigures, startLoad, summary } from './helpers/load.ts';
import type { EndpointSpec, ServiceSpec } from './helpers/manifests.ts';
import { requestCounts, startPod, startPods, type Pod } from './helpers/pod.ts';
import { endpointsOf, sleep, startSwitchyard, stateOf, waitFor, waitForEndpoints, type SwitchyardProcess } from './helpers/switchyard.ts';

const NET = '127.0.101.';
const HOST = 'web.test';
const CONNECTIONS = 50;

const manifestDir = useManifestDir();

const countLogs = (sy: SwitchyardProcess, msg: string): number => sy.logs.filter((l) => l['msg'] === msg).length;

describe('faults under load', () => {
  it('a pod SIGKILLed under load: zero failed requests, the pod is ejected, and after a restart it takes traffic again', async () => {
    const pods = await startPods(NET, ['a', 'b', 'c']);
    const [a, b, c] = pods as [Pod, Pod, Pod];
    const svc: ServiceSpec = { name: 'web', port: a.port, endpoints: pods.map((p) => ({ address: p.address, pod: p.name })), annotations: { 'switchyard.dev/outlier-base-ejection-time': '1s' } };
    await manifestDir().write([svc]);
    const sy = await startSwitchyard(manifestDir().dir, ['--log-level', 'debug']);
    expect(tally(await sequence(sy.ingress, 3, { host: HOST }))).toEqual({ a: 1, b: 1, c: 1 });

    const load = startLoad({ address: sy.ingress, host: HOST, connections: CONNECTIONS, durationSec: 6 });
    const inject = async () => {
      await sleep(1000);
      const servedBeforeKill = await b.requests();
      expect(servedBeforeKill).toBeGreaterThan(50);
      b.kill('SIGKILL');
      const killedAt = Date.now();
      await b.exited;

      const ejectedSeenMs = await waitFor('b ejected', 2000, async () => (await stateOf(sy, 'web', b.key)) === 'ejected', 20);
      const view = (await endpointsOf(sy, 'web')).find((e) => e.key === b.key)!;
      expect(view.reason).toMatch(/^connection failed/);
      await sleep(Math.max(0, killedAt + 1500 - Date.now()));

      // Same address, same port: the pod comes back.
      const restarted = await startPod({ name: 'b', address: b.address, port: b.port });
      const restartedAt = Date.now() - killedAt;
      const backMs = await waitFor('the restarted pod to take traffic', 4000, async () => (await restarted.requests()) > 0, 50);
      return { servedBeforeKill, ejectedSeenMs, restarted, restartedAt, backMs };
    };
    const { servedBeforeKill, ejectedSeenMs, restarted, restartedAt, backMs } = await inject().catch((err: unknown) => {
      load.stop();
      throw err;
    });
    const result = await load.done;
    const counts = await requestCounts([a, c, restarted]);
    const endState = await stateOf(sy, 'web', b.key);
    const retries = countLogs(sy, 'retrying on another endpoint');
    const ejections = countLogs(sy, 'endpoint ejected');

    summary('SIGKILL under load', {
      ...loadFigures(result),
      faults: '1xSIGKILL',
      retries,
      ejections,
      ejectedSeenAfterMs: ejectedSeenMs,
      restartedAtMs: restartedAt,
      backInRotationAfterRestartMs: backMs,
      perPod: `a=${counts['a']},b(before-kill)=${servedBeforeKill},b(restarted)=${counts['b']},c=${counts['c']}`,
    });
    expect(result.errorSamples).toEqual([]);
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
    expect(result.requests).toBeGreaterThan(1000);
    expect(ejections).toBeGreaterThanOrEqual(1);
    expect(counts['b']).toBeGreaterThan(0);
    expect(endState).toBe('ready');
  });

  it('a rolling update of 3 replicas under load: zero failed requests, and afterwards every request goes to the new pods', async () => {
    const old = await startPods(NET, ['old-1', 'old-2', 'old-3']);
    const port = old[0]!.port;
    const slice = new Map<string, EndpointSpec>(old.map((p) => [p.name, { address: p.address, pod: p.name }]));
    const apply = async (): Promise<void> => manifestDir().write([{ name: 'web', port, endpoints: [...slice.values()] }]);
    await apply();
    const sy = await startSwitchyard(manifestDir().dir, ['--log-level', 'debug']);
    const keys = () => [...slice.values()].map((e) => `${e.address}:${port}`);

    const load = startLoad({ address: sy.ingress, host: HOST, connections: CONNECTIONS, durationSec: 30 });
    const started = Date.now();
    const fresh: Pod[] = [];
    const oldServed: Record<string, number> = {};
    const oldExit: (number | null)[] = [];
    try {
      await sleep(1000);
      for (const [i, pod] of old.entries()) {
        // Like a Deployment: surge one new pod, wait for it, then retire one old pod.
        const next = await startPod({ name: `new-${i + 1}`, address: `${NET}${14 + i}`, port });
        fresh.push(next);
        slice.set(next.name, { address: next.address, pod: next.name });
        await apply();
        await waitForEndpoints(sy, 'web', keys());
        await sleep(1000);
        slice.set(pod.name, { address: pod.address, pod: pod.name, ready: false, serving: true, terminating: true });
        await apply();
        await waitFor(`${pod.name} terminating`, 3000, async () => (await stateOf(sy, 'web', pod.key)) === 'terminating');
        await sleep(500);
        slice.delete(pod.name);
        await apply();
        await waitForEndpoints(sy, 'web', keys());
        await sleep(500);
        oldServed[pod.name] = await pod.requests();
        pod.kill('SIGTERM');
        oldExit.push(await pod.exited);
      }
      await sleep(1000);
    } finally {
      load.stop();
    }
    const result = await load.done;
    const loadMs = Date.now() - started;
    const newServed = await requestCounts(fresh);
    const after = await sequence(sy.ingress, 30, { host: HOST });
    const retries = countLogs(sy, 'retrying on another endpoint');

    summary('rolling update under load', {
      ...loadFigures(result),
      faults: '3 old pods retired (terminating, removed, SIGTERM)',
      retries,
      loadMs,
      oldServed: JSON.stringify(oldServed),
      newServed: JSON.stringify(newServed),
      after: JSON.stringify(tally(after)),
    });
    expect(result.errorSamples).toEqual([]);
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
    expect(result.requests).toBeGreaterThan(1000);
    expect(oldExit).toEqual([0, 0, 0]);
    expect(tally(after)).toEqual({ 'new-1': 10, 'new-2': 10, 'new-3': 10 });
    for (const n of Object.values(newServed)) expect(n).toBeGreaterThan(0);
  });
});
