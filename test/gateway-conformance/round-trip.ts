/**
 * Sends one table row's request as the suite's DefaultRoundTripper does (Go's net/http client with keep-
 * alives off: `User-Agent: Go-http-client/1.1`, `Accept-Encoding: gzip`, `Connection: close`, header
 * names in Go's canonical form, the `X-Echo-Set-Header` MakeRequest always adds, redirects followed
 * unless UnfollowRedirect) and captures the response and, when the body is echo JSON, what the pod saw.
 */
import { request as httpRequest } from 'node:http';
import { connect as h2connect, constants as h2 } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { canonicalHeaderName } from '../conformance/echo-pod.ts';
import type { CaseRequest } from './expected.ts';

export interface CapturedRequest {
  readonly path: string;
  readonly host: string;
  readonly method: string;
  readonly headers: Record<string, string[]>;
  readonly httpPort: string;
  readonly namespace: string;
  readonly pod: string;
}

export interface CapturedResponse {
  readonly statusCode: number;
  /** Lower-case names; repeated headers kept as separate values (as Go's Header). */
  readonly headers: Record<string, string[]>;
  readonly redirect: { readonly scheme: string; readonly host: string; readonly port: string; readonly path: string } | undefined;
  readonly body: string;
}

export interface RoundTrip {
  /** The request as sent (the last one, after redirects). */
  readonly sent: { readonly method: string; readonly host: string; readonly target: string; readonly headers: Record<string, string> };
  readonly captured: CapturedRequest | undefined;
  readonly response: CapturedResponse;
}

interface Raw {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

/** How a TLS row is sent: the SNI name, the certificate the client trusts (the suite's serverCertPem), HTTP/2 or not. */
export interface TlsOptions {
  readonly serverName: string;
  readonly ca: string;
  readonly h2: boolean;
}

function finish(status: number, out: Record<string, string[]>, chunks: Buffer[]): Raw {
  let buf = Buffer.concat(chunks);
  // Go's transport asks for gzip itself and then hides it: decoded body, no Content-Encoding/Length.
  if (out['content-encoding']?.[0] === 'gzip') {
    buf = gunzipSync(buf);
    delete out['content-encoding'];
    delete out['content-length'];
  }
  return { status, headers: out, body: buf.toString('utf8') };
}

/**
 * Go's crypto/x509 VerifyHostname for DNS names: exact, or `*` as the whole leftmost label standing for exactly
 * one label, with no minimum label count (Go takes the suite's `*.org`, which Node's own check refuses).
 */
export function goCheckServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const names = (cert.subjectaltname ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4).toLowerCase());
  const want = host.toLowerCase().replace(/\.$/, '');
  const labels = want.split('.');
  for (const name of names) {
    if (name === want) return undefined;
    const parts = name.split('.');
    if (parts[0] === '*' && parts.length > 1 && parts.length === labels.length && parts.slice(1).join('.') === labels.slice(1).join('.') && labels[0] !== '') return undefined;
  }
  return new Error(`x509: certificate is valid for ${names.join(', ')}, not ${host}`);
}

// Go's http2.Transport: TLS with ALPN h2, the Host as :authority, one stream per connection here.
function onceH2(port: number, method: string, target: string, headers: Record<string, string>, body: string, timeoutMs: number, tls: TlsOptions): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, { servername: tls.serverName, ca: tls.ca, ALPNProtocols: ['h2'], checkServerIdentity: goCheckServerIdentity });
    const fail = (err: Error): void => {
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    const { Host: host, Connection: _c, 'User-Agent': _ua, ...rest } = headers;
    const req = session.request({ [h2.HTTP2_HEADER_METHOD]: method, [h2.HTTP2_HEADER_PATH]: target, [h2.HTTP2_HEADER_AUTHORITY]: host ?? '', [h2.HTTP2_HEADER_SCHEME]: 'https', ...rest, 'user-agent': 'Go-http-client/2.0' });
    req.setTimeout(timeoutMs, () => fail(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', fail);
    let status = 0;
    const out: Record<string, string[]> = {};
    req.on('response', (h) => {
      status = Number(h[h2.HTTP2_HEADER_STATUS]);
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = Array.isArray(v) ? v : [String(v)];
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve(finish(status, out, chunks));
    });
    req.end(body === '' ? undefined : body);
  });
}

function once(port: number, method: string, target: string, headers: Record<string, string>, body: string, timeoutMs: number, tls?: TlsOptions): Promise<Raw> {
  if (tls?.h2) return onceH2(port, method, target, headers, body, timeoutMs, tls);
  return new Promise((resolve, reject) => {
    const options: import('node:https').RequestOptions = { host: '127.0.0.1', port, method, path: target, headers, agent: false, setHost: false };
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const out: Record<string, string[]> = {};
        for (let k = 0; k < res.rawHeaders.length; k += 2) (out[res.rawHeaders[k]!.toLowerCase()] ??= []).push(res.rawHeaders[k + 1]!);
        resolve(finish(res.statusCode ?? 0, out, chunks));
      });
    };
    // Go's http.Transport with a TLS config of its own speaks HTTP/1.1 (no ALPN h2) and verifies the name against the SNI.
    const req = tls === undefined ? httpRequest(options, onResponse) : httpsRequest({ ...options, servername: tls.serverName, ca: tls.ca, checkServerIdentity: goCheckServerIdentity } as import('node:https').RequestOptions, onResponse);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body === '' ? undefined : body);
  });
}

const REDIRECTS = new Set([300, 301, 302, 303, 304, 305, 307, 308]);

/** Go's url.URL.Hostname()/Port() of a Location, resolved against the request URL. */
function parseLocation(location: string, base: string): URL {
  return new URL(location, base);
}

/**
 * Sends `r` to 127.0.0.1:`port` with Host `defaultHost` unless the row names one.
 * `defaultHost` is what Go would put in Host for the Gateway's address (no port for 80).
 */
export async function roundTrip(port: number, r: CaseRequest, defaultHost: string, echoSetHeaders: Readonly<Record<string, string>> = {}, timeoutMs = 10_000, tls?: TlsOptions): Promise<RoundTrip> {
  let method = r.method;
  let host = r.host !== '' ? r.host : defaultHost;
  let target = r.path === '' ? '/' : r.path;
  const headers: Record<string, string> = { 'User-Agent': 'Go-http-client/1.1' };
  for (const [name, value] of Object.entries(r.headers)) headers[canonicalHeaderName(name)] = value;
  // MakeRequest always sets it, from BackendSetResponseHeaders (empty when the row has none).
  headers['X-Echo-Set-Header'] = Object.entries(echoSetHeaders).map(([k, v]) => `${k}:${v}`).join(',');
  let body = r.body;
  for (let hop = 0; ; hop++) {
    const sent = { Host: host, ...headers, ...(body !== '' ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}), 'Accept-Encoding': 'gzip', Connection: 'close' };
    const raw = await once(port, method, target, sent, body, timeoutMs, tls);
    const location = raw.headers['location']?.[0];
    let redirect: CapturedResponse['redirect'];
    if (REDIRECTS.has(raw.status)) {
      if (location === undefined) throw new Error(`${raw.status} without a Location header`);
      // Go resolves a relative Location against the request URL, whose host is the Gateway's address.
      const u = parseLocation(location, `${tls ? 'https' : 'http'}://${defaultHost}${target}`);
      redirect = { scheme: u.protocol.replace(/:$/, ''), host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: decodeURIComponent(u.pathname) };
      if (!r.unfollowRedirect && hop < 10) {
        // Go follows to the Location; every host resolves to the Gateway here (as with curl --resolve).
        if (raw.status === 301 || raw.status === 302 || raw.status === 303) {
          if (method !== 'GET' && method !== 'HEAD') method = 'GET';
          body = '';
        }
        host = u.port === '' ? u.hostname : `${u.hostname}:${u.port}`;
        target = `${u.pathname}${u.search}`;
        continue;
      }
    }
    const response: CapturedResponse = { statusCode: raw.status, headers: raw.headers, redirect, body: raw.body };
    let captured: CapturedRequest | undefined;
    if (raw.headers['content-type']?.[0] === 'application/json') {
      try {
        captured = JSON.parse(raw.body) as CapturedRequest;
      } catch (err) {
        throw new Error(`unexpected error reading response: ${(err as Error).message}`);
      }
    }
    return { sent: { method, host, target, headers: sent }, captured, response };
  }
}
