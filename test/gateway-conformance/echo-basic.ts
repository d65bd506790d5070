/**
 * The Gateway API suite's echo-basic backend as a local "pod": an HTTP server on 127.0.0.1 (port 0)
 * answering what the suite's checks read (its RequestAssertions JSON): `path` (the request target as
 * received, query included), `host`, `method`, `proto`, `headers` (Go's canonical names, Host left out),
 * `httpPort`, `namespace`, `ingress`, `service`, `pod`. Like echo-basic it waits `?delay=<Go duration>`
 * before answering (the timeout tests), answers `/health` with OK and `/status/NNN` with that status, and
 * sets the response headers listed in `X-Echo-Set-Header` (`Name:value,Name2:value2`). Every request is
 * recorded (the mirror checks read the log as the suite reads the pod's log).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalHeaderName } from '../conformance/echo-pod.ts';

export interface EchoBasicContext {
  readonly namespace: string;
  readonly pod: string;
  /** echo-basic's HTTP_PORT (the container port), reported as `httpPort`; default "3000". */
  readonly httpPort?: string;
}

export interface EchoBasicPod {
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
  /** Request targets received, in order. */
  readonly received: string[];
  close(): Promise<void>;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration (`1s`, `500ms`, `1m30s`) in milliseconds; undefined if it is not one. */
export function goDurationMs(text: string): number | undefined {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
}

/** Starts one echo-basic pod on 127.0.0.1, port 0. */
export async function startEchoBasic(context: EchoBasicContext): Promise<EchoBasicPod> {
  const received: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const target = req.url ?? '';
    received.push(target);
    const pathOnly = target.split('?')[0]!;
    req.resume();
    req.on('end', () => {
      if (pathOnly === '/health') {
        res.writeHead(200, { 'Content-Length': 2 }).end('OK');
        return;
      }
      const status = /^\/status\/(\d\d\d)$/.exec(target);
      if (pathOnly.startsWith('/status/')) {
        res.writeHead(status ? Number(status[1]) : 400, { 'Content-Length': 0 }).end();
        return;
      }
      const delay = new URLSearchParams(target.includes('?') ? target.slice(target.indexOf('?') + 1) : '').get('delay');
      const answer = (): void => {
        const headers: Record<string, string[]> = {};
        for (let k = 0; k < req.rawHeaders.length; k += 2) {
          const name = canonicalHeaderName(req.rawHeaders[k]!);
          if (name === 'Host') continue;
          (headers[name] ??= []).push(req.rawHeaders[k + 1]!);
        }
        const body = JSON.stringify(
          { path: target, host: req.headers.host ?? '', method: req.method ?? '', proto: `HTTP/${req.httpVersion}`, headers, httpPort: context.httpPort ?? '3000', namespace: context.namespace, ingress: '', service: '', pod: context.pod },
          null,
          ' ',
        );
        const out: Record<string, string> = {};
        for (const list of headers['X-Echo-Set-Header'] ?? []) {
          for (const kv of list.split(',')) {
            const trimmed = kv.trim();
            const colon = trimmed.indexOf(':');
            const name = colon < 0 ? trimmed : trimmed.slice(0, colon);
            const value = colon < 0 ? '' : trimmed.slice(colon + 1);
            if (name === '') continue;
            out[name] = out[name] === undefined ? value : `${out[name]},${value.trim()}`;
          }
        }
        res.writeHead(200, { ...out, 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      };
      const ms = delay === null ? 0 : goDurationMs(delay);
      if (ms === undefined) {
        res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: `time: invalid duration "${delay}"` }));
      } else if (ms > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer();
        }, ms);
        timers.add(timer);
      } else {
        answer();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    name: context.pod,
    namespace: context.namespace,
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
