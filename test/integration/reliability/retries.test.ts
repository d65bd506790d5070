/**
 * Retries on another endpoint, with real sockets: a refused connection (nothing was written) is retried
 * whatever the method, the body arriving intact; a connection reset after the request was sent is
 * retried only for a GET without a body; `switchyard.dev/retries: "0"` turns retries off.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useManifestDir } from './helpers/fixture.ts';
import { request } from './helpers/http.ts';
import { startPod } from './helpers/pod.ts';
import { endpointsOf, startSwitchyard } from './helpers/switchyard.ts';

const NET = '127.0.104.';
const HOST = 'web.test';

const manifestDir = useManifestDir();

describe('retries', () => {
  it('retries a POST whose first endpoint refuses the connection on another endpoint; the body arrives intact', async () => {
    // .11 is listed but nothing listens there; it is first in the rotation.
    const ok = await startPod({ name: 'ok', address: `${NET}12`, port: 0 });
    await manifestDir().write([{ name: 'web', port: ok.port, endpoints: [{ address: `${NET}11` }, { address: ok.address }] }]);
    const sy = await startSwitchyard(manifestDir().dir);

    const body = randomBytes(256 * 1024);
    const r = await request(sy.ingress, { host: HOST, method: 'POST', path: '/upload', body });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ pod: 'ok', length: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    expect(await ok.requests()).toBe(1);
    const refused = (await endpointsOf(sy, 'web')).find((e) => e.key === `${NET}11:${ok.port}`)!;
    expect(refused.state).toBe('ejected');
    expect(refused.reason).toBe('connection failed');
  });

  it('retries a GET whose pod resets the connection after reading the request on another endpoint', async () => {
    const reset = await startPod({ name: 'reset', address: `${NET}11`, port: 0, kind: 'reset' });
    const ok = await startPod({ name: 'ok', address: `${NET}12`, port: reset.port });
    await manifestDir().write([{ name: 'web', port: reset.port, endpoints: [{ address: reset.address }, { address: ok.address }] }]);
    const sy = await startSwitchyard(manifestDir().dir);

    const r = await request(sy.ingress, { host: HOST, path: '/item' });
    expect(r.status).toBe(200);
    expect(r.pod).toBe('ok');
    expect(await reset.requests()).toBe(1);
    expect(await ok.requests()).toBe(1);
  });

  it('does not retry a POST with a body whose pod reset the connection: 502 upstream-connect-failed', async () => {
    const reset = await startPod({ name: 'reset', address: `${NET}11`, port: 0, kind: 'reset' });
    const ok = await startPod({ name: 'ok', address: `${NET}12`, port: reset.port });
    await manifestDir().write([{ name: 'web', port: reset.port, endpoints: [{ address: reset.address }, { address: ok.address }] }]);
    const sy = await startSwitchyard(manifestDir().dir);

    const r = await request(sy.ingress, { host: HOST, method: 'POST', path: '/order', body: '{"item":42}' });
    expect(r.status).toBe(502);
    expect(r.error).toBe('upstream-connect-failed');
    expect(await reset.requests()).toBe(1);
    expect(await ok.requests()).toBe(0);
  });

  it('switchyard.dev/retries: "0" disables retries (refused connection and reset GET both fail with 502)', async () => {
    const reset = await startPod({ name: 'reset', address: `${NET}13`, port: 0, kind: 'reset' });
    const ok = await startPod({ name: 'ok', address: `${NET}12`, port: reset.port });
    const ok2 = await startPod({ name: 'ok2', address: `${NET}14`, port: reset.port });
    const noRetry = { 'switchyard.dev/retries': '0' };
    await manifestDir().write([
      { name: 'refused', port: reset.port, endpoints: [{ address: `${NET}11` }, { address: ok.address }], annotations: noRetry },
      { name: 'resets', port: reset.port, endpoints: [{ address: reset.address }, { address: ok2.address }], annotations: noRetry },
    ]);
    const sy = await startSwitchyard(manifestDir().dir);

    const refused = await request(sy.ingress, { host: 'refused.test' });
    expect([refused.status, refused.error]).toEqual([502, 'upstream-connect-failed']);
    const resetGet = await request(sy.ingress, { host: 'resets.test' });
    expect([resetGet.status, resetGet.error]).toEqual([502, 'upstream-connect-failed']);
    expect(await reset.requests()).toBe(1);
    expect(await ok.requests()).toBe(0);
    expect(await ok2.requests()).toBe(0);
  });
});
