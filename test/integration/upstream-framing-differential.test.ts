/**
 * The two upstream HTTP/1.1 clients (`--upstream-client undici|llhttp`) frame a pod's answers alike:
 * raw TCP "pods" send well-formed, odd and broken responses, and the same request through a Switchyard
 * on each client must give the client the same bytes (status, x-switchyard-error, body, how the
 * connection ended), leave the pod in the same health state, and open the same number of connections to
 * it over two requests (keep-alive reuse). Issue #19: "response framing is tested differentially".
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { getJson } from '../helpers/http.ts';
import { ingress, service, endpointSlice, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';

const CRLF = '\r\n';
const GET = (path: string): string => `GET ${path} HTTP/1.1${CRLF}Host: HOST${CRLF}Connection: close${CRLF}${CRLF}`;
const HEAD = (path: string): string => `HEAD ${path} HTTP/1.1${CRLF}Host: HOST${CRLF}Connection: close${CRLF}${CRLF}`;
/** A body larger than --request-buffer-size (64 KiB): it streams, so the pod can answer before it all went up. */
const BIG = 'b'.repeat(200 * 1024);
const POST_BIG = (path: string): string => `POST ${path} HTTP/1.1${CRLF}Host: HOST${CRLF}Content-Length: ${BIG.length}${CRLF}Connection: close${CRLF}${CRLF}${BIG}`;

interface Case {
  readonly name: string;
  /** The client's request (HOST is replaced by the case's host). */
  readonly request: (path: string) => string;
  /** What the pod writes once it has a request head. */
  readonly answer: string;
  /** After the answer: end the connection, reset it, or keep it open (default). */
  readonly then?: 'end' | 'reset';
}

const OK_5 = `HTTP/1.1 200 OK${CRLF}Content-Length: 5${CRLF}${CRLF}hello`;

const CASES: readonly Case[] = [
  { name: 'content-length', request: GET, answer: OK_5 },
  { name: 'chunked', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}5${CRLF}hello${CRLF}0${CRLF}${CRLF}` },
  { name: 'chunked with trailers', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}5${CRLF}hello${CRLF}0${CRLF}X-Sum: 42${CRLF}${CRLF}` },
  { name: 'read until close', request: GET, answer: `HTTP/1.1 200 OK${CRLF}${CRLF}hello`, then: 'end' },
  { name: 'HTTP/1.0 read until close', request: GET, answer: `HTTP/1.0 200 OK${CRLF}${CRLF}hello`, then: 'end' },
  { name: 'HTTP/1.0 with a length, no keep-alive', request: GET, answer: `HTTP/1.0 200 OK${CRLF}Content-Length: 5${CRLF}${CRLF}hello` },
  { name: 'Connection: close', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Connection: close${CRLF}Content-Length: 5${CRLF}${CRLF}hello`, then: 'end' },
  { name: 'Keep-Alive: timeout=1 (too short to reuse)', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Keep-Alive: timeout=1${CRLF}Content-Length: 5${CRLF}${CRLF}hello` },
  { name: 'Keep-Alive: timeout=30', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Keep-Alive: timeout=30${CRLF}Content-Length: 5${CRLF}${CRLF}hello` },
  { name: 'unsolicited 100 Continue', request: GET, answer: `HTTP/1.1 100 Continue${CRLF}${CRLF}${OK_5}` },
  { name: '103 Early Hints', request: GET, answer: `HTTP/1.1 103 Early Hints${CRLF}Link: </a.css>; rel=preload${CRLF}${CRLF}${OK_5}` },
  { name: '204 with a Content-Length and bytes', request: GET, answer: `HTTP/1.1 204 No Content${CRLF}Content-Length: 5${CRLF}${CRLF}extra` },
  { name: '304 with a body', request: GET, answer: `HTTP/1.1 304 Not Modified${CRLF}Content-Length: 5${CRLF}${CRLF}extra` },
  { name: 'HEAD answered with a body', request: HEAD, answer: OK_5 },
  { name: '101 to a request that asked for no upgrade', request: GET, answer: `HTTP/1.1 101 Switching Protocols${CRLF}Connection: upgrade${CRLF}Upgrade: websocket${CRLF}${CRLF}` },
  { name: 'two different Content-Lengths', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Content-Length: 5${CRLF}Content-Length: 6${CRLF}${CRLF}hello!` },
  { name: 'two equal Content-Lengths', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Content-Length: 5${CRLF}Content-Length: 5${CRLF}${CRLF}hello` },
  { name: 'invalid Content-Length', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Content-Length: 5x${CRLF}${CRLF}hello` },
  { name: 'signed Content-Length', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Content-Length: +5${CRLF}${CRLF}hello` },
  { name: 'Transfer-Encoding and Content-Length', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Transfer-Encoding: chunked${CRLF}Content-Length: 5${CRLF}${CRLF}5${CRLF}hello${CRLF}0${CRLF}${CRLF}` },
  { name: 'Transfer-Encoding other than chunked', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Transfer-Encoding: gzip${CRLF}${CRLF}hello`, then: 'end' },
  { name: 'invalid chunk size', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}zz${CRLF}hello${CRLF}0${CRLF}${CRLF}` },
  { name: 'obs-fold', request: GET, answer: `HTTP/1.1 200 OK${CRLF}X-Folded: a${CRLF} b${CRLF}Content-Length: 5${CRLF}${CRLF}hello` },
  { name: 'oversized head', request: GET, answer: `HTTP/1.1 200 OK${CRLF}X-Big: ${'x'.repeat(20 * 1024)}${CRLF}Content-Length: 5${CRLF}${CRLF}hello` },
  { name: 'invalid status line', request: GET, answer: `HTTP/1.1 2x0 OK${CRLF}Content-Length: 5${CRLF}${CRLF}hello` },
  { name: 'not HTTP at all', request: GET, answer: `SSH-2.0-OpenSSH_9.6${CRLF}` },
  { name: 'closed before any byte', request: GET, answer: '', then: 'end' },
  { name: 'reset before any byte', request: GET, answer: '', then: 'reset' },
  { name: 'closed mid-body', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Content-Length: 100${CRLF}${CRLF}hello`, then: 'end' },
  { name: 'reset mid-body', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Content-Length: 100${CRLF}${CRLF}hello`, then: 'reset' },
  { name: 'chunked, closed mid-body', request: GET, answer: `HTTP/1.1 200 OK${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}5${CRLF}hello${CRLF}`, then: 'end' },
  { name: 'an answer before the request body went up', request: POST_BIG, answer: `HTTP/1.1 413 Content Too Large${CRLF}Content-Length: 4${CRLF}Connection: close${CRLF}${CRLF}big!`, then: 'end' },
  { name: 'an answer before the request body, connection kept', request: POST_BIG, answer: `HTTP/1.1 200 OK${CRLF}Content-Length: 5${CRLF}${CRLF}hello` },
];

interface RawPod {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  connections: number;
}

/** A pod that answers every request head on a connection with the case's bytes (and then ends or resets it). */
async function rawPod(c: Case): Promise<{ pod: RawPod; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const pod = { host: '127.0.0.2', port: 0, connections: 0 };
  const server = createServer((socket) => {
    pod.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let skip = 0;
    socket.on('data', (chunk: Buffer) => {
      let text = chunk.toString('latin1');
      if (skip > 0) {
        const n = Math.min(skip, text.length);
        skip -= n;
        text = text.slice(n);
      }
      buffered += text;
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0 && !socket.destroyed) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (length) {
          const n = Math.min(Number(length[1]), buffered.length);
          skip = Number(length[1]) - n;
          buffered = buffered.slice(n);
        }
        if (c.answer !== '') socket.write(c.answer, 'latin1');
        if (c.then === 'end') socket.end();
        else if (c.then === 'reset') socket.resetAndDestroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, pod.host, resolve));
  pod.port = (server.address() as { port: number }).port;
  defer(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { pod, server, sockets };
}

interface Outcome {
  /** The bytes the client received, x-request-id values masked. */
  readonly raw: string;
  /** How the client's connection ended: the server closed it, reset it, or neither within the deadline. */
  readonly ending: 'end' | 'reset' | 'timeout';
}

/** Sends `data` on a fresh connection and reads until the proxy closes it. */
function exchange(target: HostPort, data: string, timeoutMs = 4000): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const chunks: Buffer[] = [];
    let ending: Outcome['ending'] | undefined;
    const done = (how: Outcome['ending']): void => {
      if (ending !== undefined) return;
      ending = how;
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks).toString('latin1').replace(/(x-request-id: )[^\r]*/gi, '$1*'), ending: how });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('connect', () => socket.write(data, 'latin1'));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => done('end'));
    socket.on('error', () => done('reset'));
    socket.on('close', () => done('end'));
  });
}

const hostOf = (i: number): string => `case-${i}.example`;

let pods: RawPod[] = [];
const proxies = new Map<string, RunningSwitchyard>();

beforeAll(async () => {
  const dir = await tempManifestDir();
  const docs: Manifest[] = [];
  pods = [];
  for (const [i, c] of CASES.entries()) {
    const { pod } = await rawPod(c);
    pods.push(pod);
    const name = `case-${i}`;
    docs.push(
      service({ name, namespace: 'diff' }),
      endpointSlice({ service: name, namespace: 'diff', port: pod.port, endpoints: [{ ip: pod.host }] }),
      ingress({ name, namespace: 'diff', rules: [{ host: hostOf(i), paths: [{ path: '/', service: name }] }] }),
    );
  }
  await writeManifest(dir, 'cases.yaml', docs);
  for (const client of ['undici', 'llhttp']) proxies.set(client, await startSwitchyard({ manifests: dir, args: ['--upstream-client', client] }));
}, 60_000);

// One pair of proxies serves every case: cleaned up once, at the end (a test's own pods and proxies too).
afterAll(cleanupAll);

async function endpointState(sy: RunningSwitchyard, pod: RawPod): Promise<string | undefined> {
  const { body } = await getJson<{ endpoints: { key?: string; address?: string; port?: number; state: string }[] }>(sy.admin, '/api/v1/endpoints');
  const key = `${pod.host}:${pod.port}`;
  return body.endpoints.find((e) => e.key === key || `${e.address}:${e.port}` === key)?.state;
}

describe('the same pod answer through both upstream clients', () => {
  it.each(CASES.map((c, i) => [c.name, i] as const))('%s', async (_name, i) => {
    const c = CASES[i]!;
    const pod = pods[i]!;
    const results: Record<string, unknown> = {};
    for (const [client, sy] of proxies) {
      const before = pod.connections;
      const first = await exchange(sy.ingress, c.request('/one').replace('HOST', hostOf(i)));
      const second = await exchange(sy.ingress, c.request('/two').replace('HOST', hostOf(i)));
      results[client] = { first, second, podConnections: pod.connections - before, health: await endpointState(sy, pod) };
    }
    expect(results['llhttp']).toEqual(results['undici']);
  });
});

/**
 * A recorded request for comparison: the listener's port (it differs between the two proxies) and the
 * request id (random) masked; a body as its length and digest, a chunked one decoded first (where chunks
 * break depends on socket reads, not on the client).
 */
function normalizeRequest(raw: string): string {
  const end = raw.indexOf('\r\n\r\n') + 4;
  const head = raw.slice(0, end).replace(/(x-forwarded-port: )\d+/i, '$1*').replace(/(x-request-id: )[^\r]*/i, '$1*');
  let body = raw.slice(end);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    let decoded = '';
    for (let at = 0; ; ) {
      const eol = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.slice(at, eol), 16);
      if (!(size > 0)) break;
      decoded += body.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
    body = `chunked ${decoded.length} bytes, ${createHash('sha1').update(decoded).digest('hex')}`;
  } else if (body !== '') body = `${body.length} bytes, ${createHash('sha1').update(body).digest('hex')}`;
  return head + body;
}

/** A pod that records each request it reads whole (head and body, Content-Length or chunked) and answers 200 "ok". */
async function recordingPod(): Promise<{ pod: RawPod; seen: string[] }> {
  const seen: string[] = [];
  const pod = { host: '127.0.0.3', port: 0, connections: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    pod.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.slice(0, end + 4);
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        let total: number;
        if (length) total = head.length + Number(length[1]);
        else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const last = buffered.indexOf('\r\n0\r\n\r\n', end);
          if (last < 0) return;
          total = last + 7;
        } else total = head.length;
        if (buffered.length < total) return;
        seen.push(buffered.slice(0, total));
        buffered = buffered.slice(total);
        socket.write(`HTTP/1.1 200 OK${CRLF}Content-Length: 2${CRLF}${CRLF}ok`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, pod.host, resolve));
  pod.port = (server.address() as { port: number }).port;
  const close = (): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
  defer(async () => {
    for (const socket of sockets) socket.destroy();
    await close();
  });
  return { pod, seen };
}

const REQUESTS: readonly (readonly [string, string])[] = [
  ['GET', `GET /a?b=1 HTTP/1.1${CRLF}Host: rec.example${CRLF}X-One: 1${CRLF}Connection: close${CRLF}${CRLF}`],
  ['HEAD', `HEAD /h HTTP/1.1${CRLF}Host: rec.example${CRLF}Connection: close${CRLF}${CRLF}`],
  ['OPTIONS', `OPTIONS /o HTTP/1.1${CRLF}Host: rec.example${CRLF}Connection: close${CRLF}${CRLF}`],
  ['POST without a body', `POST /p HTTP/1.1${CRLF}Host: rec.example${CRLF}Connection: close${CRLF}${CRLF}`],
  ['POST with Content-Length: 0', `POST /p HTTP/1.1${CRLF}Host: rec.example${CRLF}Content-Length: 0${CRLF}Connection: close${CRLF}${CRLF}`],
  ['POST with a small body', `POST /p HTTP/1.1${CRLF}Host: rec.example${CRLF}Content-Length: 5${CRLF}Connection: close${CRLF}${CRLF}hello`],
  ['POST with a chunked body', `POST /p HTTP/1.1${CRLF}Host: rec.example${CRLF}Transfer-Encoding: chunked${CRLF}Connection: close${CRLF}${CRLF}5${CRLF}hello${CRLF}0${CRLF}${CRLF}`],
  ['POST with a body that streams (Content-Length)', `POST /p HTTP/1.1${CRLF}Host: rec.example${CRLF}Content-Length: ${BIG.length}${CRLF}Connection: close${CRLF}${CRLF}${BIG}`],
  ['POST with a body that streams (chunked)', `POST /p HTTP/1.1${CRLF}Host: rec.example${CRLF}Transfer-Encoding: chunked${CRLF}Connection: close${CRLF}${CRLF}${BIG.length.toString(16)}${CRLF}${BIG}${CRLF}0${CRLF}${CRLF}`],
  ['DELETE with a body', `DELETE /d HTTP/1.1${CRLF}Host: rec.example${CRLF}Content-Length: 2${CRLF}Connection: close${CRLF}${CRLF}id`],
  ['absolute-form target', `GET http://other.example/abs HTTP/1.1${CRLF}Host: rec.example${CRLF}Connection: close${CRLF}${CRLF}`],
];

describe('the same request bytes from both upstream clients', () => {
  it('writes each request to the pod alike (head fields in order, framing, body), and reuses connections alike', async () => {
    const { pod, seen } = await recordingPod();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'rec.yaml', [
      service({ name: 'rec', namespace: 'diff' }),
      endpointSlice({ service: 'rec', namespace: 'diff', port: pod.port, endpoints: [{ ip: pod.host }] }),
      ingress({ name: 'rec', namespace: 'diff', rules: [{ host: 'rec.example', paths: [{ path: '/', service: 'rec' }] }, { host: 'other.example', paths: [{ path: '/', service: 'rec' }] }] }),
    ]);
    const byClient: Record<string, unknown> = {};
    for (const client of ['undici', 'llhttp']) {
      const sy = await startSwitchyard({ manifests: dir, args: ['--upstream-client', client] });
      seen.length = 0;
      const before = pod.connections;
      const answers: string[] = [];
      for (const [, raw] of REQUESTS) answers.push((await exchange(sy.ingress, raw)).raw.split('\r\n')[0]!);
      const requests = seen.map(normalizeRequest);
      byClient[client] = { answers, requests, connections: pod.connections - before };
    }
    expect((byClient['undici'] as { answers: string[] }).answers).toEqual(REQUESTS.map(() => 'HTTP/1.1 200 OK'));
    expect(byClient['llhttp']).toEqual(byClient['undici']);
  }, 30_000);
});

/** Takes the binding out of `_http_common` after node:http has loaded, as a Node without it would (node-http-server.test.ts does the same). */
const HIDE_LLHTTP = 'data:text/javascript,process.getBuiltinModule("node:http");delete process.getBuiltinModule("_http_common").HTTPParser;';

describe('--upstream-client llhttp on a Node without the llhttp binding', () => {
  it('proxies through undici instead', async () => {
    const { pod } = await recordingPod();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'rec.yaml', [
      service({ name: 'rec', namespace: 'diff' }),
      endpointSlice({ service: 'rec', namespace: 'diff', port: pod.port, endpoints: [{ ip: pod.host }] }),
      ingress({ name: 'rec', namespace: 'diff', rules: [{ host: 'rec.example', paths: [{ path: '/', service: 'rec' }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: ['--upstream-client', 'llhttp'], nodeFlags: ['--import', HIDE_LLHTTP] });
    const res = await exchange(sy.ingress, REQUESTS[0]![1]);
    expect(res.raw).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
  });
});
