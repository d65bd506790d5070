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
    const found = this.#find(backend, health, exclude);
    this.panicked = found < -1;
    if (found === -1) return undefined;
    const index = found < -1 ? -2 - found : found;
    this.#cursors.set(backend.key, index + 1);
    return backend.rotation[index];
  }

  /**
   * What pick() would return now, without moving the cursor (for `switchyard explain`); `panic`: it
   * would have to ignore health.
   */
  peek(backend: Backend, health?: Availability): { readonly endpoint: EndpointView | undefined; readonly panic: boolean } {
    const found = this.#find(backend, health, undefined);
    if (found === -1) return { endpoint: undefined, panic: false };
    return found < -1 ? { endpoint: backend.rotation[-2 - found], panic: true } : { endpoint: backend.rotation[found], panic: false };
  }

  /**
   * The rotation index pick() takes: `index` for an available endpoint, `-2 - index` for the panic
   * choice, -1 for none. A number, not an object: pick() runs per request and must not allocate.
   */
  #find(backend: Backend, health: Availability | undefined, exclude: readonly string[] | undefined): number {
    const eps = backend.rotation;
    const n = eps.length;
    if (n === 0) return -1;
    const start = (this.#cursors.get(backend.key) ?? this.#offset) % n;
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
    for (const key of this.#cursors.keys()) if (!backendKeys.has(key)) this.#cursors.delete(key);
  }
}
