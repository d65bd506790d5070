/** A small HTTP client for exact, one-at-a-time requests (a new connection each; no pooling surprises). */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Time to the end of the response, ms. */
  readonly ms: number;
  /** `x-pod` of the answer, or '' when Switchyard answered itself. */
  readonly pod: string;
  /** `x-switchyard-error`, or ''. */
  readonly error: string;
}

export interface RequestOptions {
  readonly host?: string;
  readonly path?: string;
  readonly method?: string;
  readonly body?: Buffer | string;
  readonly timeoutMs?: number;
}

/** One request to `address` (`host:port`). Rejects on a socket error or after `timeoutMs` (default 10 s). */
export function request(address: string, options: RequestOptions = {}): Promise<Reply> {
  const [hostname, port] = splitAddress(address);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        agent: false,
        headers: { host: options.host ?? address, ...(options.body !== undefined ? { 'content-length': Buffer.byteLength(options.body) } : {}) },
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(',') : (v ?? ''));
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
            pod: one(res.headers['x-pod']),
            error: one(res.headers['x-switchyard-error']),
          });
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`request timed out after ${options.timeoutMs ?? 10_000} ms`)));
    req.once('error', reject);
    req.end(options.body);
  });
}

/** `n` requests one after the other; the pods that answered, in order ('' for Switchyard's own answers). */
export async function sequence(address: string, n: number, options: RequestOptions = {}): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < n; i++) out.push(await request(address, options));
  return out;
}

export function tally(replies: readonly Reply[], by: (r: Reply) => string = (r) => r.pod || `switchyard:${r.status}:${r.error}`): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of replies) out[by(r)] = (out[by(r)] ?? 0) + 1;
  return out;
}

export function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}
