import type { Rec } from '../model/records.ts';

/**
 * What the composition root needs of a source (file-source.ts, kube-source.ts): it hands over its
 * whole current set of records on every change, and says when its first complete load is done.
 */
export interface Source {
  /** The store's name for this source's records. */
  readonly name: string;
  onUpdate(fn: (records: readonly Rec[]) => void): void;
  /** Resolves after the first complete load (what /readyz waits for); rejects with a coded error. */
  start(): Promise<void>;
  /** JSON-ready status for the admin API. */
  status(): unknown;
  close(): void;
}
