/**
 * The service (sidecar) listener: routes by Service name instead of Ingress rules, with the same
 * balancing, health and retries as the edge. For apps that call `http://orders.shop.svc.cluster.local/`
 * through Switchyard (HTTP_PROXY, or a name that resolves to the listener): unlike kube-proxy's
 * per-connection balancing, every request of a keep-alive client is balanced on its own.
 */
import type { Logger } from '../log.ts';
import type { EdgePolicy } from './edge-policy.ts';
import type { HttpExchange } from './exchange.ts';
import type { Http2Options } from './h2/h2-sessions.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { createHttpListener, type ClientLimits, type ExchangeEnded, type HttpListenerOptions, type Listener } from './http-listener.ts';
import { parseTarget, PATH_REJECTED } from './path.ts';
import { proxyRequest, type ProxyContext } from './proxy.ts';
import { withClientAffinity } from './affinity-request.ts';
import { resolveServiceTarget } from './service-name.ts';
import { sendFailure } from './status.ts';
import { ErrorCode } from '../errors.ts';

export interface ServiceListenerOptions {
  readonly holder: SnapshotHolder;
  readonly proxy: ProxyContext;
  readonly log: Logger;
  readonly limits: ClientLimits;
  /** Path, header and trust rules (edge-policy.ts). */
  readonly policy: EdgePolicy;
  /** Namespace a bare Service name resolves in. */
  readonly namespace: string;
  /** Told of every ended exchange (see createHttpListener). */
  readonly ended: ExchangeEnded;
  /** Told of every request refused before it became an exchange (see createHttpListener). */
  readonly refused: HttpListenerOptions['refused'];
  /** h2c with prior knowledge (gRPC clients calling a Service by name); undefined: HTTP/1.1 only. */
  readonly http2: Http2Options | undefined;
}

export function createServiceListener(options: ServiceListenerOptions): Listener {
  const { holder, proxy, namespace } = options;
  const route = (exchange: HttpExchange): void => {
    const target = parseTarget(exchange.url, options.policy);
    if (!target) return sendFailure(exchange, ErrorCode.NOT_A_SERVICE);
    if (target === PATH_REJECTED) return sendFailure(exchange, ErrorCode.REQUEST_PATH_REJECTED);
    const resolved = resolveServiceTarget(holder.current(), target.host ?? exchange.host, namespace);
    if (resolved.backend === undefined) return sendFailure(exchange, resolved.failure);
    exchange.trace.route = proxy.stats.serviceLabels(resolved.backend);
    const headers = upstreamRequestHeaders(exchange, { proto: exchange.scheme, port: exchange.localPort, policy: options.policy }, target.host);
    if (headers === undefined) return sendFailure(exchange, ErrorCode.REQUEST_HEADER_REJECTED);
    proxyRequest(proxy, exchange, resolved.backend, target.pathAndQuery, headers, undefined, withClientAffinity(undefined, resolved.backend, exchange, options.policy));
  };
  return createHttpListener({ limits: options.limits, log: options.log, ended: options.ended, refused: options.refused, route, http2: options.http2, tls: undefined, policy: options.policy });
}
