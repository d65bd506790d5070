/**
 * Loopback helpers: a free port to hand a child that cannot report the one it picked, and a plain GET
 * for readiness probes and preflights (its own connection each time: no pooling to hide a dead server).
 */
import { createServer } from 'node:net';
import { request } from 'node:http';

/** A port that was free on `host` a moment ago (the kernel hands out ports in sequence, so reuse is unlikely). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`no free port on ${host}`))));
    });
  });
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

export function httpGet(url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

/** A readiness probe: true once `url` answers 200 (with `headers`), undefined until then. */
export function answers200(url: string, headers: Record<string, string> = {}): () => Promise<true | undefined> {
  return async () => ((await httpGet(url, headers, 1000)).status === 200 ? true : undefined);
}
