/**
 * Issue 14, must-fix 3 (second half): client connections are capped per worker at
 * --max-client-connections, and the excess gets a fast close at accept, not a hang, while the
 * connections within the cap keep working; once they close, new connections are accepted again.
 * With --workers 2 the primary hands connections to workers (cluster round-robin); the cap must hold
 * there too (net's maxConnections in a worker, with dropMaxConnection so a full worker closes the
 * connection instead of handing it back to the primary to pass around).
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods } from '../helpers/pods.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const HOST = 'web.example';
const CAP = 5;
/** Far beyond the time a close at accept takes, far below the header timeout a hang would wait for. */
const FAST_CLOSE_MS = 2000;

interface Conn {
  readonly socket: Socket;
  /** Resolves with how the connection ended: 'closed' by the server, or 'open' after `ms`. */
  closedWithin(ms: number): Promise<'closed' | 'open'>;
  /** One keep-alive GET on this connection; resolves with the status line's code. */
  get(): Promise<number>;
  /** Bytes received so far. */
  received(): string;
}

async function open(target: HostPort): Promise<Conn> {
  const socket = connect({ host: target.host, port: target.port });
  defer(() => socket.destroy());
  let data = '';
  let closed = false;
  const closeWaiters: (() => void)[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (c: string) => (data += c));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    for (const w of closeWaiters.splice(0)) w();
  });
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  return {
    socket,
    received: () => data,
    closedWithin: (ms) =>
      closed
        ? Promise.resolve('closed')
        : new Promise((resolve) => {
            const timer = setTimeout(() => resolve('open'), ms);
            closeWaiters.push(() => {
              clearTimeout(timer);
              resolve('closed');
            });
          }),
    get: () =>
      new Promise<number>((resolve, reject) => {
        const from = data.length;
        const timer = setTimeout(() => reject(new Error(`no answer within 5 s; received ${JSON.stringify(data.slice(from))}`)), 5000);
        const onData = (): void => {
          const m = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n/.exec(data.slice(from));
          if (!m) return;
          const len = /content-length: (\d+)/i.exec(m[0]);
          const complete = len ? data.length - from >= m[0].length + Number(len[1]) : data.endsWith('\r\n0\r\n\r\n');
          if (!complete) return;
          clearTimeout(timer);
          socket.off('data', onData);
          resolve(Number(m[1]));
        };
        socket.on('data', onData);
        socket.once('close', () => reject(new Error(`closed; received ${JSON.stringify(data.slice(from))}`)));
        socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
      }),
  };
}

async function startCapped(workers: number): Promise<RunningSwitchyard> {
  const pods = await startPods(['web-0']);
  const dir = await tempManifestDir('swy-cap-');
  await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'default', pods), ingress({ name: 'web', namespace: 'default', rules: [{ host: HOST, paths: [{ path: '/', service: 'web' }] }] })]);
  return startSwitchyard({
    manifests: dir,
    args: ['--workers', String(workers), '--max-client-connections', String(CAP), '--client-header-timeout', '60s', '--client-keepalive-timeout', '60s'],
  });
}

describe('--max-client-connections', () => {
  it('--workers 1: the 6th and later connections are closed at once, the 5 keep working, and after they close new ones are served', async () => {
    const sy = await startCapped(1);
    expect(sy.logs.find((l) => String(l.msg).startsWith('file descriptors:'))).toMatchObject({ maxClientConnections: CAP, from: 'flag' });

    const kept: Conn[] = [];
    for (let i = 0; i < CAP; i++) kept.push(await open(sy.ingress));
    for (const c of kept) expect(await c.get()).toBe(200);

    const excess = await Promise.all(Array.from({ length: 10 }, () => open(sy.ingress)));
    const ends = await Promise.all(excess.map((c) => c.closedWithin(FAST_CLOSE_MS)));
    expect(ends).toEqual(Array(10).fill('closed'));
    // Closed without an answer: no parser, no route, no pod connection for the excess.
    expect(excess.map((c) => c.received())).toEqual(Array(10).fill(''));

    // The five are untouched and still serve requests.
    for (const c of kept) expect(await c.get()).toBe(200);
    expect(await Promise.all(kept.map((c) => c.closedWithin(0)))).toEqual(Array(CAP).fill('open'));

    for (const c of kept) c.socket.destroy();
    // The count drops as the server sees the closes: then fresh connections (and requests on them) are served.
    await waitFor(async () => (await get(sy.ingress, HOST, '/').catch(() => undefined))?.status === 200 || undefined, { timeoutMs: 3000, what: 'a fresh connection to be served' });
    const again = await Promise.all(Array.from({ length: CAP }, () => open(sy.ingress)));
    expect(await Promise.all(again.map((c) => c.get()))).toEqual(Array(CAP).fill(200));
  });

  it('--workers 2: each worker holds at most 5, the excess is closed at once (no hand-off loop), and capacity returns after a close', async () => {
    const sy = await startCapped(2);
    const conns: Conn[] = [];
    for (let i = 0; i < 30; i++) conns.push(await open(sy.ingress));
    const ends = await Promise.all(conns.map((c) => c.closedWithin(FAST_CLOSE_MS)));
    const openOnes = conns.filter((_, i) => ends[i] === 'open');
    // Round-robin spreads 30 connections over both workers: each fills its 5, the rest is closed.
    expect(openOnes.length).toBeLessThanOrEqual(2 * CAP);
    expect(openOnes.length).toBeGreaterThanOrEqual(CAP + 1);
    expect(ends.filter((e) => e === 'closed').length).toBe(30 - openOnes.length);
    for (const c of openOnes) expect(await c.get()).toBe(200);

    for (const c of openOnes) c.socket.destroy();
    await waitFor(async () => (await get(sy.ingress, HOST, '/').catch(() => undefined))?.status === 200 || undefined, { timeoutMs: 3000, what: 'a fresh connection to be served' });
    const statuses = await Promise.all(Array.from({ length: 2 * CAP }, () => get(sy.ingress, HOST, '/').then((r) => r.status, () => 0)));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(CAP);
    expect(sy.child.exitCode).toBeNull();
  });
});
