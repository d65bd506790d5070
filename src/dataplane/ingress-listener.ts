/**
 * The edge listener: Ingress host/path rules → round-robin over ready endpoints → proxy.
 * It never routes by Service name: only Ingress rules expose a Service to the edge. The same routing
 * serves the plaintext and the TLS listener, HTTP/1.1 and HTTP/2 alike.
 */
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import type { Route } from '../snapshot/types.ts';
import type { EdgePolicy } from './edge-policy.ts';
import type { HttpExchange } from './exchange.ts';
import type { Http2Options } from './h2/h2-sessions.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { createHttpListener, type ClientLimits, type ExchangeEnded, type HttpListenerOptions, type Listener, type ListenerTls } from './http-listener.ts';
import { sendHttpsRedirect, skipsHttpsRedirect } from './https-redirect.ts';
import { matchRoute, normalizeHost } from './match.ts';
import { parseTarget, PATH_REJECTED } from './path.ts';
import { proxyRequest, type ProxyContext } from './proxy.ts';
import { sendFailure } from './status.ts';
import { threadWeightedChoice } from './weighted.ts';
import { editHeaders, rewriteTarget, sendRouteRedirect } from './route-filters.ts';

export interface IngressListenerOptions {
  readonly holder: SnapshotHolder;
  readonly proxy: ProxyContext;
  readonly log: Logger;
  readonly limits: ClientLimits;
  /** Path, header and trust rules (edge-policy.ts). */
  readonly policy: EdgePolicy;
  /** Told of every ended exchange (see createHttpListener). */
  readonly ended: ExchangeEnded;
  /** Told of every request refused before it became an exchange (see createHttpListener). */
  readonly refused: HttpListenerOptions['refused'];
  readonly http2: Http2Options | undefined;
  /** Undefined: the plaintext listener. */
  readonly tls: ListenerTls | undefined;
  /** The TLS listener's port once it listens, for redirects to https; undefined: no TLS listener, no redirects. */
  readonly httpsPort: () => number | undefined;
}

export function createIngressListener(options: IngressListenerOptions): Listener {
  const { holder, proxy, httpsPort } = options;
  const route = (exchange: HttpExchange): void => {
    const target = parseTarget(exchange.url, options.policy);
    const snapshot = holder.current();
    if (!target) return sendFailure(exchange, ErrorCode.NO_ROUTE);
    if (target === PATH_REJECTED) return sendFailure(exchange, ErrorCode.REQUEST_PATH_REJECTED);
    const host = normalizeHost(target.host ?? exchange.host);
    const route = matchRoute(snapshot.routes, host, target.path, exchange, target.pathAndQuery);
    if (!route) return sendFailure(exchange, ErrorCode.NO_ROUTE);
    const filters = route.filters;
    if (filters?.redirect !== undefined) {
      exchange.trace.route = proxy.stats.routeLabels(route, undefined);
      return sendRouteRedirect(exchange, filters.redirect, host, target.path, (route as Route).path, target.pathAndQuery);
    }
    // HTTPRoute backendRefs share a route by weight; a share whose reference does not resolve is answered 500.
    const chosen = route.weighted === undefined ? route : (threadWeightedChoice.pick(route.weighted) ?? route);
    const backend = chosen.backend === undefined ? undefined : snapshot.backends.get(chosen.backend);
    exchange.trace.route = proxy.stats.routeLabels(chosen, backend);
    if (route.redirectToHttps && exchange.scheme === 'http' && !skipsHttpsRedirect(target.path)) {
      const port = httpsPort();
      if (port !== undefined) return sendHttpsRedirect(exchange, target.host ?? exchange.host, port, target.pathAndQuery);
    }
    if (!backend) return sendFailure(exchange, route.weighted === undefined ? ErrorCode.UNKNOWN_SERVICE : ErrorCode.BACKEND_INVALID);
    const headers = upstreamRequestHeaders(exchange, { proto: exchange.scheme, port: exchange.localPort, policy: options.policy }, target.host);
    if (headers === undefined) return sendFailure(exchange, ErrorCode.REQUEST_HEADER_REJECTED);
    if (filters === undefined) return proxyRequest(proxy, exchange, backend, target.pathAndQuery, headers);
    const path = rewriteTarget(target.pathAndQuery, target.path, (route as Route).path, filters.rewrite?.path);
    const edited = filters.requestHeaders === undefined ? headers : editHeaders(headers, filters.requestHeaders);
    proxyRequest(proxy, exchange, backend, path, edited, filters.responseHeaders);
  };
  return createHttpListener({ limits: options.limits, log: options.log, ended: options.ended, refused: options.refused, route, http2: options.http2, tls: options.tls, policy: options.policy });
}
