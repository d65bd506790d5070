/**
 * Shutdown and endpoint removal with requests in flight: SIGTERM turns /readyz 503 at once, keeps
 * serving through --shutdown-delay, lets the slow request finish and exits 0; an endpoint removed from
 * its slice drains (its request in flight completes) while new requests go elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { useManifestDir } from './helpers/fixture.ts';
import { request, sequence, tally } from './helpers/http.ts';
import { startPods } from './helpers/pod.ts';
import { sleep, startSwitchyard, stateOf, waitFor, waitForEndpoints } from './helpers/switchyard.ts';

const NET = '127.0.103.';
const HOST = 'web.test';

const manifestDir = useManifestDir();

describe('graceful shutdown', () => {
  it('SIGTERM with --shutdown-delay 1s: /readyz 503 at once, still serving during the delay, slow request completes, exit 0', async () => {
    const [a] = await startPods(NET, ['a']);
    await manifestDir().write([{ name: 'web', port: a!.port, endpoints: [{ address: a!.address }] }]);
    const sy = await startSwitchyard(manifestDir().dir, ['--shutdown-delay', '1s', '--drain-timeout', '5s']);
    expect((await request(sy.admin, { path: '/readyz' })).status).toBe(200);

    const slow = request(sy.ingress, { host: HOST, path: '/slow?ms=1500' });
    await waitFor('the slow request to reach the pod', 2000, async () => (await a!.requests()) === 1, 10);
    const t0 = Date.now();
    let exitedAt = 0;
    const exit = sy.exited.then((e) => {
      exitedAt = Date.now();
      return e;
    });
    sy.proc.kill('SIGTERM');

    const notReadyMs = await waitFor('/readyz 503', 1000, async () => (await request(sy.admin, { path: '/readyz' })).status === 503, 10);
    expect(notReadyMs).toBeLessThan(300);
    await sleep(200);
    // A new client connection during the delay is still served.
    const during = await request(sy.ingress, { host: HOST });
    const duringAt = Date.now() - t0;
    expect([during.status, during.pod]).toEqual([200, 'a']);
    expect(duringAt).toBeLessThan(1000);

    const slowReply = await slow;
    const slowAt = Date.now() - t0;
    expect([slowReply.status, slowReply.pod, slowReply.body]).toEqual([200, 'a', 'a']);
    const { code, signal } = await exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // Not before the delay, nor before the slow request was done.
    expect(exitedAt - t0).toBeGreaterThanOrEqual(1000);
    expect(exitedAt - t0).toBeGreaterThanOrEqual(slowAt - 50);
    const msgs = sy.logs.map((l) => String(l['msg']));
    expect(msgs.indexOf('stopping: /readyz is 503; still serving during the shutdown delay')).toBeLessThan(msgs.indexOf('stopping: no longer accepting; draining in-flight requests'));
    expect(msgs).toContain('stopped');
    console.log(`[reliability] SIGTERM: readyz503AfterMs=${notReadyMs} servedDuringDelayAtMs=${duringAt} slowDoneAtMs=${slowAt} exitAtMs=${exitedAt - t0} exitCode=${code}`);
  });
});

describe('draining', () => {
  it('an endpoint removed from the slice finishes its request in flight, shows draining, and gets no new requests', async () => {
    const pods = await startPods(NET, ['a', 'b']);
    const [a, b] = pods as [typeof pods[0], typeof pods[0]];
    await manifestDir().write([{ name: 'web', port: a.port, endpoints: [{ address: a.address }, { address: b.address }] }]);
    const sy = await startSwitchyard(manifestDir().dir);

    // First pick: a (lowest address).
    const slow = request(sy.ingress, { host: HOST, path: '/slow?ms=1500' });
    await waitFor('the slow request to reach a', 2000, async () => (await a.requests()) === 1, 10);
    await manifestDir().write([{ name: 'web', port: a.port, endpoints: [{ address: b.address }] }]);
    await waitForEndpoints(sy, 'web', [b.key]);
    expect(await stateOf(sy, 'web', a.key)).toBe('draining');

    const meanwhile = await sequence(sy.ingress, 6, { host: HOST });
    expect(tally(meanwhile)).toEqual({ b: 6 });
    expect(await stateOf(sy, 'web', a.key)).toBe('draining');
    const slowReply = await slow;
    expect([slowReply.status, slowReply.pod]).toEqual([200, 'a']);
    expect(await a.requests()).toBe(1);
    await waitFor('a to finish draining', 2000, async () => (await stateOf(sy, 'web', a.key)) === 'absent');
  });
});
