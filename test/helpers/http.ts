/**
 * HTTP clients for tests: node:http with an explicit Host header (no keep-alive reuse between
 * requests, so nothing outlives a test), and a raw socket (node:net) for requests no well-behaved
 * client would send.
 */
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';
import { defer } from './cleanup.ts';
import type { HostPort } from './switchyard.ts';

export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: string;
  json<T = unknown>(): T;
}

export interface RequestOptions {
  readonly method?: string;
  /** Sent as the Host header; default the target's host:port. */
  readonly host?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  /** Give up after this long; default 10 s. */
  readonly timeoutMs?: number;
}

/** One request on its own connection; resolves with the whole response. */
export function request(target: HostPort, path: string, options: RequestOptions = {}): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const headers: OutgoingHttpHeaders = { ...(options.headers ?? {}) };
    headers['host'] = options.host ?? `${target.host}:${target.port}`;
    const req = httpRequest({ host: target.host, port: target.port, path, method: options.method ?? 'GET', headers, agent: false });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`request ${path} timed out`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        // Nothing is reused: close the connection now rather than leave it to the server's keep-alive timeout.
        req.socket?.destroy();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body,
          json<T>() {
            return JSON.parse(body) as T;
          },
        });
      });
    });
    req.end(options.body);
  });
}

/** A GET through the proxy for `host` + `path`. */
export function get(target: HostPort, host: string, path: string, headers: OutgoingHttpHeaders = {}): Promise<Response> {
  return request(target, path, { host, headers });
}

/** GET of a JSON document (the admin API). */
export async function getJson<T = unknown>(target: HostPort, path: string): Promise<{ status: number; body: T }> {
  const res = await request(target, path);
  return { status: res.status, body: res.json<T>() };
}

export interface StreamedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable;
}

/** A request whose body is a stream (sent chunked) and whose response body is handed over as a stream. */
export function streamRequest(target: HostPort, path: string, options: { method?: string; host: string; body?: Readable; timeoutMs?: number }): Promise<StreamedResponse> {
  return new Promise<StreamedResponse>((resolve, reject) => {
    const req = httpRequest({ host: target.host, port: target.port, path, method: options.method ?? 'GET', headers: { host: options.host }, agent: false });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`request ${path} timed out`)));
    defer(() => req.destroy());
    req.on('error', reject);
    req.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
    if (options.body) {
      options.body.on('error', (err) => req.destroy(err));
      options.body.pipe(req);
    } else {
      req.end();
    }
  });
}

export interface RawResponse {
  /** Everything received until the server closed the connection. */
  readonly raw: string;
  readonly status: number | undefined;
  /** Header fields of the first response, names lower-cased. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Writes `data` on a fresh TCP connection in one write and reads until the server closes it (or the
 * deadline). For requests a well-behaved client library refuses to send.
 */
export function rawRequest(target: HostPort, data: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    defer(() => socket.destroy());
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      if (err && raw === '') return reject(err);
      resolve(parseRawResponse(raw));
    };
    const timer = setTimeout(() => finish(new Error(`raw request: no close within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(data));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // A reset after the answer arrived is fine (the server closed while we were still writing).
    socket.on('error', (err) => finish(err));
  });
}

function parseRawResponse(raw: string): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? raw : raw.slice(0, headEnd);
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { raw, status: m ? Number(m[1]) : undefined, headers, body: headEnd < 0 ? '' : raw.slice(headEnd + 4) };
}

/** Tries a TCP connection; resolves with the error code (e.g. 'ECONNREFUSED') or 'connected'. */
export function tryConnect(target: HostPort, timeoutMs = 2000): Promise<string> {
  return new Promise<string>((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.on('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? err.message);
    });
  });
}
