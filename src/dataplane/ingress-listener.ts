/**
 * The edge listener: Ingress host/path rules → round-robin over ready endpoints → proxy.
 * It never routes by Service name: only Ingress rules expose a Service to the edge.
 */
import { ErrorCode } from '../errors.ts';
import type { ClientExchange } from './client-exchange.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { createHttpListener, type ClientLimits, type Listener } from './http-listener.ts';
import { matchRoute, normalizeHost } from './match.ts';
import { parseTarget } from './path.ts';
import { proxyRequest, type ProxyContext } from './proxy.ts';
import { sendFailure } from './status.ts';

export interface IngressListenerOptions {
  readonly holder: SnapshotHolder;
  readonly proxy: ProxyContext;
  readonly log: Logger;
  readonly limits: ClientLimits;
  /** Response counts by status class (see createHttpListener). */
  readonly counts: number[];
}

export function createIngressListener(options: IngressListenerOptions): Listener {
  const { holder, proxy } = options;
  return createHttpListener(options.limits, options.log, options.counts, (exchange: ClientExchange): void => {
    const target = parseTarget(exchange.url);
    const snapshot = holder.current();
    if (!target) return sendFailure(exchange, ErrorCode.NO_ROUTE);
    const route = matchRoute(snapshot.routes, normalizeHost(target.host ?? exchange.host), target.path);
    if (!route) return sendFailure(exchange, ErrorCode.NO_ROUTE);
    const backend = route.backend === undefined ? undefined : snapshot.backends.get(route.backend);
    if (!backend) return sendFailure(exchange, ErrorCode.UNKNOWN_SERVICE);
    const headers = upstreamRequestHeaders(exchange, { proto: exchange.scheme, port: exchange.localPort }, target.host);
    proxyRequest(proxy, exchange, backend, target.pathAndQuery, headers);
  });
}
