/**
 * `explain` for the admin API: the live snapshot, the control plane's health registry and, with
 * `--workers 1`, the data plane's own balancer (its next pick). With several worker processes each keeps
 * its own cursor, out of reach here: the explanation gives the rotation order instead.
 */
import type { ExplainAnswer, ExplainFn } from '../admin/explain-route.ts';
import { RoundRobin } from '../dataplane/balancer.ts';
import type { Config } from '../flags.ts';
import type { EndpointHealth } from '../health/endpoint-health.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { explain } from './explain.ts';
import { parseExplainInput } from './explain-request.ts';

export interface LiveExplainOptions {
  readonly holder: SnapshotHolder;
  readonly health: EndpointHealth;
  readonly config: Pick<Config, 'workers' | 'listenTls' | 'mergeSlashes' | 'escapedSlashes'>;
  /** The in-process data plane's balancer (`--workers 1`); undefined before it exists or with worker processes. */
  readonly balancer: () => RoundRobin | undefined;
}

/** The function the admin API calls per `GET /api/v1/explain`: reads the snapshot current at that moment. */
export function createLiveExplainer(options: LiveExplainOptions): ExplainFn {
  const { holder, health, config } = options;
  // Before the in-process data plane exists no request has been picked: its balancer would be this one.
  const unstarted = new RoundRobin(0);
  return (query): ExplainAnswer => {
    const parsed = parseExplainInput({ url: query.url, ...(query.method !== undefined ? { method: query.method } : {}), headers: query.headers }, config);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const balancer = options.balancer() ?? (config.workers === 1 ? unstarted : undefined);
    const explanation = explain(parsed.request, { snapshot: holder.current(), health, balancer, live: true, workers: config.workers, tlsListener: config.listenTls !== undefined });
    return { ok: true, explanation };
  };
}
