/**
 * `explain` for the admin API: the live snapshot, the control plane's health registry and the data
 * plane's balancer (its next pick): the main thread's own with `--workers 1`, else one on the worker
 * threads' shared cursors; and the weighted choice whose next pick to tell (this thread's, which with
 * workers reads their shared counters: primary.ts shares it).
 */
import type { ExplainAnswer, ExplainFn } from '../admin/explain-route.ts';
import { RoundRobin } from '../dataplane/balancer.ts';
import type { Config } from '../flags.ts';
import type { EndpointHealth } from '../health/endpoint-health.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { threadWeightedChoice } from '../dataplane/weighted.ts';
import { explain } from './explain.ts';
import { parseExplainInput } from './explain-request.ts';

export interface LiveExplainOptions {
  readonly holder: SnapshotHolder;
  readonly health: EndpointHealth;
  readonly config: Pick<Config, 'workers' | 'listenTls' | 'mergeSlashes' | 'escapedSlashes'>;
  /** The data plane's balancer; undefined before the data plane exists. */
  readonly balancer: () => RoundRobin | undefined;
}

/** The function the admin API calls per `GET /api/v1/explain`: reads the snapshot current at that moment. */
export function createLiveExplainer(options: LiveExplainOptions): ExplainFn {
  const { holder, health, config } = options;
  // Before the data plane exists no request has been picked: its balancer would be this one.
  const unstarted = new RoundRobin();
  return (query): ExplainAnswer => {
    const parsed = parseExplainInput({ url: query.url, ...(query.method !== undefined ? { method: query.method } : {}), headers: query.headers }, config);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const balancer = options.balancer() ?? unstarted;
    const explanation = explain(parsed.request, { snapshot: holder.current(), health, balancer, live: true, workers: config.workers, tlsListener: config.listenTls !== undefined, weighted: threadWeightedChoice });
    return { ok: true, explanation };
  };
}
