/**
 * The service (sidecar) listener: routes by Service name instead of Ingress rules, with the same
 * balancing, health and retries as the edge. For apps that call `http://orders.shop.svc.cluster.local/`
 * through Switchyard (HTTP_PROXY, or a name that resolves to the listener): unlike kube-proxy's
 * per-connection balancing, every request of a keep-alive client is balanced on its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { createHttpListener, type ClientLimits, type Listener } from './http-listener.ts';
import { parseTarget } from './path.ts';
import { proxyRequest, type ProxyContext } from './proxy.ts';
import { resolveServiceTarget } from './service-name.ts';
import { sendFailure } from './status.ts';
import { ErrorCode } from '../errors.ts';

export interface ServiceListenerOptions {
  readonly holder: SnapshotHolder;
  readonly proxy: ProxyContext;
  readonly log: Logger;
  readonly limits: ClientLimits;
  /** Namespace a bare Service name resolves in. */
  readonly namespace: string;
  /** Response counts by status class (see createHttpListener). */
  readonly counts: number[];
}

export function createServiceListener(options: ServiceListenerOptions): Listener {
  const { holder, proxy, namespace } = options;
  return createHttpListener(options.limits, options.log, options.counts, (req: IncomingMessage, res: ServerResponse): void => {
    const target = parseTarget(req.url ?? '/');
    if (!target) return sendFailure(res, ErrorCode.NOT_A_SERVICE);
    const resolved = resolveServiceTarget(holder.current(), target.host ?? req.headers.host, namespace);
    if (resolved.backend === undefined) return sendFailure(res, resolved.failure);
    const headers = upstreamRequestHeaders(req, { proto: 'http', port: req.socket.localPort ?? 0 }, target.host);
    proxyRequest(proxy, req, res, resolved.backend, target.pathAndQuery, headers);
  });
}
