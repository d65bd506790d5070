/**
 * HTTP/2 "pods" for upstream tests: an h2c server (prior knowledge), an HTTPS server offering h2 by ALPN
 * (and optionally HTTP/1.1), an HTTPS server offering HTTP/1.1 only; a test PKI made with openssl (a CA,
 * a pod certificate it signed for 127.0.0.1, and an unrelated CA); and a dispatcher-handler collector for
 * driving upstream pools directly. Everything is closed by cleanupAll().
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import {
  createSecureServer,
  createServer as createH2cServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type Settings,
} from 'node:http2';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { defer } from './cleanup.ts';

export interface Pki {
  readonly caPem: string;
  /** Certificate (for IP 127.0.0.1 and `pod.test`) signed by `caPem`. */
  readonly certPem: string;
  readonly keyPem: string;
  /** A CA that signed nothing here. */
  readonly otherCaPem: string;
  /** A self-signed certificate and its key (no CA). */
  readonly selfSignedCertPem: string;
  readonly selfSignedKeyPem: string;
}

let pki: Pki | undefined;

/** The test PKI, made once per test file with openssl (EC P-256: fast). */
export function testPki(): Pki {
  if (pki !== undefined) return pki;
  const dir = mkdtempSync(join(tmpdir(), 'swy-pki-'));
  try {
    const ssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=switchyard test CA');
    ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=unrelated test CA');
    ssl('req', ...ec, '-keyout', 'pod.key', '-out', 'pod.csr', '-subj', '/CN=pod.test');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:pod.test\n');
    ssl('x509', '-req', '-in', 'pod.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'pod.crt', '-days', '2', '-extfile', 'ext.cnf');
    ssl('req', '-x509', ...ec, '-keyout', 'self.key', '-out', 'self.crt', '-days', '2', '-subj', '/CN=self-signed pod', '-addext', 'subjectAltName=IP:127.0.0.1');
    const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
    pki = {
      caPem: read('ca.crt'),
      certPem: read('pod.crt'),
      keyPem: read('pod.key'),
      otherCaPem: read('other.crt'),
      selfSignedCertPem: read('self.crt'),
      selfSignedKeyPem: read('self.key'),
    };
    return pki;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, pod: H2Pod) => void;

export interface H2Pod {
  readonly host: string;
  readonly port: number;
  /** `host:port`: the endpoint key. */
  readonly key: string;
  /** HTTP/2 sessions accepted. */
  sessions: number;
  /** TLS handshakes completed (secure pods). */
  handshakes: number;
  /** Streams received, with their headers. */
  readonly streams: IncomingHttpHeaders[];
  /** Streams open now, and the most open at once on any one session. */
  open: number;
  maxOpenPerSession: number;
  /** Streams the client cancelled (RST_STREAM CANCEL) before the pod ended them. */
  cancelled: number;
  /** Server sessions currently open. */
  readonly live: Set<ServerHttp2Session>;
  close(): Promise<void>;
}

export interface H2PodOptions {
  readonly host?: string;
  readonly port?: number;
  readonly handler: StreamHandler;
  /** Our SETTINGS (e.g. maxConcurrentStreams). */
  readonly settings?: Settings;
  /** TLS: serve over h2 by ALPN with this certificate. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string; readonly allowHTTP1?: boolean };
}

/** An HTTP/2 pod: h2c with prior knowledge, or TLS with ALPN h2 (and http/1.1 when `allowHTTP1`). */
export async function startH2Pod(options: H2PodOptions): Promise<H2Pod> {
  const host = options.host ?? '127.0.0.1';
  const server: Http2Server | Http2SecureServer =
    options.tls === undefined
      ? createH2cServer({ ...(options.settings ? { settings: options.settings } : {}) })
      : createSecureServer({ cert: options.tls.certPem, key: options.tls.keyPem, allowHTTP1: options.tls.allowHTTP1 ?? false, ...(options.settings ? { settings: options.settings } : {}) });
  const sockets = new Set<Socket>();
  const pod: H2Pod = {
    host,
    port: 0,
    key: '',
    sessions: 0,
    handshakes: 0,
    streams: [],
    open: 0,
    maxOpenPerSession: 0,
    cancelled: 0,
    live: new Set(),
    close: async () => {
      for (const s of pod.live) s.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('secureConnection', () => pod.handshakes++);
  server.on('session', (session: ServerHttp2Session) => {
    pod.sessions++;
    pod.live.add(session);
    let openHere = 0;
    session.on('close', () => pod.live.delete(session));
    session.on('stream', (stream: ServerHttp2Stream) => {
      pod.open++;
      openHere++;
      pod.maxOpenPerSession = Math.max(pod.maxOpenPerSession, openHere);
      stream.on('close', () => {
        pod.open--;
        openHere--;
        if (stream.rstCode === 8 /* CANCEL */) pod.cancelled++;
      });
    });
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    pod.streams.push(headers);
    stream.on('error', () => undefined);
    options.handler(stream, headers, pod);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  Object.assign(pod, { port, key: `${host}:${port}` });
  defer(() => pod.close());
  return pod;
}

/** An HTTPS pod that speaks HTTP/1.1 only (ALPN http/1.1, or none with `noAlpn`); answers JSON with what it saw. */
export async function startHttpsPod(tls: { certPem: string; keyPem: string }, options: { noAlpn?: boolean } = {}): Promise<{ key: string; port: number; handshakes: () => number; requests: { httpVersion: string; url: string }[] }> {
  const requests: { httpVersion: string; url: string }[] = [];
  let handshakes = 0;
  const server: HttpsServer = createHttpsServer({ cert: tls.certPem, key: tls.keyPem, ...(options.noAlpn ? {} : { ALPNProtocols: ['http/1.1'] }) }, (req, res) => {
    requests.push({ httpVersion: req.httpVersion, url: req.url ?? '' });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-pod': 'https-h1' });
      res.end(JSON.stringify({ httpVersion: req.httpVersion, url: req.url, host: req.headers.host }));
    });
  });
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  defer(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { key: `127.0.0.1:${port}`, port, handshakes: () => handshakes, requests };
}

/** What a handler saw of one dispatched request. */
export interface Collected {
  /** onConnect was called (the proxy's "something may have been written"). */
  connected: boolean;
  status: number;
  headers: Record<string, string[]>;
  body: Buffer;
  /** Trailers as undici hands them: raw [name, value, …] Buffers; null when none. */
  trailers: Buffer[] | null;
  error: (Error & { code?: string }) | undefined;
}

export interface CollectOptions {
  /** Return false from onData for the first N chunks, resuming after `resumeAfterMs`. */
  readonly pauseChunks?: number;
  readonly resumeAfterMs?: number;
  /** Called with the abort function onConnect hands over. */
  readonly onConnect?: (abort: (err?: Error) => void) => void;
  readonly onHeaders?: () => void;
}

/** Dispatches on `pool` with undici's handler interface and resolves once onComplete or onError ran. */
export function collect(pool: { dispatch(o: Dispatcher.DispatchOptions, h: Dispatcher.DispatchHandler): void }, options: Dispatcher.DispatchOptions, opts: CollectOptions = {}): Promise<Collected> {
  return new Promise((resolve) => {
    const out: Collected = { connected: false, status: 0, headers: {}, body: Buffer.alloc(0), trailers: null, error: undefined };
    const chunks: Buffer[] = [];
    let paused = 0;
    let resume: (() => void) | undefined;
    let settled = false;
    const settle = (): void => {
      if (settled) throw new Error('handler settled twice');
      settled = true;
      out.body = Buffer.concat(chunks);
      resolve(out);
    };
    const handler: Dispatcher.DispatchHandler = {
      onConnect: (abort: (err?: Error) => void) => {
        out.connected = true;
        opts.onConnect?.(abort);
      },
      onHeaders: (status: number, raw: Buffer[], r: () => void) => {
        out.status = status;
        resume = r;
        for (let i = 0; i < raw.length; i += 2) (out.headers[raw[i]!.toString('latin1').toLowerCase()] ??= []).push(raw[i + 1]!.toString('latin1'));
        opts.onHeaders?.();
        return true;
      },
      onData: (chunk: Buffer) => {
        chunks.push(chunk);
        if (opts.pauseChunks !== undefined && paused < opts.pauseChunks) {
          paused++;
          setTimeout(() => resume!(), opts.resumeAfterMs ?? 10);
          return false;
        }
        return true;
      },
      onComplete: (trailers: unknown) => {
        out.trailers = trailers as Buffer[] | null;
        settle();
      },
      onError: (err: Error) => {
        out.error = err;
        settle();
      },
    };
    pool.dispatch(options, handler);
  });
}

/** Raw [name, value, …] Buffers as a name → values record. */
export function fieldsOf(raw: readonly Buffer[] | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === null) return out;
  for (let i = 0; i < raw.length; i += 2) out[raw[i]!.toString('latin1')] = raw[i + 1]!.toString('latin1');
  return out;
}
