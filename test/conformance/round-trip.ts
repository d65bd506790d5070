/**
 * One request as the conformance suite's Go client sends it, and what came back.
 *
 * Like that client: the connection goes to the address the Ingress status shows (every host resolves
 * to it, as `curl --resolve` would), `http` to Switchyard's plaintext listener and `https` to its TLS
 * listener; the Host header is the URL's host (the status address when the URL has none); TLS sends
 * the host as SNI and accepts any certificate, recording the leaf, and whether it chains to the
 * certificates the scenario trusts, for the steps to judge. `User-Agent: Go-http-client/1.1`, no
 * Accept-Encoding (compression off), `Content-Length: 0` on POST/PUT/PATCH. A redirect is followed to
 * its scheme, host and path at the same address (as the suite does, so https redirects reach the TLS
 * listener), at most 10 times. A JSON body is read as the echo pod's account of the request.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import { canonicalHeaderName, type EchoBody } from './echo-pod.ts';

export interface CapturedRequest {
  readonly path: string;
  readonly host: string;
  readonly method: string;
  readonly proto: string;
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  readonly pod: string;
}

export interface CapturedTls {
  /** The leaf certificate the server presented. */
  readonly certificate: X509Certificate;
  /** Whether the chain verifies against the trusted certificates given (hostname not considered). */
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
  readonly servername: string | undefined;
  readonly protocol: string | null;
  readonly alpn: string | false | null;
}

export interface CapturedResponse {
  readonly statusCode: number;
  /** `HTTP/1.1`. */
  readonly proto: string;
  /** Header names in Go's canonical form; Content-Length dropped from chunked responses, as Go does. */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly body: string;
  readonly tls: CapturedTls | undefined;
  /** `METHOD scheme://host/path → status` for each redirect followed, then the final request. */
  readonly chain: readonly string[];
}

export interface Listeners {
  readonly http: number;
  /** Undefined when Switchyard runs without a TLS listener. */
  readonly https: number | undefined;
}

export interface RoundTripOptions {
  readonly method: string;
  readonly scheme: string;
  /** The URL's host ('' to use the status address). */
  readonly hostname: string;
  readonly path: string;
  /** The address the Ingress status shows. */
  readonly location: string;
  readonly listeners: Listeners;
  /** PEM certificates trusted for TLS verification (the scenario's self-signed ones). */
  readonly trusted: readonly string[];
  /** Default 10 s, the suite's client timeout. */
  readonly timeoutMs?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const MAX_REDIRECTS = 10;

/** Sends one request (following redirects); rejects on a connection or protocol error. */
export async function captureRoundTrip(options: RoundTripOptions): Promise<{ request: CapturedRequest; response: CapturedResponse }> {
  const chain: string[] = [];
  let { scheme, hostname, path } = options;
  for (let hop = 0; ; hop++) {
    const res = await once({ ...options, scheme, hostname, path });
    const described = `${options.method} ${scheme}://${hostname || options.location}/${path.replace(/^\//, '')} → ${res.statusCode}`;
    chain.push(described);
    const location = res.headers['Location']?.[0];
    if (REDIRECTS.has(res.statusCode) && location !== undefined) {
      if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects: ${chain.join(', ')}`);
      const next = new URL(location, `${scheme}://${hostname || options.location}/${path.replace(/^\//, '')}`);
      scheme = next.protocol.slice(0, -1);
      hostname = next.hostname;
      path = next.pathname;
      continue;
    }
    return { request: echoOf(res.body), response: { ...res, chain } };
  }
}

function echoOf(body: string): CapturedRequest {
  const empty: CapturedRequest = { path: '', host: '', method: '', proto: '', headers: {}, namespace: '', ingress: '', service: '', pod: '' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return empty;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return empty;
  const e = parsed as Partial<EchoBody>;
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    path: str(e.path),
    host: str(e.host),
    method: str(e.method),
    proto: str(e.proto),
    headers: typeof e.headers === 'object' && e.headers !== null ? e.headers : {},
    namespace: str(e.namespace),
    ingress: str(e.ingress),
    service: str(e.service),
    pod: str(e.pod),
  };
}

interface OneResponse {
  readonly statusCode: number;
  readonly proto: string;
  readonly headers: Record<string, string[]>;
  readonly body: string;
  readonly tls: CapturedTls | undefined;
}

function once(o: RoundTripOptions): Promise<OneResponse> {
  const https = o.scheme === 'https';
  if (!https && o.scheme !== 'http') return Promise.reject(new Error(`unsupported URL scheme ${JSON.stringify(o.scheme)}`));
  const port = https ? o.listeners.https : o.listeners.http;
  if (port === undefined) return Promise.reject(new Error('an https request, but Switchyard runs without a TLS listener (CONFORMANCE_TLS=0)'));
  const hostHeader = o.hostname || o.location;
  const headers: Record<string, string> = { Host: hostHeader, 'User-Agent': 'Go-http-client/1.1' };
  if (BODY_METHODS.has(o.method)) headers['Content-Length'] = '0';
  const target = { host: o.location, port, method: o.method, path: `/${o.path.replace(/^\//, '')}`, headers, agent: false as const, setHost: false };
  const servername = https && o.hostname !== '' && isIP(o.hostname) === 0 ? o.hostname : undefined;
  const timeoutMs = o.timeoutMs ?? 10_000;

  return new Promise<OneResponse>((resolve, reject) => {
    let tls: CapturedTls | undefined;
    const req = https
      ? httpsRequest({ ...target, ...(servername ? { servername } : {}), rejectUnauthorized: false, ...(o.trusted.length > 0 ? { ca: [...o.trusted] } : {}) })
      : httpRequest(target);
    const timer = setTimeout(() => req.destroy(new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (https) {
      req.on('socket', (socket) => {
        socket.once('secureConnect', () => {
          const s = socket as TLSSocket;
          const certificate = s.getPeerX509Certificate();
          if (!certificate) return;
          const error = s.authorizationError as unknown;
          tls = {
            certificate,
            authorized: s.authorized,
            authorizationError: error === null || error === undefined ? undefined : String(error),
            servername,
            protocol: s.getProtocol(),
            alpn: s.alpnProtocol,
          };
        });
      });
    }
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      res.on('end', () => {
        clearTimeout(timer);
        req.socket?.destroy();
        if (https && tls === undefined) return reject(new Error('the TLS handshake presented no certificate'));
        resolve({ statusCode: res.statusCode ?? 0, proto: `HTTP/${res.httpVersion}`, headers: goHeaders(res.rawHeaders), body: Buffer.concat(chunks).toString('utf8'), tls });
      });
    });
    req.end();
  });
}

/** Response headers as Go's client shows them: canonical names, every value, no Content-Length when chunked. */
function goHeaders(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let k = 0; k < raw.length; k += 2) (out[canonicalHeaderName(raw[k]!)] ??= []).push(raw[k + 1]!);
  if (out['Transfer-Encoding']?.some((v) => v.toLowerCase().includes('chunked'))) delete out['Content-Length'];
  return out;
}
