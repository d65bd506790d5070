/**
 * Messages between the main thread (control plane) and the data-plane worker threads, posted with
 * structured clone, so snapshots — plain data with Maps — cross as they are.
 */
import type { CountersView } from '../dataplane/counters.ts';
import type { GatewayPortsReport } from '../dataplane/gateway-listeners.ts';
import type { Config, HostPort } from '../flags.ts';
import type { HealthEvent } from '../health/endpoint-health.ts';
import type { Snapshot } from '../snapshot/types.ts';

/** What a worker thread starts with (its `workerData`). */
export interface WorkerData {
  readonly config: Config;
  readonly index: number;
  /** The round-robin cursors every worker shares (dataplane/cursors.ts). */
  readonly cursors: SharedArrayBuffer;
  /** The ClientIP session affinity table every worker shares (dataplane/affinity-table.ts). */
  readonly affinity: SharedArrayBuffer;
}

export type ToWorker =
  /**
   * `snapshot`: its worker copy (worker-snapshot.ts: no diagnostics, status or layer-4 ports); `cursorSlots`:
   * the shared cursor of each of the snapshot's backends.
   */
  | { readonly t: 'snapshot'; readonly snapshot: Snapshot; readonly cursorSlots: ReadonlyMap<string, number> }
  | { readonly t: 'health'; readonly events: readonly HealthEvent[] }
  /** The TLS session-ticket key (48 bytes; a Uint8Array once it crossed). */
  | { readonly t: 'ticketKeys'; readonly keys: Uint8Array }
  /**
   * Bind the listeners (once the first snapshot is in): at `at`, role → address, where the first worker
   * bound; undefined for the first worker, which binds the configured addresses.
   */
  | { readonly t: 'listen'; readonly at: Readonly<Record<string, HostPort>> | undefined }
  | { readonly t: 'stop'; readonly drainTimeoutMs: number }
  /** Reopen the access log file (the process got SIGUSR1: logrotate moved it). */
  | { readonly t: 'reopenLogs' }
  /** Asks for the worker's metric families now (a /metrics scrape); answered with `collected` and the same id. */
  | { readonly t: 'collect'; readonly id: number };

export type FromWorker =
  /** Ready for its first snapshot. */
  | { readonly t: 'hello' }
  /** `addresses`: role → `host:port` for the log; `bound`: the same as addresses to bind again. */
  | { readonly t: 'listening'; readonly addresses: Readonly<Record<string, string>>; readonly bound: Readonly<Record<string, HostPort>> }
  | { readonly t: 'health'; readonly event: HealthEvent }
  | { readonly t: 'draining'; readonly entries: readonly (readonly [string, number])[] }
  /** Sent every STATS_INTERVAL_MS. */
  | { readonly t: 'stats'; readonly counters: CountersView; readonly inFlight: number; readonly requests: number }
  | { readonly t: 'fatal'; readonly code: string; readonly message: string }
  /** The Gateway listener ports it could not bind, after each snapshot (runtime/gateway-port-status.ts). */
  | { readonly t: 'gatewayPorts'; readonly report: GatewayPortsReport }
  /** The worker's metric families in prom-client's JSON form (its data plane's). */
  | { readonly t: 'collected'; readonly id: number; readonly families: readonly object[] };

/** How often a worker reports its counters (so /metrics lags by at most this). */
export const STATS_INTERVAL_MS = 1000;
