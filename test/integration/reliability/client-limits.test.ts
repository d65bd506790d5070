/** Slow clients: a request head that never completes is cut by --client-header-timeout. */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useManifestDir } from './helpers/fixture.ts';
import { request, splitAddress } from './helpers/http.ts';
import { startPods } from './helpers/pod.ts';
import { startSwitchyard } from './helpers/switchyard.ts';

const NET = '127.0.107.';

const manifestDir = useManifestDir();

/** Sends `head` and then nothing; resolves with what came back and when the connection closed. */
function stall(address: string, head: string): Promise<{ data: string; closedAfterMs: number }> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let data = '';
    const socket = connect({ host, port }, () => socket.write(head));
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ data, closedAfterMs: performance.now() - started });
    });
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after 5 s; received ${JSON.stringify(data)}`));
    }, 5000);
  });
}

describe('client limits', () => {
  it('slowloris: a partial request head is answered 408 or closed within ~2 s (--client-header-timeout 500ms)', async () => {
    const [a] = await startPods(NET, ['a']);
    await manifestDir().write([{ name: 'web', port: a!.port, endpoints: [{ address: a!.address }] }]);
    const sy = await startSwitchyard(manifestDir().dir, ['--client-header-timeout', '500ms']);

    const stalled = stall(sy.ingress, 'GET / HTTP/1.1\r\nHost: web.test\r\nX-Slow: 1');
    // A well-behaved client meanwhile is served.
    const ok = await request(sy.ingress, { host: 'web.test' });
    expect([ok.status, ok.pod]).toEqual([200, 'a']);
    const { data, closedAfterMs } = await stalled;
    expect(closedAfterMs).toBeGreaterThanOrEqual(400);
    expect(closedAfterMs).toBeLessThan(2000);
    const statusLine = data.split('\r\n')[0] ?? '';
    console.log(`[reliability] slowloris: closedAfterMs=${Math.round(closedAfterMs)} answer=${JSON.stringify(data)}`);
    expect(await a!.requests()).toBe(1);
    // The documented answer (--client-header-timeout: "slowloris guard; → 408"), or a plain close.
    if (data !== '') expect(statusLine, `answer to the stalled head: ${JSON.stringify(data)}`).toBe('HTTP/1.1 408 Request Timeout');
  });
});
