/**
 * Sends one table row's request as the suite's DefaultRoundTripper does (Go's net/http client with keep-
 * alives off: `User-Agent: Go-http-client/1.1`, `Accept-Encoding: gzip`, `Connection: close`, header
 * names in Go's canonical form, the `X-Echo-Set-Header` MakeRequest always adds, redirects followed
 * unless UnfollowRedirect) and captures the response and, when the body is echo JSON, what the pod saw.
 */
import { request as httpRequest } from 'node:http';
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

function once(port: number, method: string, target: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path: target, headers, agent: false, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const out: Record<string, string[]> = {};
        for (let k = 0; k < res.rawHeaders.length; k += 2) (out[res.rawHeaders[k]!.toLowerCase()] ??= []).push(res.rawHeaders[k + 1]!);
        let buf = Buffer.concat(chunks);
        // Go's transport asks for gzip itself and then hides it: decoded body, no Content-Encoding/Length.
        if (out['content-encoding']?.[0] === 'gzip') {
          buf = gunzipSync(buf);
          delete out['content-encoding'];
          delete out['content-length'];
        }
        resolve({ status: res.statusCode ?? 0, headers: out, body: buf.toString('utf8') });
      });
    });
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
export async function roundTrip(port: number, r: CaseRequest, defaultHost: string, echoSetHeaders: Readonly<Record<string, string>> = {}, timeoutMs = 10_000): Promise<RoundTrip> {
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
    const raw = await once(port, method, target, sent, body, timeoutMs);
    const location = raw.headers['location']?.[0];
    let redirect: CapturedResponse['redirect'];
    if (REDIRECTS.has(raw.status)) {
      if (location === undefined) throw new Error(`${raw.status} without a Location header`);
      // Go resolves a relative Location against the request URL, whose host is the Gateway's address.
      const u = parseLocation(location, `http://${defaultHost}${target}`);
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
