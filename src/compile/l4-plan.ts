/**
 * The layer-4 plan of one node: each Service port the service proxy serves (Snapshot.l4), with the
 * endpoints chosen as kube-proxy chooses them. Pure and node-specific (it depends on --node-name), so it
 * is computed by the layer-4 consumers (the userspace proxy, a kernel rule renderer) from the snapshot
 * rather than stored in it.
 *
 * Endpoint choice (kube-proxy's CategorizeEndpoints): the ready endpoints; when none is ready, the
 * serving-and-terminating ones. Under a `Local` traffic policy only endpoints whose nodeName is this node
 * count, and when there are none the traffic is dropped: it never falls back to other nodes.
 */
import type { TrafficPolicy } from '../model/records.ts';
import type { Backend, L4PortView, Snapshot } from '../snapshot/types.ts';
import { rotationOf } from './backends.ts';

export interface L4PlanOptions {
  /** This node's name (--node-name), matched against endpoints' nodeName under a Local policy. */
  readonly nodeName: string;
}

export interface L4PlanEntry {
  readonly port: L4PortView;
  /** What traffic to the cluster IPs is balanced over (internalTrafficPolicy applied). */
  readonly internal: Backend;
  /** What traffic to the node port, external IPs and load-balancer IPs is balanced over (externalTrafficPolicy applied). */
  readonly external: Backend;
}

export interface L4Plan {
  /** In Snapshot.l4's order (by key). */
  readonly entries: readonly L4PlanEntry[];
}

/** Suffix of the key of a backend narrowed to this node's endpoints: its round-robin cursor is its own. */
export const LOCAL_KEY_SUFFIX = '@local';

export function planL4(snapshot: Pick<Snapshot, 'l4' | 'backends'>, options: L4PlanOptions): L4Plan {
  const entries: L4PlanEntry[] = [];
  for (const port of snapshot.l4) {
    const backend = snapshot.backends.get(port.key);
    if (backend === undefined) continue; // compile makes one per Service port; a hand-made snapshot may not
    const internal = applyTrafficPolicy(backend, port.internalTrafficPolicy, options.nodeName);
    const external = port.externalTrafficPolicy === port.internalTrafficPolicy ? internal : applyTrafficPolicy(backend, port.externalTrafficPolicy, options.nodeName);
    entries.push({ port, internal, external });
  }
  return { entries };
}

/**
 * `backend` as traffic under `policy` sees it: itself under Cluster; under Local, narrowed to the
 * endpoints on `nodeName` (an endpoint without nodeName is on no node), under its own key.
 */
export function applyTrafficPolicy(backend: Backend, policy: TrafficPolicy, nodeName: string): Backend {
  if (policy === 'Cluster') return backend;
  const all = backend.all.filter((e) => e.nodeName !== undefined && e.nodeName === nodeName);
  return { ...backend, key: backend.key + LOCAL_KEY_SUFFIX, all, ...rotationOf(all) };
}
