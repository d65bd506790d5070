/**
 * The copy of a snapshot the main thread posts to the data-plane worker threads. Every post is a
 * structured clone of the whole object, paid once per worker per swap (on the main thread, which also
 * runs the sources, compile and the admin API) and again by each worker deserialising it, so the parts
 * only the control plane reads stay behind: the diagnostics and Gateway API status (admin API, kube
 * status writer), the Gateway listeners' states (status) and the layer-4 Service ports (the kernel or
 * userspace service proxy, which runs on the main thread). The worker's data plane reads the rest:
 * routes, backends, tls, services, registry, clusterDomain, gatewayPorts, and the `hash`, which stays the
 * compiled one (gateway-listeners.ts binds again only for a new hash, so a snapshot re-issued with port
 * failures — gateway-port-status.ts — must keep it).
 */
import type { Snapshot } from '../snapshot/types.ts';

/** The Snapshot fields the data plane of a worker never reads, emptied in what it is sent. */
export const CONTROL_PLANE_ONLY = ['diagnostics', 'l4', 'gatewayStatus', 'gatewayListeners'] as const;

/** `snapshot` without the CONTROL_PLANE_ONLY parts (empty, so the type stays a Snapshot); the rest shared, not copied. */
export function workerSnapshot(snapshot: Snapshot): Snapshot {
  const { diagnostics: _d, l4: _l, gatewayStatus: _s, gatewayListeners: _g, ...kept } = snapshot;
  return { ...kept, diagnostics: [], l4: [] };
}

/**
 * Whether `next` carries nothing new for the workers over `sent`: the same compiled objects, as in a
 * snapshot re-issued with Gateway port failures (only its diagnostics and listener states differ), so
 * posting it again would only cost every worker a full clone of the same routes.
 */
export function sameForWorkers(next: Snapshot, sent: Snapshot | undefined): boolean {
  if (sent === undefined) return false;
  return (
    next.hash === sent.hash &&
    next.routes === sent.routes &&
    next.backends === sent.backends &&
    next.tls === sent.tls &&
    next.services === sent.services &&
    next.registry === sent.registry &&
    next.gatewayPorts === sent.gatewayPorts &&
    next.clusterDomain === sent.clusterDomain
  );
}
