/**
 * GET /metrics in the Prometheus text exposition format (version 0.0.4), for the whole process group:
 * traffic counters summed over every data-plane worker (as of their last report, at most a second
 * old), endpoint states from the control plane's health registry, and the snapshot and worker figures.
 */

/** The data plane's traffic figures, every worker summed: what the composition root hands the admin API. */
export interface TrafficView {
  /** Responses by listener role, indexed by status class (0: the connection was cut before a response). */
  readonly responses: Readonly<Record<string, readonly number[]>>;
  readonly retries: number;
  readonly inFlight: number;
  /** WebSocket/upgrade tunnels open now, and opened since start. */
  readonly tunnelsOpen: number;
  readonly tunnelsTotal: number;
}

/** What the composition root gathers for one scrape. */
export interface MetricsInput extends TrafficView {
  readonly ejections: number;
  readonly snapshotVersion: number;
  readonly routes: number;
  readonly services: number;
  readonly diagnostics: number;
  /** Endpoint count by state (ready, ejected, unhealthy, …). */
  readonly endpoints: Readonly<Record<string, number>>;
  readonly workers: number;
  readonly workerRestarts: number;
}

const CLASS_LABEL = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

export function renderMetrics(m: MetricsInput): string {
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: readonly [labels: string, value: number][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`);
  };
  const responses: [string, number][] = [];
  for (const role of Object.keys(m.responses).sort()) {
    m.responses[role]!.forEach((n, i) => responses.push([`{listener="${role}",code="${CLASS_LABEL[i]}"}`, n]));
  }
  metric('switchyard_responses_total', 'counter', 'Responses sent, by listener and status class (none: the connection closed first).', responses);
  metric('switchyard_upstream_retries_total', 'counter', 'Requests retried on another endpoint.', [['', m.retries]]);
  metric('switchyard_requests_in_flight', 'gauge', 'Requests being served.', [['', m.inFlight]]);
  metric('switchyard_tunnels_open', 'gauge', 'WebSocket and other upgraded connections open (tunnels to a pod).', [['', m.tunnelsOpen]]);
  metric('switchyard_tunnels_total', 'counter', 'WebSocket and other upgraded connections opened.', [['', m.tunnelsTotal]]);
  metric('switchyard_endpoint_ejections_total', 'counter', 'Endpoints ejected by outlier detection.', [['', m.ejections]]);
  metric(
    'switchyard_endpoints',
    'gauge',
    'Endpoints by state.',
    Object.keys(m.endpoints)
      .sort()
      .map((state): [string, number] => [`{state="${state}"}`, m.endpoints[state]!]),
  );
  metric('switchyard_snapshot_version', 'gauge', 'Version of the routing snapshot in use.', [['', m.snapshotVersion]]);
  metric('switchyard_routes', 'gauge', 'Ingress routes in the snapshot.', [['', m.routes]]);
  metric('switchyard_services', 'gauge', 'Services in the registry.', [['', m.services]]);
  metric('switchyard_diagnostics', 'gauge', 'Configuration diagnostics in the snapshot.', [['', m.diagnostics]]);
  metric('switchyard_workers', 'gauge', 'Data-plane worker processes (0: the data plane runs in this process).', [['', m.workers]]);
  metric('switchyard_worker_restarts_total', 'counter', 'Worker processes replaced after dying.', [['', m.workerRestarts]]);
  return `${out.join('\n')}\n`;
}
