/**
 * Checks made before anything is measured, so that a figure never comes from an error page, the wrong
 * certificate or a protocol that quietly fell back: each throws with what it saw. One request or call
 * each, every one bounded by a timeout.
 */
import { request as http1Request } from 'node:https';
import { connect as http2Connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { credentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { WebSocket } from 'ws';
import { echoRequestFrame, loadEchoService, SAY_MESSAGE, SAY_PATH } from './echo-service.ts';

const TIMEOUT_MS = 5000;

function withTimeout<T>(what: string, p: Promise<T>, onTimeout: () => void = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what}: no answer within ${TIMEOUT_MS / 1000} s`));
    }, TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function split(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

export interface HandshakeSeen {
  readonly protocol: string;
  readonly alpn: string;
  readonly fingerprint256: string;
  readonly group: string;
}

/** One TLS handshake (ALPN h2 and http/1.1 offered, group X25519), with or without SNI. */
export function handshake(address: string, servername: string | null): Promise<HandshakeSeen> {
  const { host, port } = split(address);
  return withTimeout(
    `TLS handshake with ${address}`,
    new Promise((resolve, reject) => {
      const socket = tlsConnect({ host, port, ...(servername === null ? {} : { servername }), rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'], ecdhCurve: 'X25519' });
      socket.once('secureConnect', () => {
        const key = socket.getEphemeralKeyInfo() as { name?: string } | null;
        resolve({ protocol: socket.getProtocol() ?? '', alpn: socket.alpnProtocol || '', fingerprint256: socket.getPeerCertificate().fingerprint256, group: key?.name ?? '' });
        socket.destroy();
      });
      socket.once('error', reject);
    }),
  );
}

/**
 * The listener serves `fingerprint256` over TLS 1.3 with ALPN h2, to a client naming `servername` and to
 * one naming none (wrk and autocannon, pointed at 127.0.0.1, get the default certificate).
 */
export async function checkTls(address: string, servername: string, fingerprint256: string): Promise<HandshakeSeen> {
  let first: HandshakeSeen | undefined;
  for (const name of [servername, null]) {
    const seen = await handshake(address, name);
    const who = `${address} (SNI ${name ?? 'none'})`;
    if (seen.fingerprint256 !== fingerprint256) throw new Error(`${who} served another certificate (${seen.fingerprint256})`);
    if (seen.protocol !== 'TLSv1.3') throw new Error(`${who} negotiated ${seen.protocol}, not TLSv1.3`);
    if (seen.alpn !== 'h2') throw new Error(`${who} chose ALPN ${JSON.stringify(seen.alpn)}, not h2`);
    first ??= seen;
  }
  return first!;
}

/** GET / over HTTP/1.1 and TLS (no ALPN offered, like wrk) with `host`: a pod's `ok …` with 200. */
export function https1Get(address: string, host: string): Promise<string> {
  const { host: ip, port } = split(address);
  return withTimeout(
    `HTTPS GET ${address}`,
    new Promise((resolve, reject) => {
      const req = http1Request({ host: ip, port, path: '/', headers: { host }, agent: false, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 && body.startsWith('ok ') ? resolve(body.trim()) : reject(new Error(`HTTPS GET ${address}: ${res.statusCode} ${JSON.stringify(body.slice(0, 200))}`))));
      });
      req.once('error', reject);
      req.end();
    }),
  );
}

function h2Exchange(session: ClientHttp2Session, headers: Record<string, string>, body: Buffer | null): Promise<{ status: number; body: Buffer; trailers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === null });
    const chunks: Buffer[] = [];
    let status = 0;
    let trailers: Record<string, unknown> = {};
    stream.once('response', (h) => (status = Number(h[h2.HTTP2_HEADER_STATUS])));
    stream.once('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve({ status, body: Buffer.concat(chunks), trailers }));
    stream.once('error', reject);
    if (body !== null) stream.end(body);
  });
}

function h2Session(address: string, tls: boolean, servername: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`${tls ? 'https' : 'http'}://${address}`, tls ? { servername, rejectUnauthorized: false, ecdhCurve: 'X25519' } : {});
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/**
 * `requests` GETs on ONE HTTP/2 connection (TLS or prior-knowledge h2c), :authority `host`; resolves to
 * the distinct pod answers seen, so a caller can check that streams are balanced across pods.
 */
export async function h2Gets(address: string, tls: boolean, host: string, requests: number): Promise<Set<string>> {
  const what = `HTTP/2 ${tls ? 'TLS' : 'h2c'} GET ${address}`;
  const session = await withTimeout(what, h2Session(address, tls, host));
  try {
    const seen = new Set<string>();
    for (let i = 0; i < requests; i++) {
      const r = await withTimeout(what, h2Exchange(session, { ':method': 'GET', ':path': '/', ':authority': host, ':scheme': tls ? 'https' : 'http' }, null));
      const text = r.body.toString('utf8');
      if (r.status !== 200 || !text.startsWith('ok ')) throw new Error(`${what}: ${r.status} ${JSON.stringify(text.slice(0, 200))}`);
      seen.add(text.trim());
    }
    return seen;
  } finally {
    session.destroy();
  }
}

/** The h2load gRPC body posted by hand over h2c: 200 and `grpc-status: 0` (in trailers or, trailers-only, in headers). */
export async function grpcFramePost(address: string, authority: string): Promise<void> {
  const what = `gRPC POST ${SAY_PATH} to ${address}`;
  const session = await withTimeout(what, h2Session(address, false, authority));
  try {
    const r = await withTimeout(
      what,
      h2Exchange(session, { ':method': 'POST', ':path': SAY_PATH, ':authority': authority, ':scheme': 'http', 'content-type': 'application/grpc', te: 'trailers' }, echoRequestFrame(SAY_MESSAGE)),
    );
    if (r.status !== 200 || String(r.trailers['grpc-status']) !== '0' || r.body.length < 5) throw new Error(`${what}: status ${r.status}, grpc-status ${String(r.trailers['grpc-status'])}, ${r.body.length} body bytes`);
  } finally {
    session.destroy();
  }
}

/** One WebSocket to `url` (Host `host`), one 64-byte binary message echoed back whole. */
export function wsEcho(url: string, host: string | null): Promise<void> {
  let ws: WebSocket | undefined;
  return withTimeout(
    `WebSocket echo via ${url}`,
    new Promise<void>((resolve, reject) => {
      const payload = Buffer.alloc(64, 0x62);
      ws = new WebSocket(url, { perMessageDeflate: false, headers: host === null ? {} : { host } });
      ws.once('open', () => ws!.send(payload, { binary: true }));
      ws.once('message', (data: Buffer) => (data.equals(payload) ? resolve() : reject(new Error(`WebSocket echo via ${url}: ${data.length} bytes back, not the 64 sent`))));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket via ${url}: HTTP ${res.statusCode} instead of 101`)));
      ws.once('error', reject);
    }).finally(() => ws?.terminate()),
    () => ws?.terminate(),
  );
}

type SayClient = Client & { Say(req: { message: string }, options: { deadline: number }, cb: (err: ServiceError | null, reply?: { message: string }) => void): unknown };

/** `calls` unary calls with @grpc/grpc-js over one channel; resolves to the distinct replies (pods) seen. */
export async function grpcSay(target: string, authority: string | null, calls: number): Promise<Set<string>> {
  const Echo = loadEchoService();
  const client = new Echo(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, ...(authority === null ? {} : { 'grpc.default_authority': authority }) }) as unknown as SayClient;
  try {
    const seen = new Set<string>();
    for (let i = 0; i < calls; i++) {
      const reply = await new Promise<string>((resolve, reject) =>
        client.Say({ message: SAY_MESSAGE }, { deadline: Date.now() + TIMEOUT_MS }, (err, r) => (err ? reject(new Error(`gRPC Say via ${target}: ${err.code} ${err.details}`)) : resolve(r?.message ?? ''))),
      );
      if (!reply.startsWith('ok ')) throw new Error(`gRPC Say via ${target}: reply ${JSON.stringify(reply)}`);
      seen.add(reply);
    }
    return seen;
  } finally {
    client.close();
  }
}
