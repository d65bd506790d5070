/**
 * Per-request round-robin over a backend's ready endpoints. The cursor lives here, keyed by backend,
 * so it survives snapshot swaps; picks are synchronous, so N requests over k endpoints give each
 * ⌊N/k⌋ or ⌈N/k⌉ however many are in flight.
 */
import type { Backend, EndpointView } from '../snapshot/types.ts';

export class RoundRobin {
  readonly #cursors = new Map<string, number>();

  pick(backend: Backend): EndpointView | undefined {
    const eps = backend.ready;
    const n = eps.length;
    if (n === 0) return undefined;
    const cursor = this.#cursors.get(backend.key) ?? 0;
    const index = cursor % n;
    this.#cursors.set(backend.key, index + 1);
    return eps[index];
  }

  /** Forgets cursors of backends that no longer exist. */
  retain(backendKeys: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const key of this.#cursors.keys()) if (!backendKeys.has(key)) this.#cursors.delete(key);
  }
}
