/**
 * Snapshot values the data plane's balancing tests build: an endpoint, and a Backend over addresses on
 * port 8080 (the not-ready ones kept in `all` only, the rest in `ready` and the rotation, sorted by address).
 */
import type { Backend, EndpointView } from '../../../src/snapshot/types.ts';

export function ep(address: string, port = 8080, ready = true): EndpointView {
  return { key: `${address}:${port}`, address, port, ready, serving: ready, terminating: false, hostname: undefined, nodeName: undefined, targetRef: undefined };
}

export function backendOf(key: string, addresses: readonly string[], options: { notReady?: readonly string[]; clientAffinitySeconds?: number } = {}): Backend {
  const all = [...addresses.map((a) => ep(a)), ...(options.notReady ?? []).map((a) => ep(a, 8080, false))].sort((x, y) => (x.address < y.address ? -1 : 1));
  const ready = all.filter((e) => e.ready);
  return {
    key,
    namespace: 'default',
    service: key.split(/[/:]/)[1]!,
    port: 80,
    portName: '',
    protocol: 'TCP',
    ready,
    all,
    rotation: ready,
    terminatingFallback: false,
    policy: { retries: 2, retryBudgetPercent: 20, connectTimeoutMs: undefined, responseTimeoutMs: undefined, idleTimeoutMs: undefined, outlier: undefined, healthCheck: undefined },
    upstream: { protocol: 'http1', caPem: undefined },
    ...(options.clientAffinitySeconds === undefined ? {} : { clientAffinitySeconds: options.clientAffinitySeconds }),
  };
}
