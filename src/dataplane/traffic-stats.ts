/**
 * Request metrics of one data-plane process: counts by route and status code, latency histograms and
 * per-Service upstream figures, kept as plain numbers in objects found once per request (no label
 * string is built, no map keyed by a client's input). They leave the process as metric families in
 * prom-client's JSON form (`Registry#getMetricsAsJSON`), which the admin API sums over every worker
 * with prom-client's own aggregation (admin/metrics.ts).
 *
 * Label values come only from configuration objects (an Ingress, its Service) and from short fixed sets
 * (listener role, protocol, method, status code), so the series stay bounded whatever clients send: a
 * request that matched nothing counts under empty route labels.
 */
import type { Backend, RouteTarget } from '../snapshot/types.ts';
import { NO_ROUTE, type RouteLabels } from './exchange-trace.ts';
import type { HttpExchange } from './exchange.ts';

/** Upper bounds of the latency buckets, seconds (Prometheus' client defaults, stretched to a minute). */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BOUNDS_MS = LATENCY_BUCKETS.map((s) => s * 1000);

/** Methods counted by name; any other (clients may send any token) counts as OTHER. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE', 'OTHER'] as const;
const METHOD_INDEX = new Map<string, number>(METHODS.map((m, i) => [m, i]));
const OTHER_METHOD = METHODS.length - 1;
const PROTOCOLS = ['http/1.1', 'h2'] as const;

/** One value of a metric family, as prom-client's JSON has it. */
export interface MetricValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName?: string;
}

/** A metric family in prom-client's JSON form (what `Registry#getMetricsAsJSON` returns, and `AggregatorRegistry.aggregate` takes). */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator: 'sum' | 'first' | 'max' | 'min' | 'average' | 'omit';
  readonly values: readonly MetricValue[];
}

/** A latency histogram in milliseconds, exported in seconds. */
export class LatencyHistogram {
  /** Per bucket (not cumulative); the last one is +Inf. */
  readonly counts = new Float64Array(BOUNDS_MS.length + 1);
  sumMs = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]!) i++;
    this.counts[i]!++;
    this.sumMs += ms;
  }

  /** The histogram's series (cumulative buckets, `_sum`, `_count`) under `labels`. */
  values(name: string, labels: Readonly<Record<string, string>>, out: MetricValue[]): void {
    let cumulative = 0;
    for (let i = 0; i < this.counts.length; i++) {
      cumulative += this.counts[i]!;
      out.push({ labels: { ...labels, le: i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i]! : '+Inf' }, value: cumulative, metricName: `${name}_bucket` });
    }
    out.push({ labels, value: this.sumMs / 1000, metricName: `${name}_sum` }, { labels, value: cumulative, metricName: `${name}_count` });
  }
}

/** Upstream figures of one Service (every port of it), updated by the proxy. */
export class ServiceStats {
  readonly upstream = new LatencyHistogram();
  /** Attempts that failed before the request was written (refused, unreachable, connect timeout, TLS). */
  connectFailures = 0;
  retries = 0;
  /** Retries the retry budget refused. */
  budgetExhausted = 0;

  readonly namespace: string;
  readonly service: string;

  constructor(namespace: string, service: string) {
    this.namespace = namespace;
    this.service = service;
  }

  upstreamResponse(ms: number): void {
    this.upstream.observe(ms);
  }
}

/** One series of requests: a route's labels under one listener, protocol and method. */
class RequestCell {
  readonly codes = new Map<number, number>();
  readonly duration = new LatencyHistogram();
  readonly listener: string;
  readonly protocol: string;
  readonly method: string;

  constructor(listener: string, protocol: string, method: string) {
    this.listener = listener;
    this.protocol = protocol;
    this.method = method;
  }
}

/** Route labels with the cells of their series (index: listener slot, then method). */
class LabelSet implements RouteLabels {
  readonly cells: (RequestCell | undefined)[] = [];
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;

  constructor(namespace: string, ingress: string, service: string) {
    this.namespace = namespace;
    this.ingress = ingress;
    this.service = service;
  }
}

export class TrafficStats {
  readonly #listeners: string[] = [];
  readonly #labelSets = new Map<string, LabelSet>();
  readonly #routeLabels = new WeakMap<RouteTarget | Backend, LabelSet>();
  readonly #services = new Map<string, ServiceStats>();
  readonly #serviceOf = new WeakMap<Backend, ServiceStats>();
  readonly #noRoute = this.#labels('', '', '');
  /** Requests refused before they became exchanges, by listener slot and reason. */
  readonly #refused: Map<string, number>[] = [];
  /** RequestMirror copies by `namespace/service\nresult` (mirrored requests only: a string per copy is no hot-path cost). */
  readonly #mirrors = new Map<string, number>();
  /** Exchanges recorded since start (each worker's share, in /api/v1/workers). */
  recorded = 0;

  /** The slot a listener of `role` records into; asked once per listener. */
  listenerSlot(role: string): number {
    let index = this.#listeners.indexOf(role);
    if (index < 0) index = this.#listeners.push(role) - 1;
    return index;
  }

  /** Labels of an Ingress route (the same object for every request and snapshot that has the route). */
  routeLabels(route: RouteTarget, backend: Backend | undefined): RouteLabels {
    let labels = this.#routeLabels.get(route);
    if (labels === undefined) {
      const slash = route.ingress.indexOf('/');
      // `namespace/service:port`: the Service's name when the backend did not resolve.
      const service = backend?.service ?? route.describe.slice(route.describe.indexOf('/') + 1).replace(/:.*$/, '');
      labels = this.#labels(route.ingress.slice(0, slash), route.ingress.slice(slash + 1), service);
      this.#routeLabels.set(route, labels);
    }
    return labels;
  }

  /** Labels of a request routed by Service name (the service listener). */
  serviceLabels(backend: Backend): RouteLabels {
    let labels = this.#routeLabels.get(backend);
    if (labels === undefined) this.#routeLabels.set(backend, (labels = this.#labels(backend.namespace, '', backend.service)));
    return labels;
  }

  /** The upstream figures of a backend's Service. */
  service(backend: Backend): ServiceStats {
    let stats = this.#serviceOf.get(backend);
    if (stats === undefined) {
      const key = `${backend.namespace}/${backend.service}`;
      stats = this.#services.get(key);
      if (stats === undefined) this.#services.set(key, (stats = new ServiceStats(backend.namespace, backend.service)));
      this.#serviceOf.set(backend, stats);
    }
    return stats;
  }

  /** Counts an ended exchange: its status (0 when nothing was sent) and its duration. */
  record(slot: number, exchange: HttpExchange, now: number): void {
    this.recorded++;
    const trace = exchange.trace;
    const labels = (trace.route === NO_ROUTE ? this.#noRoute : trace.route) as LabelSet;
    const method = METHOD_INDEX.get(exchange.method) ?? OTHER_METHOD;
    const protocol = exchange.protocol === 'h2' ? 1 : 0;
    const index = (slot * PROTOCOLS.length + protocol) * METHODS.length + method;
    let cell = labels.cells[index];
    if (cell === undefined) labels.cells[index] = cell = new RequestCell(this.#listeners[slot]!, PROTOCOLS[protocol]!, METHODS[method]!);
    const code = exchange.headersSent ? exchange.statusCode : 0;
    cell.codes.set(code, (cell.codes.get(code) ?? 0) + 1);
    cell.duration.observe(now - trace.startedAt);
  }

  /** Counts what became of a RequestMirror copy to `backend` (request-mirror.ts). */
  mirrorResult(backend: Backend, result: 'success' | 'failed' | 'dropped'): void {
    const key = `${backend.namespace}/${backend.service}\n${result}`;
    this.#mirrors.set(key, (this.#mirrors.get(key) ?? 0) + 1);
  }

  /** Counts a request refused before it became an exchange; `reason` is its x-switchyard-error value. */
  refused(slot: number, reason: string): void {
    const byReason = (this.#refused[slot] ??= new Map());
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  /** Every family this process records, in prom-client's JSON form (families without samples included). */
  families(): MetricFamily[] {
    const requests: MetricValue[] = [];
    const durations: MetricValue[] = [];
    for (const set of this.#labelSets.values()) {
      for (const cell of set.cells) {
        if (cell === undefined) continue;
        const labels = { listener: cell.listener, protocol: cell.protocol, method: cell.method, namespace: set.namespace, ingress: set.ingress, service: set.service };
        for (const [code, n] of cell.codes) requests.push({ labels: { ...labels, code: String(code) }, value: n });
        cell.duration.values('switchyard_request_duration_seconds', labels, durations);
      }
    }
    const upstream: MetricValue[] = [];
    const connect: MetricValue[] = [];
    const retries: MetricValue[] = [];
    const budget: MetricValue[] = [];
    for (const s of this.#services.values()) {
      const labels = { namespace: s.namespace, service: s.service };
      s.upstream.values('switchyard_upstream_response_seconds', labels, upstream);
      connect.push({ labels, value: s.connectFailures });
      retries.push({ labels, value: s.retries });
      budget.push({ labels, value: s.budgetExhausted });
    }
    const refused: MetricValue[] = [];
    this.#refused.forEach((byReason, slot) => {
      for (const [reason, n] of byReason) refused.push({ labels: { listener: this.#listeners[slot]!, reason }, value: n });
    });
    const mirrors: MetricValue[] = [];
    for (const [key, n] of this.#mirrors) {
      const [service, result] = key.split('\n') as [string, string];
      const slash = service.indexOf('/');
      mirrors.push({ labels: { namespace: service.slice(0, slash), service: service.slice(slash + 1), result }, value: n });
    }
    return [
      counter('switchyard_mirror_requests_total', 'HTTPRoute RequestMirror copies by mirror Service and result: success (the pod answered, any status), failed (refused, reset, timed out), dropped (not sent or cut by Switchyard: too many in flight, no ready endpoint, body fell behind).', mirrors),
      counter('switchyard_requests_refused_total', 'HTTP/1.1 requests refused before routing (malformed or oversized head, smuggling-shaped framing, a slow client), by listener and x-switchyard-error reason.', refused),
      counter('switchyard_requests_total', 'Requests answered, by listener, protocol, method, exact status code (0: the connection closed before a response) and route.', requests),
      histogram('switchyard_request_duration_seconds', 'Time from the request head to the end of the response, by listener, protocol, method and route.', durations),
      histogram('switchyard_upstream_response_seconds', "Time from handing a request to a pod's connection to the pod's response head, by Service.", upstream),
      counter('switchyard_upstream_connect_failures_total', 'Attempts that failed before the request reached the pod (refused, unreachable, connect timeout, TLS), by Service.', connect),
      counter('switchyard_upstream_retries_total', 'Requests retried on another endpoint, by Service.', retries),
      counter('switchyard_retry_budget_exhausted_total', 'Retries refused by the retry budget, by Service.', budget),
    ];
  }

  #labels(namespace: string, ingress: string, service: string): LabelSet {
    const key = `${namespace}\n${ingress}\n${service}`;
    let set = this.#labelSets.get(key);
    if (set === undefined) this.#labelSets.set(key, (set = new LabelSet(namespace, ingress, service)));
    return set;
  }
}

export function counter(name: string, help: string, values: readonly MetricValue[]): MetricFamily {
  return { name, help, type: 'counter', aggregator: 'sum', values };
}

export function gauge(name: string, help: string, values: readonly MetricValue[]): MetricFamily {
  return { name, help, type: 'gauge', aggregator: 'sum', values };
}

function histogram(name: string, help: string, values: readonly MetricValue[]): MetricFamily {
  return { name, help, type: 'histogram', aggregator: 'sum', values };
}
