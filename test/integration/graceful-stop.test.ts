/**
 * Graceful stop on SIGTERM: in-flight requests complete, new connections are refused, exit code 0;
 * with --drain-timeout, requests still running at the deadline are cut and the exit is still 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, tryConnect, type Response } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { loopback, startPod, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor, withTimeout } from '../helpers/wait.ts';

afterEach(cleanupAll);

/** A pod that answers every request after `delayMs`; `answered` counts the answers sent. */
async function slowProxy(delayMs: number, args: readonly string[] = []): Promise<{ sy: RunningSwitchyard; pod: Pod; answered: () => number }> {
  let answered = 0;
  const timers = new Set<NodeJS.Timeout>();
  defer(() => timers.forEach(clearTimeout));
  const pod = await startPod({
    name: 'slow-1',
    host: loopback(2),
    handler: (_req, res) => {
      const t = setTimeout(() => {
        timers.delete(t);
        answered++;
        res.end('finally');
      }, delayMs);
      timers.add(t);
    },
  });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'slow.yaml', [
    ...serviceWithPods('slow', 'shop', [pod]),
    ingress({ name: 'slow', namespace: 'shop', rules: [{ host: 'slow.example', paths: [{ path: '/', service: 'slow' }] }] }),
  ]);
  const sy = await startSwitchyard({ manifests: dir, args });
  return { sy, pod, answered: () => answered };
}

const isStopping = (l: { msg: string }): boolean => l.msg.startsWith('stopping');

describe('graceful stop', () => {
  it('on SIGTERM lets an in-flight request complete, refuses new connections, and exits 0', async () => {
    const { sy, pod, answered } = await slowProxy(1000);
    const inFlight = get(sy.ingress, 'slow.example', '/slow');
    await waitFor(() => pod.requests.length === 1, { what: 'the request to reach the pod' });

    sy.child.kill('SIGTERM');
    await sy.waitForLog(isStopping, 3000);
    // The listener closes right after that line is written; polled, as the child may be descheduled in between.
    await waitFor(async () => (await tryConnect(sy.ingress)) === 'ECONNREFUSED', { timeoutMs: 700, intervalMs: 10, what: 'new connections to be refused' });
    expect(answered()).toBe(0); // refused while the request was still in flight
    expect(sy.child.exitCode).toBeNull(); // still draining

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe('finally');
    const exit = await withTimeout(sy.exited, 5000, 'switchyard to exit after draining');
    expect(exit).toEqual({ code: 0, signal: null });
  });

  it('with --drain-timeout 300ms cuts a request that takes 5 s and still exits 0', async () => {
    const { sy, pod, answered } = await slowProxy(5000, ['--drain-timeout', '300ms']);
    const outcome: Promise<Response | Error> = get(sy.ingress, 'slow.example', '/very-slow').catch((err: Error) => err);
    await waitFor(() => pod.requests.length === 1, { what: 'the request to reach the pod' });

    sy.child.kill('SIGTERM');
    // Well before the pod's 5 s answer.
    const exit = await withTimeout(sy.exited, 4000, 'switchyard to exit at the drain deadline');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(answered()).toBe(0);
    const result = await withTimeout(outcome, 2000, 'the cut request to settle');
    expect(result).toBeInstanceOf(Error); // the connection was closed without a response
    expect(sy.logs.some((l) => l.msg.startsWith('drain timeout reached') && l['cut'] === 1)).toBe(true);
  });

  it('exits 0 on SIGINT as well', async () => {
    const { sy } = await slowProxy(10);
    expect((await get(sy.ingress, 'slow.example', '/')).status).toBe(200);
    expect(await sy.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });
});
