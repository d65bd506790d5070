/**
 * Per-request round-robin over a backend's rotation (its ready endpoints, or the terminating
 * fallback). The cursors are keyed by backend, so they survive snapshot swaps, and live in a `Cursors`
 * store: this thread's own, or one shared by every worker thread (cursors.ts). Picks are synchronous,
 * so N requests over k healthy endpoints give each ⌊N/k⌋ or ⌈N/k⌉ however many are in flight and
 * whichever thread serves them. Endpoints that are ejected or failing their health check are skipped;
 * when none is left, the pick ignores health (panic mode) rather than failing every request.
 *
 * Session affinity (pickAffine) goes before the rotation: the endpoint a request's cookie names, or the
 * one its client address had (ClientIP, remembered in a table every thread shares), while it is still in
 * the rotation and available; otherwise the round-robin pick, remembered for the client.
 */
import type { Backend, EndpointView } from '../snapshot/types.ts';
import type { Affinity } from './affinity-request.ts';
import { AffinityTable } from './affinity-table.ts';
import { LocalCursors, type Cursors } from './cursors.ts';

export interface Availability {
  available(endpointKey: string): boolean;
}

export class RoundRobin {
  readonly #cursors: Cursors;
  /** ClientIP affinities; made on first use when not given (one thread's own). */
  #affinity: AffinityTable | undefined;
  /** Whether the last pick had to ignore health (every candidate unavailable). */
  panicked = false;

  /**
   * `cursors`: shared by the worker threads (cursors.ts SharedCursors); default: this thread's own.
   * `affinity`: the ClientIP affinity table, shared by the worker threads; default: this thread's own.
   */
  constructor(cursors: Cursors = new LocalCursors(), affinity?: AffinityTable) {
    this.#cursors = cursors;
    this.#affinity = affinity;
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
   * pick() for a request with session affinity: the endpoint its cookie names while that one is available
   * and not in `exclude`; else, with ClientIP affinity, the endpoint the client address had within its
   * timeout, under the same conditions; else pick(), remembered for the client (unless in panic mode:
   * a pod every check fails is not worth keeping a client on).
   */
  pickAffine(backend: Backend, health: Availability | undefined, affinity: Affinity, exclude?: readonly string[]): EndpointView | undefined {
    const named = affinity.named;
    if (named !== undefined && usable(named.key, health, exclude)) {
      this.panicked = false;
      return named;
    }
    const client = affinity.client;
    if (client === undefined) return this.pick(backend, health, exclude);
    const table = (this.#affinity ??= new AffinityTable());
    const rotation = backend.rotation;
    const kept = table.lookup(backend.key, client, affinity.clientSeconds, rotation, affinity.at);
    if (kept >= 0 && usable(rotation[kept]!.key, health, exclude)) {
      this.panicked = false;
      return rotation[kept];
    }
    const picked = this.pick(backend, health, exclude);
    if (picked === undefined || this.panicked) return picked;
    const index = rotation.indexOf(picked);
    const chosen = table.remember(index, affinity.clientSeconds, rotation, affinity.at);
    // Another thread gave this client a pod meanwhile: that one, so the client does not flip between two.
    return chosen !== index && usable(rotation[chosen]!.key, health, exclude) ? rotation[chosen] : picked;
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

function usable(key: string, health: Availability | undefined, exclude: readonly string[] | undefined): boolean {
  return (exclude === undefined || !exclude.includes(key)) && (health === undefined || health.available(key));
}
