import { describe, expect, it } from 'vitest';
import { renderMetrics } from '../../../src/admin/metrics.ts';

describe('renderMetrics', () => {
  const text = renderMetrics({
    responses: { service: [0, 0, 3, 0, 0, 1], ingress: [2, 0, 90, 1, 4, 5] },
    retries: 7,
    inFlight: 3,
    tunnelsOpen: 0,
    tunnelsTotal: 0,
    ejections: 2,
    snapshotVersion: 12,
    routes: 4,
    services: 2,
    diagnostics: 1,
    endpoints: { ready: 5, ejected: 1 },
    workers: 2,
    workerRestarts: 1,
  });
  const lines = text.split('\n');

  it('is Prometheus text: every sample is preceded by its HELP and TYPE, and the text ends with a newline', () => {
    expect(text.endsWith('\n')).toBe(true);
    const names = new Set(lines.filter((l) => l && !l.startsWith('#')).map((l) => /^([a-z_]+)/.exec(l)![1]!));
    for (const name of names) {
      expect(lines).toContain(`# TYPE ${name} ${name.endsWith('_total') ? 'counter' : 'gauge'}`);
      expect(lines.some((l) => l.startsWith(`# HELP ${name} `))).toBe(true);
    }
  });

  it.each([
    ['switchyard_responses_total{listener="ingress",code="2xx"} 90'],
    ['switchyard_responses_total{listener="ingress",code="none"} 2'],
    ['switchyard_responses_total{listener="ingress",code="5xx"} 5'],
    ['switchyard_responses_total{listener="service",code="5xx"} 1'],
    ['switchyard_upstream_retries_total 7'],
    ['switchyard_requests_in_flight 3'],
    ['switchyard_endpoint_ejections_total 2'],
    ['switchyard_endpoints{state="ejected"} 1'],
    ['switchyard_endpoints{state="ready"} 5'],
    ['switchyard_snapshot_version 12'],
    ['switchyard_workers 2'],
    ['switchyard_worker_restarts_total 1'],
  ])('has the sample %s', (sample) => {
    expect(lines).toContain(sample);
  });

  it('lists listeners and states in a stable (sorted) order', () => {
    const listeners = lines.filter((l) => l.startsWith('switchyard_responses_total')).map((l) => /listener="(\w+)"/.exec(l)![1]);
    expect(listeners).toEqual([...Array(6).fill('ingress'), ...Array(6).fill('service')]);
  });
});
