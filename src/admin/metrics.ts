/**
 * GET /metrics for the whole process group, with prom-client: this process's own metrics (the
 * control plane's figures and prom-client's default process_* and nodejs_* metrics) and every data-plane
 * process's families, collected at scrape time, summed by prom-client's cluster aggregation
 * (`AggregatorRegistry.aggregate`, the way prom-client sums node:cluster workers; here, worker threads). What a worker that
 * died had counted stays counted (runtime/primary.ts keeps its last families): counters never go down.
 */
import { readFileSync } from 'node:fs';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { EndpointHealth } from '../health/endpoint-health.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { certificatesView, endpointsView } from './views.ts';

/** The data plane's tunnel and in-flight figures, every worker summed (for /api/v1/tunnels and /metrics). */
export interface TrafficView {
  readonly inFlight: number;
  /** WebSocket/upgrade tunnels open now, and opened since start. */
  readonly tunnelsOpen: number;
  readonly tunnelsTotal: number;
}

/** What the metrics read from the rest of the control plane. */
export interface GroupMetricsOptions {
  readonly holder: SnapshotHolder;
  readonly health: EndpointHealth;
  readonly draining: () => ReadonlyMap<string, number>;
  readonly workers: () => readonly unknown[];
  readonly traffic: () => TrafficView;
  /** Status of each source; a file source's `rejectedReloads` counts failed reloads. */
  readonly sources: () => readonly unknown[];
  /** DNS answers by response code; undefined without --dns. */
  readonly dnsQueries: () => Readonly<Record<string, number>> | undefined;
  /** Every data-plane process's metric families (prom-client JSON), collected now. */
  readonly dataPlane: () => Promise<readonly (readonly object[])[]>;
}

/** Switchyard's version, from package.json (`switchyard --version`, /api/v1/config, switchyard_build_info). */
export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

type Labels = Record<string, string>;

/** prom-client's `collect` hook for a metric filled at scrape time: reset, then `write` every value `collect` gives. */
function fillFrom<M extends { reset(): void }>(collect: (write: (labels: Labels, value: number) => void) => void, write: (metric: M, labels: Labels, value: number) => void): (this: M) => void {
  return function (this: M): void {
    this.reset();
    collect((labels, value) => write(this, labels, value));
  };
}

export class GroupMetrics {
  readonly #registry = new Registry();
  readonly #options: GroupMetricsOptions;
  #swaps = 0;
  #lastSwapAt = 0;

  constructor(options: GroupMetricsOptions) {
    this.#options = options;
    const registers = [this.#registry];
    collectDefaultMetrics({ register: this.#registry });
    options.holder.onSwap(() => {
      this.#swaps++;
      this.#lastSwapAt = Date.now() / 1000;
    });
    // A gauge and a counter filled at scrape time from current figures: both start over and take every value.
    type Collect = (write: (labels: Labels, value: number) => void) => void;
    const gauge = (name: string, help: string, labelNames: readonly string[], collect: Collect): void => {
      new Gauge({ name, help, labelNames, registers, collect: fillFrom(collect, (m, labels, value) => m.set(labels, value)) });
    };
    const counter = (name: string, help: string, labelNames: readonly string[], collect: Collect): void => {
      new Counter({ name, help, labelNames, registers, collect: fillFrom(collect, (m, labels, value) => m.inc(labels, value)) });
    };
    gauge('switchyard_build_info', 'Switchyard version and the Node.js it runs on (always 1).', ['version', 'node_version'], (set) => set({ version: VERSION, node_version: process.version }, 1));
    gauge('switchyard_endpoints', 'Endpoints by Service and state (ready, ejected, unhealthy, draining, terminating, …).', ['namespace', 'service', 'state'], (set) => {
      const snapshot = options.holder.current();
      const counts = new Map<string, { labels: Labels; n: number }>();
      for (const e of endpointsView(snapshot, options.health, options.draining()).endpoints) {
        const backend = e.backend === null ? undefined : snapshot.backends.get(e.backend);
        const labels = { namespace: backend?.namespace ?? '', service: backend?.service ?? '', state: e.state };
        const key = `${labels.namespace}/${labels.service}/${labels.state}`;
        const entry = counts.get(key);
        if (entry === undefined) counts.set(key, { labels, n: 1 });
        else entry.n++;
      }
      for (const { labels, n } of counts.values()) set(labels, n);
    });
    counter('switchyard_endpoint_ejections_total', 'Endpoints ejected by outlier detection (passive health).', [], (inc) => inc({}, options.health.ejectionsTotal));
    counter('switchyard_config_reloads_total', 'Configuration reloads by result: success is a new routing snapshot swapped in; failure a manifest change rejected (the last good state stays).', ['result'], (inc) => {
      inc({ result: 'success' }, this.#swaps);
      inc({ result: 'failure' }, options.sources().reduce((n: number, s) => n + ((s as { rejectedReloads?: number }).rejectedReloads ?? 0), 0));
    });
    gauge('switchyard_config_last_reload_success_timestamp_seconds', 'When the last routing snapshot was swapped in (Unix time).', [], (set) => set({}, this.#lastSwapAt));
    gauge('switchyard_snapshot_version', 'Version of the routing snapshot in use.', [], (set) => set({}, options.holder.current().version));
    gauge('switchyard_routes', 'Ingress routes in the snapshot.', [], (set) => set({}, options.holder.current().routes.list.length));
    gauge('switchyard_services', 'Services in the registry.', [], (set) => set({}, options.holder.current().services.size));
    gauge('switchyard_diagnostics', 'Configuration diagnostics in the snapshot.', [], (set) => set({}, options.holder.current().diagnostics.length));
    gauge('switchyard_tunnels_open', 'WebSocket and other upgraded connections open (tunnels to a pod).', [], (set) => set({}, options.traffic().tunnelsOpen));
    counter('switchyard_tunnels_total', 'WebSocket and other upgraded connections opened.', [], (inc) => inc({}, options.traffic().tunnelsTotal));
    counter('switchyard_dns_queries_total', 'DNS messages answered, by response code (dropped: not answered).', ['rcode'], (inc) => {
      for (const [rcode, n] of Object.entries(options.dnsQueries() ?? {})) inc({ rcode }, n);
    });
    gauge('switchyard_certificate_expiry_seconds', 'Seconds until each certificate in use expires (negative: expired), by Secret.', ['namespace', 'secret'], (set) => {
      for (const c of certificatesView(options.holder.current(), Date.now()).certificates) {
        if (c.notAfter === null) continue;
        const [namespace = '', secret = ''] = c.secret === null ? ['', 'generated-self-signed'] : c.secret.split('/');
        set({ namespace, secret }, (Date.parse(c.notAfter) - Date.now()) / 1000);
      }
    });
    gauge('switchyard_workers', 'Data-plane worker threads (0: the data plane runs in the main thread).', [], (set) => set({}, options.workers().length));
    counter('switchyard_worker_restarts_total', 'Worker threads replaced after dying.', [], (inc) =>
      inc({}, (options.workers() as readonly { restarts?: number }[]).reduce((n, w) => n + (w.restarts ?? 0), 0)),
    );
  }

  /** Every family of the process group, summed over its processes. */
  async families(): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
    return (await this.#aggregate()).getMetricsAsJSON();
  }

  /** The Prometheus text exposition and its content type. */
  async exposition(): Promise<{ text: string; contentType: string }> {
    const registry = await this.#aggregate();
    return { text: await registry.metrics(), contentType: registry.contentType };
  }

  async #aggregate(): Promise<Registry> {
    const [own, dataPlane] = await Promise.all([this.#registry.getMetricsAsJSON(), this.#options.dataPlane()]);
    return AggregatorRegistry.aggregate([own, ...dataPlane]);
  }
}

/** One Service's request figures in /api/v1/stats: cumulative since start, every process summed. */
export interface ServiceStatsView {
  readonly namespace: string;
  readonly service: string;
  readonly requests: number;
  /** Responses with a 5xx status. */
  readonly errors: number;
  readonly latency: { readonly buckets: [le: number | '+Inf', count: number][]; readonly count: number; readonly sum: number };
}

/**
 * Per-Service totals for the dashboard, from the same families as /metrics: switchyard_requests_total
 * and switchyard_request_duration_seconds summed over listener, protocol, method and Ingress. Requests
 * that matched no route have no Service and are left out.
 */
export function serviceStatsView(families: readonly MetricObjectWithValues<MetricValue<string>>[]): ServiceStatsView[] {
  const byService = new Map<string, { namespace: string; service: string; requests: number; errors: number; buckets: Map<string, number>; count: number; sum: number }>();
  const entry = (labels: Partial<Record<string, string | number>>) => {
    const namespace = String(labels.namespace ?? '');
    const service = String(labels.service ?? '');
    if (service === '') return undefined;
    const key = `${namespace}/${service}`;
    let e = byService.get(key);
    if (e === undefined) byService.set(key, (e = { namespace, service, requests: 0, errors: 0, buckets: new Map(), count: 0, sum: 0 }));
    return e;
  };
  for (const family of families) {
    if (family.name === 'switchyard_requests_total') {
      for (const v of family.values) {
        const e = entry(v.labels);
        if (e === undefined) continue;
        e.requests += v.value;
        if (String(v.labels.code ?? '').startsWith('5')) e.errors += v.value;
      }
    } else if (family.name === 'switchyard_request_duration_seconds') {
      for (const v of family.values as (MetricValue<string> & { metricName?: string })[]) {
        const e = entry(v.labels);
        if (e === undefined) continue;
        if (v.metricName?.endsWith('_bucket')) {
          const le = String(v.labels.le);
          e.buckets.set(le, (e.buckets.get(le) ?? 0) + v.value);
        } else if (v.metricName?.endsWith('_count')) e.count += v.value;
        else if (v.metricName?.endsWith('_sum')) e.sum += v.value;
      }
    }
  }
  return [...byService.values()]
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service))
    .map((e) => ({
      namespace: e.namespace,
      service: e.service,
      requests: e.requests,
      errors: e.errors,
      latency: {
        buckets: [...e.buckets]
          .map(([le, n]): [number | '+Inf', number] => [le === '+Inf' ? '+Inf' : Number(le), n])
          .sort((a, b) => (a[0] === '+Inf' ? 1 : b[0] === '+Inf' ? -1 : a[0] - b[0])),
        count: e.count,
        sum: e.sum,
      },
    }));
}
