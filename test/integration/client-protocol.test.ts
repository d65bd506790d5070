/**
 * The client-facing HTTP/1.1 protocol, byte for byte: the proxy serves clients on plain node:net
 * sockets with Node's llhttp binding (src/dataplane/client-connection.ts, client-exchange.ts), so the
 * connection management node:http used to do for free is its own code now: pipelining, response
 * framing (Content-Length, chunked, close-delimited, bodiless HEAD/204), HTTP/1.0 keep-alive,
 * Expect, missing Host, half-close, Upgrade, early answers, the idle timeout and the HTTP/2 preface.
 * Every case talks to the real CLI over a raw loopback socket and parses the answer itself, so a
 * framing mistake shows up as a broken next response rather than being papered over by a client library.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { rawRequest, request } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { sumSamples } from '../helpers/metrics.ts';
import { waitFor, withTimeout } from '../helpers/wait.ts';

afterEach(cleanupAll);

const CRLF = '\r\n';
/** A request head: the lines, then the empty line. */
const head = (...lines: string[]): string => lines.join(CRLF) + CRLF + CRLF;
const HOST = 'Host: proto.example';
const TEXT = 'hello world';

// --- the pod --------------------------------------------------------------------------------------

/** What /upload answers: what the pod read of the request body. */
interface Upload {
  readonly bytes: number;
  readonly sha256: string;
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

/**
 * One pod, answering by path:
 * /text        "hello world" with a Content-Length (no body for HEAD)
 * /stream      'a', 'bb' in two writes and no Content-Length (chunked to the proxy)
 * /no-content  204
 * /echo?id=&delay=  "echo <id>" after `delay` ms, with a Content-Length
 * /bytes?n=    n bytes of 'x' with a Content-Length
 * /upload      reads the whole body, answers its length and sha256 as JSON
 * /reject      413 at once, without reading the body
 */
function podHandler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://pod');
  switch (url.pathname) {
    case '/text':
      return send(res, 200, TEXT);
    case '/stream':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a');
      res.write('bb');
      res.end();
      return;
    case '/no-content':
      res.writeHead(204);
      res.end();
      return;
    case '/echo': {
      const reply = (): void => send(res, 200, `echo ${url.searchParams.get('id')}`);
      const delay = Number(url.searchParams.get('delay') ?? 0);
      if (delay > 0) setTimeout(reply, delay);
      else reply();
      return;
    }
    case '/bytes':
      return send(res, 200, 'x'.repeat(Number(url.searchParams.get('n'))));
    case '/upload': {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => send(res, 200, JSON.stringify({ bytes, sha256: hash.digest('hex') } satisfies Upload), { 'content-type': 'application/json' }));
      return;
    }
    case '/reject':
      return send(res, 413, 'too large');
    default:
      return send(res, 404, 'unknown pod path');
  }
}

/** The pod behind a catch-all Ingress rule (every host, every path), and the proxy in front. */
async function proxied(args: readonly string[] = []): Promise<{ sy: RunningSwitchyard; pod: Pod }> {
  const [pod] = await startPods(['web-1'], { hosts: [2], handler: podHandler });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'shop', [pod!]), ingress({ name: 'web', namespace: 'shop', rules: [{ paths: [{ path: '/', service: 'web' }] }] })]);
  return { sy: await startSwitchyard({ manifests: dir, args }), pod: pod! };
}

// --- a raw HTTP/1.x client ------------------------------------------------------------------------

interface Parsed {
  /** 'HTTP/1.1'. */
  readonly version: string;
  readonly status: number;
  /** Field names lower-cased; repeated fields joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  /** The head as received (status line and fields), for failure messages. */
  readonly head: string;
  /** The body after de-chunking. */
  readonly body: Buffer;
  /** How the body was delimited. */
  readonly framing: 'none' | 'length' | 'chunked' | 'close';
}

/** The response at the start of `buf`, or undefined while it is incomplete. Throws on bytes that are not a response. */
function parseResponse(buf: Buffer, bodiless: boolean, closed: boolean): { response: Parsed; size: number } | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    if (buf.length >= 9 && !/^HTTP\/1\.[01] /.test(buf.subarray(0, 9).toString('latin1'))) throw new Error(`not a response: ${JSON.stringify(buf.subarray(0, 200).toString('latin1'))}`);
    return undefined;
  }
  const headText = buf.subarray(0, headEnd).toString('latin1');
  const [statusLine, ...fields] = headText.split('\r\n');
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: .*)?$/.exec(statusLine ?? '');
  if (!m) throw new Error(`not a status line: ${JSON.stringify(statusLine)} in ${JSON.stringify(buf.subarray(0, 200).toString('latin1'))}`);
  const headers: Record<string, string> = {};
  for (const line of fields) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(m[2]);
  const base = { version: m[1]!, status, headers, head: headText };
  const start = headEnd + 4;
  if (bodiless || status < 200 || status === 204 || status === 304) return { response: { ...base, body: Buffer.alloc(0), framing: 'none' }, size: start };
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    let pos = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return undefined;
      const sizeText = buf.subarray(pos, lineEnd).toString('latin1').split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size line: ${JSON.stringify(sizeText)}`);
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        // No trailers expected: the last chunk is followed by the empty line.
        if (buf.length < lineEnd + 4) return undefined;
        if (buf.subarray(lineEnd + 2, lineEnd + 4).toString('latin1') !== '\r\n') throw new Error('trailer fields after the last chunk');
        return { response: { ...base, body: Buffer.concat(parts), framing: 'chunked' }, size: lineEnd + 4 };
      }
      const dataEnd = lineEnd + 2 + size;
      if (buf.length < dataEnd + 2) return undefined;
      if (buf.subarray(dataEnd, dataEnd + 2).toString('latin1') !== '\r\n') throw new Error('chunk data not followed by CRLF');
      parts.push(buf.subarray(lineEnd + 2, dataEnd));
      pos = dataEnd + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (buf.length < start + length) return undefined;
    return { response: { ...base, body: buf.subarray(start, start + length), framing: 'length' }, size: start + length };
  }
  // Neither: the body ends when the connection does.
  if (!closed) return undefined;
  return { response: { ...base, body: buf.subarray(start), framing: 'close' }, size: buf.length };
}

/**
 * One client connection that writes raw bytes and reads responses one at a time, delimited the way
 * a client must (Content-Length, chunked, or the close), so the next response starts exactly where
 * the previous one ended. Every wait is bounded; the socket is destroyed after the test.
 */
class RawClient {
  readonly socket: Socket;
  /** Received and not yet taken as a response. */
  #buf = Buffer.alloc(0);
  /** Everything received, for failure messages. */
  #all = '';
  /** The server ended its side (FIN) or the connection closed. */
  #serverDone = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      this.#all += chunk.toString('latin1');
      this.#notify();
    });
    socket.on('end', () => this.#done());
    socket.on('close', () => this.#done());
    socket.on('error', () => this.#done()); // a reset counts as the server closing
  }

  static async open(target: HostPort): Promise<RawClient> {
    const socket = connect({ host: target.host, port: target.port });
    defer(() => socket.destroy());
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
      2000,
      'connecting to the proxy',
    );
    return new RawClient(socket);
  }

  get serverClosed(): boolean {
    return this.#serverDone;
  }

  /** Everything received so far (latin1). */
  get received(): string {
    return this.#all;
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** The next complete response; `bodiless` for the answer to a HEAD. */
  response(options: { bodiless?: boolean; timeoutMs?: number } = {}): Promise<Parsed> {
    return this.#until(() => this.#take(options.bodiless ?? false), options.timeoutMs ?? 5000, 'a complete response');
  }

  /** The next complete response, or 'closed' when the server closes the connection with nothing more sent. */
  responseOrClose(options: { timeoutMs?: number } = {}): Promise<Parsed | 'closed'> {
    return this.#until<Parsed | 'closed'>(
      () => this.#take(false) ?? (this.#serverDone && this.#buf.length === 0 ? 'closed' : undefined),
      options.timeoutMs ?? 5000,
      'a complete response or the close of the connection',
    );
  }

  #take(bodiless: boolean): Parsed | undefined {
    const parsed = parseResponse(this.#buf, bodiless, this.#serverDone);
    if (parsed === undefined) return undefined;
    this.#buf = this.#buf.subarray(parsed.size);
    return parsed.response;
  }

  /** Resolves once the server has closed (or reset) the connection; rejects after `timeoutMs`. */
  closed(timeoutMs = 5000): Promise<void> {
    return this.#until(() => (this.#serverDone ? true : undefined), timeoutMs, 'the proxy to close the connection').then(() => undefined);
  }

  /** Bytes received that no response has taken. */
  get leftover(): string {
    return this.#buf.toString('latin1');
  }

  async #until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (this.#serverDone) throw new Error(`waiting for ${what}: the connection closed; received ${JSON.stringify(this.#all.slice(0, 600))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${JSON.stringify(this.#all.slice(0, 600))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #done(): void {
    this.#serverDone = true;
    this.#notify();
  }
}

const text = (r: Parsed): string => r.body.toString('latin1');

// --- the tests ------------------------------------------------------------------------------------

/** Every case runs against both HTTP/1.1 servers (--http1-server): Node's llhttp binding and the node:http fallback. */
const HTTP1_SERVERS = ['llhttp', 'node'] as const;

describe.each(HTTP1_SERVERS)('client protocol (HTTP/1.x over raw sockets), %s server', (server) => {
  const start = (args: readonly string[] = []): ReturnType<typeof proxied> => proxied([...args, '--http1-server', server]);

  it('answers pipelined requests, written in one write, in order on the same connection', async () => {
    const { sy, pod } = await start();
    const client = await RawClient.open(sy.ingress);
    // The first answer is the slowest: a proxy that served pipelined requests out of order would show it.
    await client.write(head('GET /echo?id=1&delay=150 HTTP/1.1', HOST) + head('GET /stream HTTP/1.1', HOST) + head('GET /echo?id=3 HTTP/1.1', HOST));

    const responses = [await client.response(), await client.response(), await client.response()];
    expect(responses.map((r) => [r.status, r.framing, text(r)])).toEqual([
      [200, 'length', 'echo 1'],
      [200, 'chunked', 'abb'],
      [200, 'length', 'echo 3'],
    ]);
    const urls = ['/echo?id=1&delay=150', '/stream', '/echo?id=3'];
    // llhttp forwards a pipelined request once the one before it is answered; node:http forwards them all at
    // once (answers still go out in order), so the pod may see them in any order.
    if (server === 'llhttp') expect(pod.requests.map((r) => r.url)).toEqual(urls);
    else expect(pod.requests.map((r) => r.url).sort()).toEqual([...urls].sort());
    expect(client.serverClosed).toBe(false);
    expect(client.leftover).toBe('');
  });

  it('sends a pod response without Content-Length to an HTTP/1.1 client chunked', async () => {
    const { sy } = await start();
    const client = await RawClient.open(sy.ingress);
    await client.write(head('GET /stream HTTP/1.1', HOST));
    const res = await client.response();
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(text(res)).toBe('abb');
    // The last chunk ended the response: the connection stays usable.
    await client.write(head('GET /text HTTP/1.1', HOST));
    expect(text(await client.response())).toBe(TEXT);
  });

  it('sends a pod response without Content-Length to an HTTP/1.0 client close-delimited, then closes', async () => {
    const { sy } = await start();
    const client = await RawClient.open(sy.ingress);
    await client.write(head('GET /stream HTTP/1.0', HOST));
    // A close-delimited body only completes when the proxy closes the connection.
    const res = await client.response();
    expect(res.framing, res.head).toBe('close');
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(res.headers['connection']).toBe('close');
    expect(text(res)).toBe('abb');
    expect(client.serverClosed).toBe(true);
  });

  it('keeps an HTTP/1.0 connection alive when the client asks and the length is known', async () => {
    const { sy, pod } = await start();
    const client = await RawClient.open(sy.ingress);
    await client.write(head('GET /text HTTP/1.0', HOST, 'Connection: keep-alive'));
    const first = await client.response();
    expect([first.status, first.framing, text(first)]).toEqual([200, 'length', TEXT]);
    expect(first.headers['connection']).toBe('keep-alive');

    // Same connection; this time without keep-alive, so the proxy closes after answering.
    await client.write(head('GET /echo?id=2 HTTP/1.0', HOST));
    const second = await client.response();
    expect([second.status, text(second)]).toEqual([200, 'echo 2']);
    expect(second.headers['connection']).toBe('close');
    await client.closed(2000);
    expect(pod.requests).toHaveLength(2);
  });

  it("answers HEAD with the pod's Content-Length and no body, and the next request on the connection is framed right", async () => {
    const { sy } = await start();
    const client = await RawClient.open(sy.ingress);
    await client.write(head('HEAD /text HTTP/1.1', HOST));
    const res = await client.response({ bodiless: true });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(TEXT.length));
    expect(res.headers['transfer-encoding']).toBeUndefined();

    await client.write(head('GET /echo?id=after-head HTTP/1.1', HOST));
    // Body bytes after the HEAD answer would be read here as the start of this response.
    const next = await client.response();
    expect([next.status, text(next)]).toEqual([200, 'echo after-head']);
  });

  it('passes a 204 on without a body or Transfer-Encoding, and the connection goes on', async () => {
    const { sy } = await start();
    const client = await RawClient.open(sy.ingress);
    await client.write(head('GET /no-content HTTP/1.1', HOST));
    const res = await client.response();
    expect(res.status).toBe(204);
    expect(res.headers['transfer-encoding']).toBeUndefined();

    await client.write(head('GET /echo?id=after-204 HTTP/1.1', HOST));
    const next = await client.response();
    expect([next.status, text(next)]).toEqual([200, 'echo after-204']);
  });

  it('answers Expect: 100-continue with 100 Continue before the body is sent, then forwards the whole body', async () => {
    const { sy, pod } = await start();
    const body = randomBytes(100_000);
    const client = await RawClient.open(sy.ingress);
    await client.write(head('POST /upload HTTP/1.1', HOST, `Content-Length: ${body.length}`, 'Expect: 100-continue'));

    const interim = await client.response();
    expect(interim.head).toMatch(/^HTTP\/1\.1 100 Continue$/);
    await client.write(body);

    const res = await client.response();
    expect(res.status, res.head).toBe(200);
    expect(JSON.parse(text(res))).toEqual({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') } satisfies Upload);
    // The proxy met the expectation itself; the pod is not asked to.
    expect(pod.requests[0]?.headers['expect']).toBeUndefined();
  });

  it.each([
    ['an Expect other than 100-continue', 417, 'expectation-failed', head('POST /upload HTTP/1.1', HOST, 'Content-Length: 5', 'Expect: something-else') + 'hello'],
    ['an HTTP/1.1 request without Host', 400, 'missing-host', head('GET /text HTTP/1.1')],
  ])('answers %s with %i, forwards nothing, and counts it neither in flight nor as a response', async (_name, status, reason, data) => {
    const { sy, pod } = await start();
    const res = await rawRequest(sy.ingress, data);
    expect(res.status, res.raw).toBe(status);
    expect(res.headers['x-switchyard-error']).toBe(reason);
    expect(pod.requests).toHaveLength(0);
    expect(pod.connections).toBe(0);
    // Refused before any handler ran, like the parser's own refusals (regression: it once counted -1 in flight).
    const metrics = (await request(sy.admin, '/metrics')).body;
    expect(sumSamples(metrics, 'switchyard_requests_in_flight')).toBe(0);
    expect(sumSamples(metrics, 'switchyard_requests_total')).toBe(0);
    // Counted apart, by the reason the client got.
    expect(sumSamples(metrics, 'switchyard_requests_refused_total', { listener: 'ingress', reason })).toBe(1);
  });

  it('still answers a client that ends its side right after sending the request (half-close)', async () => {
    const { sy } = await start();
    const size = 200_000;
    const client = await RawClient.open(sy.ingress);
    client.socket.end(head('GET /bytes?n=200000 HTTP/1.1', HOST));
    const res = await client.response();
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(size);
    expect(text(res)).toBe('x'.repeat(size));
    // Nothing more can be asked on this connection: the proxy closes its side too.
    await client.closed(2000);
  });

  it('forwards a WebSocket Upgrade request with its upgrade; a pod that answers 200 instead of 101 is passed on as an ordinary response, and the connection closes', async () => {
    const { sy, pod } = await start();
    const client = await RawClient.open(sy.ingress);
    await client.write(head('GET /echo?id=ws HTTP/1.1', HOST, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='));
    const res = await client.response();
    expect([res.status, text(res)]).toEqual([200, 'echo ws']);
    expect(res.headers['connection']).toBe('close');
    expect(res.headers['upgrade']).toBeUndefined();
    await client.closed(2000);

    expect(pod.requests).toHaveLength(1);
    const seen = pod.requests[0]!.headers;
    expect(seen['upgrade']).toBe('websocket');
    expect(seen['connection'] ?? '').toMatch(/upgrade/i);
    expect(seen['sec-websocket-key']).toBe('dGhlIHNhbXBsZSBub25jZQ==');
  });

  it('passes an early answer (413 before the body is read) to the client, and the connection does not hang', async () => {
    const { sy } = await start();
    const body = Buffer.alloc(2 * 1024 * 1024, 'u');
    const early = 64 * 1024;
    const client = await RawClient.open(sy.ingress);
    // The head and the first 64 KiB; the rest only after the answer, so the answer is early for sure.
    await client.write(head('POST /reject HTTP/1.1', HOST, `Content-Length: ${body.length}`));
    await client.write(body.subarray(0, early));
    const res = await client.response();
    expect([res.status, text(res)]).toEqual([413, 'too large']);

    // The client finishes the body it announced and asks again on the connection. Nothing may hang:
    // the proxy either closes the connection or reads (and drops) the rest of the body and answers.
    client.write(Buffer.concat([body.subarray(early), Buffer.from(head('GET /echo?id=after-413 HTTP/1.1', HOST))])).catch(() => undefined);
    const next = await client.responseOrClose({ timeoutMs: 5000 });
    if (next !== 'closed') expect([next.status, text(next)]).toEqual([200, 'echo after-413']);
  });

  it('counts an early answer once, and nothing in flight, when the client leaves before sending the rest of its body', async () => {
    const { sy } = await start();
    const client = await RawClient.open(sy.ingress);
    await client.write(head('POST /reject HTTP/1.1', HOST, 'Content-Length: 1048576'));
    await client.write(Buffer.alloc(64 * 1024, 'u'));
    const res = await client.response();
    expect(res.status).toBe(413);
    // The proxy is now reading (and dropping) the rest of the body; the client goes away instead.
    client.socket.destroy();
    // Regression: the finished response was once neither counted nor taken out of the in-flight gauge.
    const metrics = await waitFor(
      async () => {
        const body = (await request(sy.admin, '/metrics')).body;
        return sumSamples(body, 'switchyard_requests_in_flight') === 0 ? body : undefined;
      },
      { what: 'no request in flight', timeoutMs: 3000 },
    );
    expect(sumSamples(metrics, 'switchyard_requests_total', { listener: 'ingress', code: '413' })).toBe(1);
    expect(sumSamples(metrics, 'switchyard_requests_total')).toBe(1);
  });

  it('closes a keep-alive connection left idle past --client-keepalive-timeout 300ms', async () => {
    const { sy } = await start(['--client-keepalive-timeout', '300ms']);
    const client = await RawClient.open(sy.ingress);
    await client.write(head('GET /text HTTP/1.1', HOST));
    const res = await client.response();
    expect(text(res)).toBe(TEXT);
    // Kept alive: llhttp says nothing, node:http says `connection: keep-alive` (and `keep-alive: timeout=…` from 1 s up).
    expect(res.headers['connection']).toBe(server === 'node' ? 'keep-alive' : undefined);

    const idleSince = performance.now();
    await client.closed(2000);
    const idleMs = performance.now() - idleSince;
    // Not at once: the response left the connection open, the timeout closed it (the sweep runs once a second).
    expect(idleMs).toBeGreaterThanOrEqual(200);
    expect(client.leftover).toBe('');
  });

  it('hands a connection that opens with the HTTP/2 prior-knowledge preface to HTTP/2 (h2c): its first answer is a SETTINGS frame', async () => {
    const { sy, pod } = await start();
    const client = await RawClient.open(sy.ingress);
    // The preface and an empty SETTINGS frame (length 0, type 4, flags 0, stream 0).
    await client.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
    await waitFor(() => client.received.length >= 9 || undefined, { timeoutMs: 2000, what: 'the server SETTINGS frame' });
    const frame = Buffer.from(client.received, 'latin1');
    expect(frame[3], 'frame type').toBe(4);
    expect(frame.readUInt32BE(5) & 0x7fffffff, 'stream id').toBe(0);
    expect(client.received).not.toMatch(/^HTTP\/1\./);
    expect(pod.requests).toHaveLength(0);
  });

  it('recognises the HTTP/2 preface written in small pieces, and an HTTP/1.1 request whose first byte is also P', async () => {
    const { sy } = await start();
    const h2 = await RawClient.open(sy.ingress);
    const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
    for (const [from, to] of [[0, 1], [1, 5], [5, 15], [15, preface.length]] as const) {
      await h2.write(preface.subarray(from, to));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => h2.received.length >= 9 || undefined, { timeoutMs: 2000, what: 'the server SETTINGS frame' });
    expect(Buffer.from(h2.received, 'latin1')[3], 'frame type').toBe(4);

    const h1 = await RawClient.open(sy.ingress);
    const post = head('POST /echo?id=split HTTP/1.1', HOST, 'Content-Length: 0');
    await h1.write(post.slice(0, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await h1.write(post.slice(1));
    const res = await h1.response();
    expect([res.status, text(res)]).toEqual([200, 'echo split']);
  });

  it('closes a connection that sends the HTTP/2 preface after an HTTP/1.1 request, and forwards nothing more', async () => {
    const { sy, pod } = await start();
    const client = await RawClient.open(sy.ingress);
    await client.write(head('GET /echo?id=first HTTP/1.1', HOST));
    const res = await client.response();
    expect([res.status, text(res)]).toEqual([200, 'echo first']);
    await client.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    await client.closed(2000);
    expect(pod.requests).toHaveLength(1);
  });

  it('forwards a large chunked request body intact', async () => {
    const { sy } = await start();
    const chunks = [randomBytes(64 * 1024), randomBytes(64 * 1024), randomBytes(64 * 1024)];
    const whole = Buffer.concat(chunks);
    const client = await RawClient.open(sy.ingress);
    await client.write(head('POST /upload HTTP/1.1', HOST, 'Transfer-Encoding: chunked'));
    for (const chunk of chunks) await client.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    await client.write('0\r\n\r\n');

    const res = await client.response();
    expect(res.status, res.head).toBe(200);
    expect(JSON.parse(text(res))).toEqual({ bytes: whole.length, sha256: createHash('sha256').update(whole).digest('hex') } satisfies Upload);
  });
});
