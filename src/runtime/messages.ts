/**
 * Messages between the primary (control plane) and the data-plane worker processes. Sent over the
 * cluster IPC channel with 'advanced' serialization (structured clone), so snapshots — plain data with
 * Maps — cross as they are.
 */
import type { CountersView } from '../dataplane/counters.ts';
import type { HealthEvent } from '../health/endpoint-health.ts';
import type { Snapshot } from '../snapshot/types.ts';

export type ToWorker =
  | { readonly t: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly t: 'health'; readonly events: readonly HealthEvent[] }
  /** The TLS session-ticket key (48 bytes; a Uint8Array once it crossed the channel). */
  | { readonly t: 'ticketKeys'; readonly keys: Uint8Array }
  | { readonly t: 'stop'; readonly drainTimeoutMs: number }
  /** Reopen the access log file (the primary got SIGUSR1: logrotate moved it). */
  | { readonly t: 'reopenLogs' }
  /** Asks for the worker's metric families now (a /metrics scrape); answered with `collected` and the same id. */
  | { readonly t: 'collect'; readonly id: number };

export type FromWorker =
  /** Ready for its first snapshot. */
  | { readonly t: 'hello' }
  | { readonly t: 'listening'; readonly addresses: Readonly<Record<string, string>> }
  | { readonly t: 'health'; readonly event: HealthEvent }
  | { readonly t: 'draining'; readonly entries: readonly (readonly [string, number])[] }
  /** Sent every STATS_INTERVAL_MS. */
  | { readonly t: 'stats'; readonly counters: CountersView; readonly inFlight: number }
  | { readonly t: 'fatal'; readonly code: string; readonly message: string }
  /** The worker's metric families in prom-client's JSON form (its default process metrics and the data plane's). */
  | { readonly t: 'collected'; readonly id: number; readonly families: readonly object[] };

/** How often a worker reports its counters (so /metrics lags by at most this). */
export const STATS_INTERVAL_MS = 1000;

/** Environment variables a worker is started with. */
export const WORKER_ENV = { config: 'SWITCHYARD_CONFIG', index: 'SWITCHYARD_WORKER_INDEX' } as const;
