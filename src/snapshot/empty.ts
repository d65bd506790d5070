/**
 * The empty snapshot, in a module of its own: a data-plane worker holds it until the primary's first
 * snapshot arrives, and must not load the compiler (compile/, which it never runs) to make it.
 */
import type { Snapshot, TlsTable } from './types.ts';

/** The snapshot served before any source has loaded: no services, no routes. */
export function emptySnapshot(clusterDomain: string): Snapshot {
  return {
    version: 0,
    hash: '',
    storeVersion: 0,
    createdAt: new Date(0).toISOString(),
    clusterDomain,
    services: new Map(),
    backends: new Map(),
    registry: new Map(),
    routes: { hosts: new Map(), wildcards: new Map(), anyHost: undefined, defaultBackend: undefined, list: [] },
    tls: emptyTlsTable(),
    l4: [],
    diagnostics: [],
  };
}

/** No certificates: every handshake gets the generated default, once the control plane has made one. */
export function emptyTlsTable(): TlsTable {
  return { certificates: new Map(), hosts: new Map(), wildcards: new Map(), defaultKey: '', uses: [] };
}
