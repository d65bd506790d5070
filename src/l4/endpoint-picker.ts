/**
 * The layer-4 endpoint choice for one new connection or UDP flow: the data plane's round-robin
 * (balancer.ts, skipping endpoints ejected by health checks), and, for a Service with sessionAffinity
 * ClientIP, the endpoint this client address had last, while it is still chosen and available and the
 * affinity has not timed out. As kube-proxy's, the timeout runs from the last connection of that client.
 */
import { RoundRobin, type Availability } from '../dataplane/balancer.ts';
import type { Backend, EndpointView } from '../snapshot/types.ts';

interface Sticky {
  endpoint: string;
  expiresAt: number;
}

export interface PickerOptions {
  /** Endpoint health (active checks); default: every endpoint available. */
  readonly health?: Availability;
  /** Clock, ms; default Date.now. */
  readonly now?: () => number;
}

export class EndpointPicker {
  readonly #rr = new RoundRobin();
  readonly #health: Availability | undefined;
  readonly #now: () => number;
  /** `backendKey|clientAddress` → its endpoint. */
  readonly #sticky = new Map<string, Sticky>();

  constructor(options: PickerOptions = {}) {
    this.#health = options.health;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The endpoint for a new connection from `client`, none of `exclude` (endpoints this connection already
   * failed to reach). `affinitySeconds`: the Service's ClientIP affinity timeout; undefined: no affinity.
   */
  pick(backend: Backend, client: string, affinitySeconds: number | undefined, exclude?: readonly string[]): EndpointView | undefined {
    if (affinitySeconds === undefined) return this.#rr.pick(backend, this.#health, exclude);
    const key = `${backend.key}|${client}`;
    const now = this.#now();
    const sticky = this.#sticky.get(key);
    if (sticky !== undefined && sticky.expiresAt > now && !(exclude?.includes(sticky.endpoint) ?? false)) {
      const kept = backend.rotation.find((e) => e.key === sticky.endpoint);
      if (kept !== undefined && (this.#health === undefined || this.#health.available(kept.key))) {
        sticky.expiresAt = now + affinitySeconds * 1000;
        return kept;
      }
    }
    const picked = this.#rr.pick(backend, this.#health, exclude);
    if (picked !== undefined) this.#sticky.set(key, { endpoint: picked.key, expiresAt: now + affinitySeconds * 1000 });
    return picked;
  }

  /** Forgets timed-out affinities, and the cursors and affinities of backends not in `backendKeys`. */
  sweep(backendKeys?: ReadonlySet<string>): void {
    const now = this.#now();
    for (const [key, sticky] of this.#sticky) {
      if (sticky.expiresAt <= now || (backendKeys !== undefined && !backendKeys.has(key.slice(0, key.lastIndexOf('|'))))) this.#sticky.delete(key);
    }
    if (backendKeys !== undefined) this.#rr.retain(backendKeys);
  }

  /** Client addresses with a live affinity, for the admin view. */
  affinities(): number {
    return this.#sticky.size;
  }
}
