/**
 * The node:http fallback of the HTTP/1.1 client side (src/dataplane/node-http-server.ts): it engages
 * when Node's llhttp binding is missing (hidden here by a preloaded module), and it answers what the
 * llhttp path answers in the cases the parameterized suites (client-protocol, malformed-requests,
 * streaming, websocket) do not cover, on both servers: CONNECT, a slow head, a stalled body, lingering
 * after an early answer, TLS, an unbuffered stream, a graceful stop. Node's own
 * `connection: keep-alive` field on kept-alive responses tells which server answered.
 */
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { rawRequest } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor, withTimeout } from '../helpers/wait.ts';

afterEach(cleanupAll);

/**
 * Loads node:http first (it keeps its own reference to the parser), then takes the binding out of
 * `_http_common`, as a Node that no longer exposes it would.
 */
const HIDE_LLHTTP = 'data:text/javascript,process.getBuiltinModule("node:http");delete process.getBuiltinModule("_http_common").HTTPParser;';

async function proxied(args: readonly string[], nodeFlags: readonly string[] = []): Promise<{ sy: RunningSwitchyard; pod: Pod }> {
  const [pod] = await startPods(['web-1'], { hosts: [2], handler: (_req, res) => setTimeout(() => res.end('hello'), Number(/delay=(\d+)/.exec(_req.url ?? '')?.[1] ?? 0)) });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'shop', [pod!]), ingress({ name: 'web', namespace: 'shop', rules: [{ paths: [{ path: '/', service: 'web' }] }] })]);
  return { sy: await startSwitchyard({ manifests: dir, args, nodeFlags }), pod: pod! };
}

const GET = 'GET /x HTTP/1.1\r\nHost: web.example\r\n\r\n';
/** rawRequest reads until the proxy closes: a kept-alive connection closes soon. */
const KEEPALIVE = ['--client-keepalive-timeout', '300ms'];

describe('HTTP/1.1 through node:http', () => {
  it('falls back to node:http, with one warning, when the llhttp binding is missing', async () => {
    const { sy, pod } = await proxied(KEEPALIVE, ['--import', HIDE_LLHTTP]);
    const res = await rawRequest(sy.ingress, GET);
    expect(res.status, res.raw).toBe(200);
    expect(res.headers['connection'], 'answered by node:http').toBe('keep-alive');
    expect(pod.requests).toHaveLength(1);
    const warnings = sy.logs.filter((l) => l.level === 'warn' && /llhttp binding/.test(l.msg));
    expect(warnings).toHaveLength(1);
  });

  it('serves with llhttp by default (no warning, no connection field on a kept-alive answer)', async () => {
    const { sy } = await proxied(KEEPALIVE);
    const res = await rawRequest(sy.ingress, GET);
    expect(res.status, res.raw).toBe(200);
    expect(res.headers['connection']).toBeUndefined();
    expect(sy.logs.filter((l) => /llhttp binding/.test(String(l.msg)))).toHaveLength(0);
  });
});

/** The same answers from both HTTP/1.1 servers, for what the parameterized suites do not cover. */
describe.each(['llhttp', 'node'] as const)('HTTP/1.1 client limits and refusals, %s server', (server) => {
  it('answers CONNECT with 405 and an Allow field, and opens no tunnel', async () => {
    const { sy, pod } = await proxied(['--http1-server', server]);
    const res = await rawRequest(sy.ingress, `CONNECT ${pod.host}:${pod.port} HTTP/1.1\r\nHost: ${pod.host}:${pod.port}\r\n\r\n`);
    expect(res.status, res.raw).toBe(405);
    expect(res.headers['x-switchyard-error']).toBe('connect-not-allowed');
    expect(res.headers['allow']).toMatch(/GET/);
    expect(pod.connections).toBe(0);
  });

  it('answers a request head that never completes with 408 after --client-header-timeout', async () => {
    const { sy, pod } = await proxied(['--http1-server', server, '--client-header-timeout', '500ms']);
    const started = performance.now();
    const res = await rawRequest(sy.ingress, 'GET /x HTTP/1.1\r\nHost: web.example\r\nX-Slow: ', 4000);
    expect(res.status, res.raw).toBe(408);
    expect(res.headers['x-switchyard-error']).toBe('request-timeout');
    expect(performance.now() - started).toBeLessThan(3000);
    expect(pod.requests).toHaveLength(0);
  });

  it('serves HTTP/1.1 over TLS', async () => {
    const { sy } = await proxied(['--http1-server', server, '--listen-tls', '127.0.0.1:0']);
    const res = await httpsGet(sy.tls!, '/tls');
    expect([res.status, res.body]).toEqual([200, 'hello']);
  });

  it('answers a client that pauses inside its body longer than --client-body-timeout with 408', async () => {
    const { sy, pod } = await proxied(['--http1-server', server, '--client-body-timeout', '500ms']);
    const started = performance.now();
    const res = await rawRequest(sy.ingress, 'POST /x HTTP/1.1\r\nHost: web.example\r\nContent-Length: 100\r\n\r\n0123456789', 5000);
    expect(res.status, res.raw).toBe(408);
    expect(res.headers['x-switchyard-error']).toBe('body-timeout');
    expect(performance.now() - started).toBeLessThan(4000);
    expect(pod.requests).toHaveLength(0);
  });

  it('after an early answer, reads the rest of a dripping body for --lingering-timeout at most, then closes', async () => {
    const { sy } = await proxied(['--http1-server', server, '--lingering-timeout', '500ms']);
    const socket = connect(sy.ingress.port, sy.ingress.host);
    defer(() => socket.destroy());
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (received += c));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // More than the request buffer (64 KiB): the pod gets the request and answers without reading the body.
    socket.write(`POST /x HTTP/1.1\r\nHost: web.example\r\nContent-Length: 1000000\r\n\r\n${'b'.repeat(100_000)}`);
    await waitFor(() => (received.includes('hello') ? true : undefined), { what: 'the early answer', timeoutMs: 3000 });
    const answeredAt = performance.now();
    const drip = setInterval(() => socket.write('b'), 100);
    defer(() => clearInterval(drip));
    await withTimeout(closed, 4000, 'the proxy to close the lingering connection');
    expect(performance.now() - answeredAt).toBeLessThan(3500);
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('passes each piece of a streamed response on as the pod writes it, without waiting for the rest', async () => {
    let release: (() => void) | undefined;
    const [pod] = await startPods(['sse-1'], {
      hosts: [2],
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        release = () => res.end('data: last\n\n');
      },
    });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'sse.yaml', [...serviceWithPods('sse', 'shop', [pod!]), ingress({ name: 'sse', namespace: 'shop', rules: [{ paths: [{ path: '/', service: 'sse' }] }] })]);
    const sy = await startSwitchyard({ manifests: dir, args: ['--http1-server', server] });
    const socket = connect(sy.ingress.port, sy.ingress.host);
    defer(() => socket.destroy());
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (received += c));
    socket.write(GET);
    // The pod holds the rest back until the first event has reached the client.
    await waitFor(() => (received.includes('data: first') ? true : undefined), { what: 'the first event', timeoutMs: 3000 });
    expect(received).not.toContain('data: last');
    release!();
    await waitFor(() => (received.includes('data: last') ? true : undefined), { what: 'the last event', timeoutMs: 3000 });
  });

  it('on SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const { sy } = await proxied(['--http1-server', server, '--drain-timeout', '5s']);
    const pending = rawRequest(sy.ingress, 'GET /x?delay=500 HTTP/1.1\r\nHost: web.example\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exit = sy.stop('SIGTERM', 8000);
    const res = await pending;
    expect([res.status, res.headers['connection']]).toEqual([200, 'close']);
    expect((await exit).code).toBe(0);
  });
});

function httpsGet(target: HostPort, path: string): Promise<{ status: number; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = httpsRequest({ host: target.host, port: target.port, path, headers: { host: 'web.example' }, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      defer(() => req.destroy());
      req.on('error', reject);
      req.end();
    }),
    5000,
    'an HTTPS answer',
  );
}
