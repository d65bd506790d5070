/**
 * The worker-thread data plane (--workers 2): snapshots reach every worker, a worker that dies is
 * replaced while the listener stays up and only its own requests are lost, one worker's ejection
 * applies in all, and round-robin is exact across workers (one shared cursor per backend).
 */
import autocannon from 'autocannon';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/flags.ts';
import { createRootLogger } from '../../src/log.ts';
import { startSwitchyard as startInProcess } from '../../src/main.ts';
import { defer } from '../helpers/cleanup.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, getJson } from '../helpers/http.ts';
import { endpointSlice, ingress, podEndpoints, service, serviceWithPods, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { countsByPod, startPods, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { sumSamples } from '../helpers/metrics.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const WORKERS = 2;

interface WorkerView {
  index: number;
  threadId: number;
  state: string;
  restarts: number;
  requests: number;
}

async function workersOf(sy: RunningSwitchyard): Promise<WorkerView[]> {
  return (await getJson<{ workers: WorkerView[] }>(sy.admin, '/api/v1/workers')).body.workers;
}

async function start(manifests: Manifest[], args: string[] = []): Promise<{ sy: RunningSwitchyard; dir: string }> {
  const dir = await tempManifestDir();
  await writeManifest(dir, 'app.yaml', manifests);
  const sy = await startSwitchyard({ manifests: dir, args: ['--workers', String(WORKERS), ...args] });
  const workers = await workersOf(sy);
  expect(workers.map((w) => w.state)).toEqual(Array(WORKERS).fill('ready'));
  return { sy, dir };
}

const appIngress = (hosts: string[]): Manifest => ingress({ name: 'app', namespace: 'w', rules: hosts.map((host) => ({ host, paths: [{ path: '/', service: 'app' }] })) });

describe('worker threads', () => {
  it('a snapshot change reaches every worker within 1 s', async () => {
    const pods = await startPods(['app-a'], { hosts: [2] });
    const { sy, dir } = await start([...serviceWithPods('app', 'w', pods), appIngress(['one.example'])]);
    expect((await get(sy.ingress, 'two.example', '/')).status).toBe(404);

    await writeManifest(dir, 'app.yaml', [...serviceWithPods('app', 'w', pods), appIngress(['one.example', 'two.example'])]);
    const edited = Date.now();
    // Fresh connections are spread over the workers by the primary: 20 in a row all answered 200 means every worker has the route.
    await waitFor(
      async () => {
        const statuses = await Promise.all(Array.from({ length: 20 }, () => get(sy.ingress, 'two.example', '/').then((r) => r.status)));
        return statuses.every((s) => s === 200);
      },
      { timeoutMs: 1500, intervalMs: 25, what: 'every worker routing two.example' },
    );
    expect(Date.now() - edited).toBeLessThanOrEqual(1000 + 250); // the edit's own ≤ 1 s, plus one probe round
  });

  it('a worker that dies under load loses at most the requests it held; the listener stays up and the worker is replaced', async () => {
    const pods = await startPods(['app-a', 'app-b'], { hosts: [2, 3] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'app.yaml', [...serviceWithPods('app', 'w', pods), appIngress(['load.example'])]);
    // In this process: a thread cannot be killed from outside it, so the test stops one as a crash would (Worker#terminate).
    const parsed = parseFlags(['--manifests', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', String(WORKERS), '--access-log', 'off']);
    if (parsed.kind !== 'config') throw new Error(`flags: ${JSON.stringify(parsed)}`);
    const sy = await startInProcess(parsed.config, createRootLogger('silent'));
    defer(() => sy.stop());
    const pool = sy.workers!;
    const [host, port] = [sy.addresses.ingress!.replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(sy.addresses.ingress!)![1])];
    const victim = pool.views()[0]!;
    const CONNECTIONS = 20;
    const load = autocannon({ url: `http://${host}:${port}/`, headers: { host: 'load.example' }, connections: CONNECTIONS, duration: 3 });
    setTimeout(() => void pool.terminate(victim.index), 1000);
    const result = await load;
    const failed = result.errors + result.non2xx;
    console.log(`[workers] terminated worker ${victim.index} under load: requests=${result.requests.total} failed=${failed} (connections=${CONNECTIONS})`);
    expect(result.requests.total).toBeGreaterThan(1000);
    // Only what the dead worker held: at most one request per connection it owned (or waiting in its accept queue).
    expect(failed).toBeLessThanOrEqual(CONNECTIONS);
    const after = await waitFor(() => (pool.views().every((w) => w.state === 'ready') && pool.views().some((w) => w.restarts === 1) ? pool.views() : undefined), {
      timeoutMs: 5000,
      what: 'the replacement worker ready',
    });
    expect(after.find((w) => w.index === victim.index)!.threadId).not.toBe(victim.threadId);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => get({ host, port }, 'load.example', '/').then((r) => r.status)));
    expect(statuses).toEqual(Array(10).fill(200));
  });

  it('an ejection seen by one worker applies in all', async () => {
    const pods = await startPods(['app-a'], { hosts: [2] });
    const port = pods[0]!.port;
    // 127.0.0.9 on the pods' port: nobody listens there. No retries, so a worker that still picked it would answer 502.
    const svc = { ...service({ name: 'app', namespace: 'w' }), metadata: { name: 'app', namespace: 'w', annotations: { 'switchyard.dev/retries': '0' } } };
    const { sy } = await start([svc, endpointSlice({ service: 'app', namespace: 'w', port, endpoints: [...podEndpoints(pods), { ip: '127.0.0.9' }] }), appIngress(['eject.example'])]);
    await waitFor(
      async () => {
        await get(sy.ingress, 'eject.example', '/');
        const eps = await getJson<{ endpoints: { key: string; state: string }[] }>(sy.admin, '/api/v1/endpoints');
        return eps.body.endpoints.some((e) => e.key === `127.0.0.9:${port}` && e.state === 'ejected');
      },
      { timeoutMs: 3000, what: 'the dead endpoint ejected' },
    );
    const statuses = await Promise.all(Array.from({ length: 30 }, () => get(sy.ingress, 'eject.example', '/').then((r) => r.status)));
    expect(statuses).toEqual(Array(30).fill(200));
  });

  it('round-robin is exact across workers: N requests on N new connections give each pod N/k', async () => {
    const pods: Pod[] = await startPods(['app-a', 'app-b', 'app-c'], { hosts: [2, 3, 4] });
    const { sy } = await start([...serviceWithPods('app', 'w', pods), appIngress(['rr.example'])]);
    const N = 60;
    // In bursts of 10 concurrent new connections: the kernel spreads them over both workers' listeners.
    for (let i = 0; i < N; i += 10) await Promise.all(Array.from({ length: 10 }, () => get(sy.ingress, 'rr.example', '/')));
    expect(countsByPod(pods)).toEqual({ 'app-a': N / 3, 'app-b': N / 3, 'app-c': N / 3 });
    // One at a time, the pods take turns in rotation order whichever worker serves each request: 60 = 20 turns of 3, so a, b, c again.
    const order: string[] = [];
    for (let i = 0; i < 9; i++) {
      const before = pods.map((p) => p.requests.length);
      await get(sy.ingress, 'rr.example', '/');
      order.push(pods.find((p, j) => p.requests.length > before[j]!)!.name);
    }
    expect(order).toEqual(['app-a', 'app-b', 'app-c', 'app-a', 'app-b', 'app-c', 'app-a', 'app-b', 'app-c']);
    // Both workers served (the kernel spread the connections), and the metrics sum them.
    const served = await waitFor(async () => {
      const ws = await workersOf(sy);
      return ws.reduce((n, w) => n + w.requests, 0) === N + 9 ? ws : undefined;
    }, { timeoutMs: 3000, what: 'every worker reporting its requests' });
    expect(served.every((w) => w.requests > 0)).toBe(true);
    const text = (await get(sy.admin, `${sy.admin.host}:${sy.admin.port}`, '/metrics')).body;
    expect(sumSamples(text, 'switchyard_requests_total', { listener: 'ingress', code: '200', namespace: 'w', ingress: 'app', service: 'app' })).toBe(N + 9);
    expect(sumSamples(text, 'switchyard_request_duration_seconds_count', { service: 'app' })).toBe(N + 9);
    // The process's default metrics are reported once, by the main thread: the whole process's memory.
    expect(sumSamples(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});
