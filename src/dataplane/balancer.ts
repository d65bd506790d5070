/**
 * Per-request round-robin over a backend's rotation (its ready endpoints, or the terminating
 * fallback). The cursors are keyed by backend, so they survive snapshot swaps, and live in a `Cursors`
 * store: this thread's own, or one shared by every worker thread (cursors.ts). Picks are synchronous,
 * so N requests over k healthy endpoints give each ⌊N/k⌋ or ⌈N/k⌉ however many are in flight and
 * whichever thread serves them. Endpoints that are ejected or failing their health check are skipped;
 * when none is left, the pick ignores health (panic mode) rather than failing every request.
 */
import type { Backend, EndpointView } from '../snapshot/types.ts';
import { LocalCursors, type Cursors } from './cursors.ts';

export interface Availability {
  available(endpointKey: string): boolean;
}

export class RoundRobin {
  readonly #cursors: Cursors;
  /** Whether the last pick had to ignore health (every candidate unavailable). */
  panicked = false;

  /** `cursors`: shared by the worker threads (cursors.ts SharedCursors); default: this thread's own. */
  constructor(cursors: Cursors = new LocalCursors()) {
    this.#cursors = cursors;
  }

  /**
   * The next endpoint, skipping unavailable ones and those in `exclude` (already tried by this request).
   * Undefined when the rotation is empty or every endpoint is excluded.
   */
  pick(backend: Backend, health?: Availability, exclude?: readonly string[]): EndpointView | undefined {
    // Another thread may move the cursor between our read and our swap: then read again. Each retry
    // means another thread's pick went through, so this ends; under 2 threads it rarely loops once.
    for (;;) {
      const seen = this.#cursors.load(backend.key);
      const found = this.#find(backend, seen, health, exclude);
      if (found === -1) {
        this.panicked = false;
        return undefined;
      }
      const index = found < -1 ? -2 - found : found;
      if (!this.#cursors.swap(backend.key, seen, index + 1)) continue;
      this.panicked = found < -1;
      return backend.rotation[index];
    }
  }

  /**
   * What pick() would return now, without moving the cursor (for `switchyard explain`); `panic`: it
   * would have to ignore health.
   */
  peek(backend: Backend, health?: Availability): { readonly endpoint: EndpointView | undefined; readonly panic: boolean } {
    const found = this.#find(backend, this.#cursors.load(backend.key), health, undefined);
    if (found === -1) return { endpoint: undefined, panic: false };
    return found < -1 ? { endpoint: backend.rotation[-2 - found], panic: true } : { endpoint: backend.rotation[found], panic: false };
  }

  /**
   * The rotation index pick() takes: `index` for an available endpoint, `-2 - index` for the panic
   * choice, -1 for none. A number, not an object: pick() runs per request and must not allocate.
   */
  #find(backend: Backend, cursor: number, health: Availability | undefined, exclude: readonly string[] | undefined): number {
    const eps = backend.rotation;
    const n = eps.length;
    if (n === 0) return -1;
    const start = cursor % n;
    let firstUnavailable = -1;
    for (let i = 0; i < n; i++) {
      const index = start + i < n ? start + i : start + i - n;
      const key = eps[index]!.key;
      if (exclude !== undefined && exclude.includes(key)) continue;
      if (health === undefined || health.available(key)) return index;
      if (firstUnavailable < 0) firstUnavailable = index;
    }
    return firstUnavailable < 0 ? -1 : -2 - firstUnavailable;
  }

  /** Forgets cursors of backends that no longer exist. */
  retain(backendKeys: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    this.#cursors.retain(backendKeys);
  }
}
