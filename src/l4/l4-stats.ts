/**
 * Connection figures of the userspace service proxy, per Service port, as metric families in
 * prom-client's JSON form (what /metrics sums, admin/metrics.ts). Kept for ports that went away too:
 * counters never go down, and the series are bounded by the Service ports ever configured.
 */
import type { MetricFamily, MetricValue } from '../dataplane/traffic-stats.ts';
import type { L4PortView } from '../snapshot/types.ts';

export class PortStats {
  /** TCP connections, or UDP flows, open now. */
  open = 0;
  /** Opened since start. */
  total = 0;
  /** Connection attempts to an endpoint that failed (refused, unreachable, timed out). */
  connectFailures = 0;
  readonly labels: Readonly<Record<string, string>>;

  constructor(port: Pick<L4PortView, 'namespace' | 'service' | 'port' | 'protocol'>) {
    this.labels = { namespace: port.namespace, service: port.service, port: String(port.port), protocol: port.protocol };
  }
}

export class L4Stats {
  readonly #ports = new Map<string, PortStats>();

  /** The figures of a Service port (by its key), made on first use. */
  of(port: L4PortView): PortStats {
    let stats = this.#ports.get(port.key);
    if (stats === undefined) this.#ports.set(port.key, (stats = new PortStats(port)));
    return stats;
  }

  get(key: string): PortStats | undefined {
    return this.#ports.get(key);
  }

  families(): MetricFamily[] {
    const open: MetricValue[] = [];
    const total: MetricValue[] = [];
    const failures: MetricValue[] = [];
    for (const s of this.#ports.values()) {
      open.push({ labels: s.labels, value: s.open });
      total.push({ labels: s.labels, value: s.total });
      failures.push({ labels: s.labels, value: s.connectFailures });
    }
    return [
      { name: 'switchyard_l4_connections', help: 'Connections (TCP) and flows (UDP) open through the userspace service proxy, by Service port.', type: 'gauge', aggregator: 'sum', values: open },
      { name: 'switchyard_l4_connections_total', help: 'Connections (TCP) and flows (UDP) accepted by the userspace service proxy, by Service port.', type: 'counter', aggregator: 'sum', values: total },
      { name: 'switchyard_l4_connect_failures_total', help: 'Connection attempts of the userspace service proxy to an endpoint that failed, by Service port.', type: 'counter', aggregator: 'sum', values: failures },
    ];
  }
}
