/**
 * Per-request round-robin over a backend's rotation (its ready endpoints, or the terminating
 * fallback). The cursor lives here, keyed by backend, so it survives snapshot swaps; picks are
 * synchronous, so N requests over k healthy endpoints give each ⌊N/k⌋ or ⌈N/k⌉ however many are in
 * flight. Endpoints that are ejected or failing their health check are skipped; when none is left,
 * the pick ignores health (panic mode) rather than failing every request.
 */
import type { Backend, EndpointView } from '../snapshot/types.ts';

export interface Availability {
  available(endpointKey: string): boolean;
}

export class RoundRobin {
  readonly #cursors = new Map<string, number>();
  readonly #offset: number;
  /** Whether the last pick had to ignore health (every candidate unavailable). */
  panicked = false;

  /**
   * `offset`: where a new backend's cursor starts. Each data-plane worker process starts at its own
   * index, so W workers that each get a request start on W different endpoints rather than all on the first.
   */
  constructor(offset = 0) {
    this.#offset = offset;
  }

  /**
   * The next endpoint, skipping unavailable ones and those in `exclude` (already tried by this request).
   * Undefined when the rotation is empty or every endpoint is excluded.
   */
  pick(backend: Backend, health?: Availability, exclude?: readonly string[]): EndpointView | undefined {
    this.panicked = false;
    const eps = backend.rotation;
    const n = eps.length;
    if (n === 0) return undefined;
    const start = (this.#cursors.get(backend.key) ?? this.#offset) % n;
    let firstUnavailable = -1;
    for (let i = 0; i < n; i++) {
      const index = start + i < n ? start + i : start + i - n;
      const ep = eps[index]!;
      if (exclude !== undefined && exclude.includes(ep.key)) continue;
      if (health === undefined || health.available(ep.key)) {
        this.#cursors.set(backend.key, index + 1);
        return ep;
      }
      if (firstUnavailable < 0) firstUnavailable = index;
    }
    if (firstUnavailable < 0) return undefined;
    this.panicked = true;
    this.#cursors.set(backend.key, firstUnavailable + 1);
    return eps[firstUnavailable];
  }

  /** Forgets cursors of backends that no longer exist. */
  retain(backendKeys: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const key of this.#cursors.keys()) if (!backendKeys.has(key)) this.#cursors.delete(key);
  }
}
