/**
 * Misdirected requests on an HTTPS Gateway port (RFC 9110 §15.5.20, Gateway API
 * GatewayHTTPSListenerDetectMisdirectedRequests): a TLS connection was set up for the listener its server
 * name (SNI) chose — that listener's certificate, its routes — and HTTP/2 connection reuse (RFC 9113
 * §9.1.1) or a client's choice can send it a request whose host belongs to another listener of the same
 * port. That request gets 421, and the client retries on a connection of its own, where the right
 * listener's certificate and routes apply.
 *
 * Lenient where the spec is silent: a connection without SNI, or whose SNI selects no listener (it got the
 * port's default certificate), is not checked.
 */
import type { GatewayPortView, ListenerHostIndex } from '../snapshot/types.ts';

/** The request for `host` (lower-cased, no port) came on a connection of another listener than its own. */
export function isMisdirected(port: GatewayPortView | undefined, host: string, servername: string | undefined): boolean {
  const index = port?.listenerHosts;
  if (index === undefined || servername === undefined || servername === host) return false;
  const tls = listenerOf(index, servername);
  return tls >= 0 && listenerOf(index, host) !== tls;
}

/** The listener `name` selects: exact, then the longest wildcard suffix, then the fallback; -1: none. */
export function listenerOf(index: ListenerHostIndex, name: string): number {
  const exact = index.exact.get(name);
  if (exact !== undefined) return exact;
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
    const wildcard = index.wildcards.get(name.slice(dot + 1));
    if (wildcard !== undefined) return wildcard;
  }
  return index.fallback;
}
