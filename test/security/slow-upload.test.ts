/**
 * Issue #14, must-fix 2: 300 connections sending `POST` with `Content-Length: 100000` and then a byte a
 * second each held a pod connection; past the pool cap every other request waited with no deadline
 * (0 of 180 normal GETs succeeded). Request bodies are now collected up to --request-buffer-size before
 * a pod connection is taken, a paused body gets 408 after --client-body-timeout, and no request waits
 * for a pod connection without a deadline.
 */
import { connect as h2connect } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, rawRequest, request } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { echoHandler, startPods, type Pod, type PodHandler } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const CRLF = '\r\n';

/** One pod behind `web.example` (every path); other hosts have no route. */
async function setup(args: readonly string[], handler?: PodHandler): Promise<{ sy: RunningSwitchyard; pod: Pod }> {
  const [pod] = await startPods(['web-1'], handler ? { handler } : {});
  const dir = await tempManifestDir();
  await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'shop', [pod!]), ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'web.example', paths: [{ path: '/', service: 'web' }] }] })]);
  const sy = await startSwitchyard({ manifests: dir, args });
  return { sy, pod: pod! };
}

/** A client that announces a large body and then sends one byte per `intervalMs`. */
function slowUpload(target: { host: string; port: number }, intervalMs: number): Socket {
  const socket = connect(target);
  defer(() => socket.destroy());
  socket.on('error', () => {});
  socket.on('connect', () => {
    socket.write(`POST /upload HTTP/1.1${CRLF}Host: web.example${CRLF}Content-Length: 100000${CRLF}${CRLF}x`);
    const timer = setInterval(() => {
      if (socket.writable) socket.write('x');
    }, intervalMs);
    socket.on('close', () => clearInterval(timer));
  });
  return socket;
}

describe('slow uploads (the attack of issue #14)', () => {
  it('300 slow uploads hold no pod connection: normal requests keep succeeding', async () => {
    const { sy, pod } = await setup(['--upstream-max-connections', '128']);
    const attackers: Socket[] = [];
    for (let i = 0; i < 300; i++) attackers.push(slowUpload(sy.ingress, 1000));
    // Let every attacker connect and send its head.
    await new Promise((r) => setTimeout(r, 1500));
    let ok = 0;
    const total = 200;
    for (let batch = 0; batch < total / 10; batch++) {
      const results = await Promise.all(Array.from({ length: 10 }, () => get(sy.ingress, 'web.example', '/normal').then((r) => r.status, () => 0)));
      ok += results.filter((s) => s === 200).length;
    }
    expect(ok / total).toBeGreaterThanOrEqual(0.99);
    // The uploads are still being collected by Switchyard, none of them reached the pod.
    expect(pod.requests.filter((r) => r.url === '/upload')).toHaveLength(0);
    expect(attackers.filter((s) => !s.destroyed).length).toBeGreaterThan(290);
  }, 60_000);

  it('--request-buffer-total bounds what all collected bodies hold: past it a body streams, and bytes come back when an exchange ends', async () => {
    const { sy, pod } = await setup(['--request-buffer-size', '4096', '--request-buffer-total', '8192']);
    /** A client that sends 2 KiB of a 100 kB body at once, then nothing. */
    const upload = (path: string): Socket => {
      const socket = connect(sy.ingress);
      defer(() => socket.destroy());
      socket.on('error', () => {});
      socket.on('connect', () => socket.write(`POST ${path} HTTP/1.1${CRLF}Host: web.example${CRLF}Content-Length: 100000${CRLF}${CRLF}${'x'.repeat(2048)}`));
      return socket;
    };
    const seen = (path: string): boolean => pod.requests.some((r) => r.url === path);
    const held = [upload('/held-1'), upload('/held-2'), upload('/held-3'), upload('/held-4')];
    await new Promise((r) => setTimeout(r, 500));
    // 4 × 2 KiB fill the 8 KiB: all four are still being collected, none reached the pod.
    expect(['/held-1', '/held-2', '/held-3', '/held-4'].filter(seen)).toEqual([]);
    upload('/streamed');
    const deadline = Date.now() + 3000;
    while (!seen('/streamed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen('/streamed'), 'past the total, a body streams to the pod').toBe(true);
    // Two of the first clients leave: their bytes are given back, and the next body is collected again.
    held[0]!.destroy();
    held[1]!.destroy();
    await new Promise((r) => setTimeout(r, 300));
    upload('/held-again');
    await new Promise((r) => setTimeout(r, 500));
    expect(seen('/held-again')).toBe(false);
  });

  it('a body that pauses longer than --client-body-timeout gets 408 body-timeout, never reaching the pod', async () => {
    const { sy, pod } = await setup(['--client-body-timeout', '1s']);
    const started = Date.now();
    const res = await rawRequest(sy.ingress, `POST /upload HTTP/1.1${CRLF}Host: web.example${CRLF}Content-Length: 10${CRLF}${CRLF}abc`, 8000);
    expect(res.status, res.raw).toBe(408);
    expect(res.headers['x-switchyard-error']).toBe('body-timeout');
    expect(Date.now() - started).toBeLessThan(6000);
    expect(pod.requests).toHaveLength(0);
  });

  it('over HTTP/2 too: a stream whose body pauses longer than --client-body-timeout gets 408 body-timeout', async () => {
    const { sy, pod } = await setup(['--client-body-timeout', '1s']);
    const session = h2connect(`http://${sy.ingress.host}:${sy.ingress.port}`);
    defer(() => session.destroy());
    session.on('error', () => {});
    const stream = session.request({ ':method': 'POST', ':path': '/upload', ':authority': 'web.example', 'content-length': '10' });
    stream.write('abc');
    const started = Date.now();
    const [status, reason] = await new Promise<[number, string | undefined]>((resolve, reject) => {
      stream.on('response', (headers) => resolve([Number(headers[':status']), headers['x-switchyard-error'] as string | undefined]));
      stream.on('error', reject);
    });
    expect(status).toBe(408);
    expect(reason).toBe('body-timeout');
    expect(Date.now() - started).toBeLessThan(6000);
    expect(pod.requests).toHaveLength(0);
  });

  it('a body larger than --request-buffer-size is streamed once its first window arrived, whole', async () => {
    const { sy, pod } = await setup(['--request-buffer-size', '1024']);
    const body = 'b'.repeat(300_000);
    const res = await request(sy.ingress, '/big', { method: 'POST', host: 'web.example', body });
    expect(res.status, res.body.slice(0, 300)).toBe(200);
    expect(res.json<{ bodyBytes: number }>().bodyBytes).toBe(body.length);
    expect(pod.requests).toHaveLength(1);
  });

  it('a chunked body is collected and forwarded whole', async () => {
    const { sy } = await setup([]);
    const res = await rawRequest(sy.ingress, `POST /chunked HTTP/1.1${CRLF}Host: web.example${CRLF}Transfer-Encoding: chunked${CRLF}Connection: close${CRLF}${CRLF}5${CRLF}hello${CRLF}6${CRLF} world${CRLF}0${CRLF}${CRLF}`);
    expect(res.status, res.raw.slice(0, 300)).toBe(200);
    // The echo pod's JSON, chunked by Switchyard: its bodyBytes field.
    expect(res.body).toContain('"bodyBytes":11');
  });
});

describe('waiting for a pod connection has a deadline', () => {
  /** Holds every request for `ms` before answering (one connection per request). */
  const slow = (ms: number): PodHandler => (req, res, pod) => setTimeout(() => echoHandler(req, res, pod), ms);

  it('a full queue answers 503 upstream-busy at once and ejects nothing', async () => {
    const { sy } = await setup(['--upstream-max-connections', '1', '--upstream-max-queue', '1'], slow(1500));
    const first = get(sy.ingress, 'web.example', '/1');
    await new Promise((r) => setTimeout(r, 200));
    const second = get(sy.ingress, 'web.example', '/2');
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const third = await get(sy.ingress, 'web.example', '/3');
    expect(third.status).toBe(503);
    expect(third.headers['x-switchyard-error']).toBe('upstream-busy');
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    // The pod was never held responsible: it still serves.
    expect((await get(sy.ingress, 'web.example', '/4')).status).toBe(200);
  });

  it('queue wait counts inside --upstream-timeout: 504 upstream-queue-timeout, and the pod stays in rotation', async () => {
    const { sy } = await setup(['--upstream-max-connections', '1', '--upstream-timeout', '800ms'], slow(3000));
    const first = get(sy.ingress, 'web.example', '/1');
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const queued = await get(sy.ingress, 'web.example', '/2');
    expect(queued.status).toBe(504);
    expect(queued.headers['x-switchyard-error']).toBe('upstream-queue-timeout');
    expect(Date.now() - started).toBeLessThan(2500);
    // The first one timed out on the pod itself (its own 800 ms): the pod's failure, a plain upstream-timeout.
    expect((await first).headers['x-switchyard-error']).toBe('upstream-timeout');
  });
});

describe('lingering after an early answer', () => {
  it('an early 404 to a request whose body keeps dripping closes the connection after --lingering-timeout', async () => {
    const { sy } = await setup(['--lingering-timeout', '1s']);
    const socket = connect(sy.ingress);
    defer(() => socket.destroy());
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    const started = Date.now();
    // A host no rule serves: 404 before any of the body is needed.
    socket.write(`POST /x HTTP/1.1${CRLF}Host: nowhere.example${CRLF}Content-Length: 100000${CRLF}${CRLF}x`);
    const drip = setInterval(() => socket.writable && socket.write('x'), 200);
    defer(() => clearInterval(drip));
    const closedAt = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
    clearInterval(drip);
    expect(received).toMatch(/^HTTP\/1\.1 404 /);
    expect(closedAt).toBeGreaterThan(0);
    expect(closedAt - started).toBeLessThan(4000);
  });
});
