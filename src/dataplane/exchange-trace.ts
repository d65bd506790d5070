/**
 * What became of one exchange, written where the data plane already knows it (the listener's routing,
 * the proxy's attempts, the failure answers, the exchange's own reads and writes) and read once when
 * the exchange ends, by the metrics (traffic-stats.ts) and the access log. One small object per request,
 * plain fields only: the hot path pays a few stores, never a string or a lookup.
 */

/** The configuration objects a request was routed by: the only label values metrics ever use. */
export interface RouteLabels {
  readonly namespace: string;
  /** The Ingress's name; '' on the service listener. */
  readonly ingress: string;
  readonly service: string;
}

/** Labels of a request that matched nothing (or was refused before routing): empty, so a client's host never becomes a series. */
export const NO_ROUTE: RouteLabels = { namespace: '', ingress: '', service: '' };

export class ExchangeTrace {
  /** `performance.now()` when the request head was read. */
  readonly startedAt: number;
  /** The client's port (the TCP peer's, or the one a PROXY protocol header gave). */
  readonly remotePort: number;
  /** The route (or Service) the request was given to; NO_ROUTE until then. */
  route: RouteLabels = NO_ROUTE;
  /** `address:port` of the endpoint of the last attempt; '' when none was picked. */
  upstream = '';
  /** Status of the pod's answer (0: no answer: refused, reset, timed out, or never sent). */
  upstreamStatus = 0;
  /** When the last attempt was handed to its pool (`performance.now()`). */
  attemptStartedAt = 0;
  /** From the last attempt's hand-over to the pod's response head, ms (-1: no response head). */
  upstreamMs = -1;
  /** Attempts after the first. */
  retries = 0;
  /** The reason Switchyard answered or cut the request itself (the x-switchyard-error value); '' when the pod answered. */
  error = '';
  /** Request body bytes read from the client. */
  bytesIn = 0;
  /** Response body bytes written to the client. */
  bytesOut = 0;

  constructor(remotePort: number) {
    this.startedAt = performance.now();
    this.remotePort = remotePort;
  }
}
