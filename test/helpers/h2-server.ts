/**
 * A standalone HTTP/2 server built from createHttp2Sessions (src/dataplane/h2/), for tests of the
 * HTTP/2 server side without the CLI: each exchange goes to a test handler that answers through the
 * HttpExchange API, and every serve/done is recorded so a test can check the accounting.
 *
 * Modes: `handoff` reads the first chunk, puts it back (unshift) and hands the socket over, as the
 * plaintext HTTP/1.1 listener does for h2c with prior knowledge; `direct` hands the socket over before
 * any byte is read; `tls` terminates TLS with ALPN h2 and hands over the TLS socket.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { createRootLogger } from '../../src/log.ts';
import type { BodySink, HttpExchange } from '../../src/dataplane/exchange.ts';
import { createHttp2Sessions, type Http2Options, type Http2Sessions } from '../../src/dataplane/h2/h2-sessions.ts';
import { defer } from './cleanup.ts';

export type H2Handler = (exchange: HttpExchange) => void;

export interface H2TestServer {
  readonly port: number;
  readonly sessions: Http2Sessions;
  /** Every exchange served, in order. */
  readonly served: HttpExchange[];
  /** Every done() call, in order. */
  readonly done: { exchange: HttpExchange; finished: boolean }[];
  /** Sockets accepted by the listener. */
  readonly sockets: Socket[];
  handler: H2Handler;
  /** What the host reports as `draining`. */
  draining: boolean;
  /** done() calls for `exchange`. */
  doneCount(exchange: HttpExchange): number;
}

export const DEFAULT_OPTIONS: Http2Options = { maxConcurrentStreams: 100, maxHeaderListSize: 16 * 1024, idleTimeoutMs: 5000, headerTimeoutMs: 5000 };

let certificate: { key: Buffer; cert: Buffer } | undefined;

/** A self-signed ECDSA certificate for localhost, made once per test file with the openssl CLI. */
export function testCertificate(): { key: Buffer; cert: Buffer } {
  if (certificate !== undefined) return certificate;
  const dir = mkdtempSync(join(tmpdir(), 'swy-h2-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    certificate = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return certificate;
}

const PREFACE_START = Buffer.from('PRI * HTTP/2.0\r\n', 'latin1');

/** Starts the server on 127.0.0.1:0; it and every socket it accepted are closed by cleanupAll(). */
export async function startH2Server(handler: H2Handler, options: Partial<Http2Options> = {}, mode: 'handoff' | 'direct' | 'tls' = 'handoff'): Promise<H2TestServer> {
  const served: HttpExchange[] = [];
  const done: { exchange: HttpExchange; finished: boolean }[] = [];
  const sockets: Socket[] = [];
  let sessions!: Http2Sessions;
  const state: H2TestServer = {
    port: 0,
    get sessions() {
      return sessions;
    },
    served,
    done,
    sockets,
    handler,
    draining: false,
    doneCount: (exchange) => done.filter((d) => d.exchange === exchange).length,
  };
  sessions = createHttp2Sessions({ ...DEFAULT_OPTIONS, ...options }, {
    serve(exchange) {
      served.push(exchange);
      state.handler(exchange);
    },
    done(exchange, finished) {
      done.push({ exchange, finished });
    },
    get draining() {
      return state.draining;
    },
  }, createRootLogger(process.env.SWY_TEST_LOG === '1' ? 'debug' : 'silent'));

  let server: Server;
  if (mode === 'tls') {
    server = createTlsServer({ ...testCertificate(), ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => {
      sockets.push(socket);
      if (socket.alpnProtocol === 'h2') sessions.accept(socket, 'https');
      else socket.destroy();
    });
  } else {
    server = createNetServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      sockets.push(socket);
      if (mode === 'direct') return sessions.accept(socket, 'http');
      socket.once('data', (first: Buffer) => {
        socket.pause();
        socket.unshift(first);
        if (first.length >= PREFACE_START.length && first.subarray(0, PREFACE_START.length).equals(PREFACE_START)) sessions.accept(socket, 'http');
        else socket.destroy();
      });
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { port: number }).port = (server.address() as { port: number }).port;
  defer(async () => {
    sessions.destroyAll();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}

/** Answers 200 and echoes the request body back with backpressure both ways. */
export const echoHandler: H2Handler = (exchange) => {
  exchange.writeHead(200, ['content-type', 'application/octet-stream', 'x-method', exchange.method, 'x-url', exchange.url, 'x-host', exchange.host ?? '']);
  const sink: BodySink = {
    onData(chunk) {
      if (exchange.write(chunk)) return true;
      exchange.onceDrain(() => exchange.resumeBody());
      return false;
    },
    onEnd: () => exchange.end(),
    onError: () => {},
  };
  exchange.readBody(sink);
};

/** Answers `status` with a short text body. */
export function textHandler(body = 'ok', status = 200, headers: readonly string[] = []): H2Handler {
  return (exchange) => {
    const bytes = Buffer.from(body);
    exchange.writeHead(status, ['content-type', 'text/plain', 'content-length', String(bytes.length), ...headers]);
    exchange.write(bytes);
    exchange.end();
  };
}

/** A node:http2 client session to `authority` (http://… for h2c with prior knowledge, https://… with ALPN); destroyed by cleanupAll(). */
export async function h2connect(authority: string, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  const session = connect(authority, { rejectUnauthorized: false, ...options });
  defer(() => session.destroy());
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return session;
}

export interface H2Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Flags of the response HEADERS frame (END_STREAM = 1: a headers-only answer). */
  readonly flags: number;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders | undefined;
}

/** One request on `session`; resolves with the whole response, rejects on a stream error (RST_STREAM). */
export function h2request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let head: { headers: IncomingHttpHeaders; flags: number } | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h, flags) => {
      head = { headers: h, flags };
    });
    stream.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => {
      if (head === undefined) reject(new Error(`stream closed without a response (rstCode ${stream.rstCode})`));
      else if (stream.rstCode !== 0) reject(new Error(`stream reset with code ${stream.rstCode}`));
      else resolve({ status: Number(head.headers[':status']), headers: head.headers, flags: head.flags, body: Buffer.concat(chunks), trailers });
    });
    if (body !== undefined) stream.end(body);
  });
}
