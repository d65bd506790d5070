/**
 * Plain-HTTP requests to a host served over TLS are sent to https with 308 Permanent Redirect (the
 * method and body are kept, RFC 9110 §15.4.9), as ingress-nginx does for hosts with a `tls:` entry.
 * Paths under /.well-known/acme-challenge/ are answered as usual: cert-manager's HTTP-01 solver must
 * reach its pod over plain HTTP before the host has a certificate.
 */
import type { HttpExchange } from './exchange.ts';

const ACME_CHALLENGE = '/.well-known/acme-challenge/';

/** Whether `path` is never redirected to https. */
export function skipsHttpsRedirect(path: string): boolean {
  return path.startsWith(ACME_CHALLENGE);
}

/**
 * The https URL for the same host (its port replaced by the TLS listener's; none when 443), path and
 * query. Undefined when the request names no usable host.
 */
export function httpsLocation(host: string | undefined, httpsPort: number, pathAndQuery: string): string | undefined {
  if (host === undefined || host === '') return undefined;
  let name: string;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return undefined;
    name = host.slice(0, close + 1);
  } else {
    const colon = host.indexOf(':');
    name = colon < 0 ? host : host.slice(0, colon);
  }
  // A Host that would smuggle another URL part into Location is not echoed back.
  if (name === '' || /[\s/?#@\\]/.test(name)) return undefined;
  return `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${pathAndQuery}`;
}

const BODY = Buffer.from('redirecting to https\n');
const BODY_LENGTH = String(BODY.length);

/** Answers 308 to the https URL; a request without a usable host is answered 400. */
export function sendHttpsRedirect(exchange: HttpExchange, host: string | undefined, httpsPort: number, pathAndQuery: string): void {
  const location = httpsLocation(host, httpsPort, pathAndQuery);
  if (location === undefined) {
    const body = Buffer.from('bad request: no usable host\n');
    exchange.writeHead(400, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(body.length), 'server', 'switchyard']);
    exchange.write(body);
    exchange.end();
    return;
  }
  exchange.writeHead(308, ['location', location, 'content-type', 'text/plain; charset=utf-8', 'content-length', BODY_LENGTH, 'server', 'switchyard']);
  exchange.write(BODY);
  exchange.end();
}
