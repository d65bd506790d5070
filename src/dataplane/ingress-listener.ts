/**
 * The edge listener: Ingress host/path rules → round-robin over ready endpoints → proxy.
 * It never routes by Service name: only Ingress rules expose a Service to the edge. The same routing
 * serves the plaintext and the TLS listener, HTTP/1.1 and HTTP/2 alike.
 */
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import type { Route, RouteTable } from '../snapshot/types.ts';
import type { EdgePolicy } from './edge-policy.ts';
import type { HttpExchange } from './exchange.ts';
import type { Http2Options } from './h2/h2-sessions.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { createHttpListener, type ClientLimits, type ExchangeEnded, type HttpListenerOptions, type Listener, type ListenerTls } from './http-listener.ts';
import { sendHttpsRedirect, skipsHttpsRedirect } from './https-redirect.ts';
import { matchRoute, normalizeHost } from './match.ts';
import { isMisdirected } from './misdirected.ts';
import { parseTarget, PATH_REJECTED } from './path.ts';
import { proxyRequest, proxyRouteRequest, type ProxyContext } from './proxy.ts';
import { sendFailure, sendNoRoute } from './status.ts';
import { threadWeightedChoice } from './weighted.ts';
import { cookieAffinity, withClientAffinity } from './affinity-request.ts';
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
  /** A Gateway listener port: its requests match that port's routes (Snapshot.gatewayPorts); default: the Ingress routes. */
  readonly gatewayPort?: number;
}

const NO_ROUTES: RouteTable = { hosts: new Map(), wildcards: new Map(), anyHost: undefined, defaultBackend: undefined, list: [] };

export function createIngressListener(options: IngressListenerOptions): Listener {
  const { holder, proxy, httpsPort, gatewayPort } = options;
  const route = (exchange: HttpExchange): void => {
    const target = parseTarget(exchange.url, options.policy);
    const snapshot = holder.current();
    if (!target) return sendFailure(exchange, ErrorCode.NO_ROUTE);
    if (target === PATH_REJECTED) return sendFailure(exchange, ErrorCode.REQUEST_PATH_REJECTED);
    const host = normalizeHost(target.host ?? exchange.host);
    // A Gateway port matches only the routes attached through its listeners; one branch on the Ingress path.
    let table = snapshot.routes;
    if (gatewayPort !== undefined) {
      const port = snapshot.gatewayPorts?.get(gatewayPort);
      if (exchange.servername !== undefined && isMisdirected(port, host, exchange.servername)) return sendFailure(exchange, ErrorCode.MISDIRECTED_REQUEST);
      table = port?.routes ?? NO_ROUTES;
    }
    const route = matchRoute(table, host, target.path, exchange, target.pathAndQuery);
    if (!route) return sendNoRoute(exchange, gatewayPort !== undefined);
    const filters = route.filters;
    if (filters?.redirect !== undefined) {
      exchange.trace.route = proxy.stats.routeLabels(route, undefined);
      return sendRouteRedirect(exchange, filters.redirect, host, target.path, (route as Route).path, target.pathAndQuery);
    }
    // A session cookie naming a pod of one of the route's backends chooses that backend (affinity-request.ts).
    const sticky = route.sessionCookie === undefined ? undefined : cookieAffinity(route, exchange.rawHeaders, snapshot.backends);
    // HTTPRoute backendRefs share a route by weight; a share whose reference does not resolve is answered 500.
    const chosen = sticky?.target ?? (route.weighted === undefined ? route : (threadWeightedChoice.pick(route.weighted, route.weightKey) ?? route));
    const backend = chosen.backend === undefined ? undefined : snapshot.backends.get(chosen.backend);
    exchange.trace.route = proxy.stats.routeLabels(chosen, backend);
    if (route.redirectToHttps && exchange.scheme === 'http' && !skipsHttpsRedirect(target.path)) {
      const port = httpsPort();
      if (port !== undefined) return sendHttpsRedirect(exchange, target.host ?? exchange.host, port, target.pathAndQuery);
    }
    if (!backend) return sendFailure(exchange, route.weighted === undefined ? ErrorCode.UNKNOWN_SERVICE : ErrorCode.BACKEND_INVALID);
    const headers = upstreamRequestHeaders(exchange, { proto: exchange.scheme, port: exchange.localPort, policy: options.policy }, target.host);
    if (headers === undefined) return sendFailure(exchange, ErrorCode.REQUEST_HEADER_REJECTED);
    const affinity = withClientAffinity(sticky, backend, exchange, options.policy);
    if (filters === undefined) return proxyRequest(proxy, exchange, backend, target.pathAndQuery, headers, undefined, affinity);
    const path = rewriteTarget(target.pathAndQuery, target.path, (route as Route).path, filters.rewrite?.path);
    const edited = filters.requestHeaders === undefined ? headers : editHeaders(headers, filters.requestHeaders);
    proxyRouteRequest(proxy, exchange, backend, path, edited, filters, snapshot.backends, affinity);
  };
  return createHttpListener({ limits: options.limits, log: options.log, ended: options.ended, refused: options.refused, route, http2: options.http2, tls: options.tls, policy: options.policy });
}
