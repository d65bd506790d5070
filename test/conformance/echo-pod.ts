/**
 * The conformance suite's echo server, as a local "pod": an HTTP server on 127.0.0.1 (port 0) that
 * answers every request with a JSON account of what it received, which the steps then check.
 *
 * The shape follows the suite's echoserver image (its JSON field names are the interface the steps
 * read): `path` is the request target as received, `host` the Host header, `method`, `proto`
 * (`HTTP/1.1`), `headers` (names in Go's canonical form, values as lists, Host left out as Go does),
 * and the pod's context `namespace`, `ingress`, `service`, `pod`. Like that server it sets
 * Content-Type, X-Content-Type-Options, Content-Length and Date but no Server header, so a Server header
 * in the response can only come from the proxy. `/health` answers `OK` as the image's probe path does.
 * It speaks plain HTTP only, as the suite deploys it, so the `tls` field is never present.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoContext {
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  readonly pod: string;
}

/** What the echo pod answers with (and the runner reads back). */
export interface EchoBody extends EchoContext {
  readonly path: string;
  readonly host: string;
  readonly method: string;
  readonly proto: string;
  readonly headers: Record<string, string[]>;
}

export interface EchoPod {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Requests answered so far. */
  readonly served: () => number;
  close(): Promise<void>;
}

/** `user-agent` → `User-Agent`, as Go's textproto.CanonicalMIMEHeaderKey writes header names. */
export function canonicalHeaderName(name: string): string {
  // Go leaves a name with a character outside the token set as it is.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return name;
  return name
    .toLowerCase()
    .split('-')
    .map((part) => (part === '' ? '' : part[0]!.toUpperCase() + part.slice(1)))
    .join('-');
}

function echo(req: IncomingMessage, res: ServerResponse, context: EchoContext): void {
  const headers: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let k = 0; k < raw.length; k += 2) {
    const name = canonicalHeaderName(raw[k]!);
    if (name === 'Host') continue;
    (headers[name] ??= []).push(raw[k + 1]!);
  }
  const body: EchoBody = {
    path: req.url ?? '',
    host: req.headers.host ?? '',
    method: req.method ?? '',
    proto: `HTTP/${req.httpVersion}`,
    headers,
    ...context,
  };
  const text = JSON.stringify(body, null, ' ');
  res.writeHead(200, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts one echo pod on 127.0.0.1, port 0. */
export async function startEchoPod(context: EchoContext): Promise<EchoPod> {
  let served = 0;
  const server = createServer((req, res) => {
    // Read the body (the suite sends none) so the connection can be reused.
    req.resume();
    req.on('end', () => {
      served++;
      if ((req.url ?? '').split('?')[0] === '/health') {
        res.writeHead(200, { 'Content-Length': 2 });
        res.end('OK');
        return;
      }
      echo(req, res, context);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    name: context.pod,
    host: '127.0.0.1',
    port,
    served: () => served,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
