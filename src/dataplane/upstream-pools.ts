/**
 * Keep-alive connection pools, one per endpoint (`address:port`), kept across snapshot swaps: an
 * endpoint that stays keeps its pool. When an endpoint leaves the configuration it gets no new
 * requests (it is no longer in any rotation), its requests in flight complete, and its pool closes
 * once they are done; until then it is reported as draining.
 */
import { EndpointPool } from './endpoint-pool.ts';
import type { Snapshot } from '../snapshot/types.ts';

export interface PoolOptions {
  /** TCP connect timeout, ms, unless the Service overrides it. */
  readonly connectTimeoutMs: number;
  /** Most connections per endpoint. */
  readonly maxConnections: number;
  /** How long an idle keep-alive connection is kept, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Called whenever the set of draining endpoints changes (for reporting across processes). */
  readonly onDrainingChange?: (draining: ReadonlyMap<string, number>) => void;
}

export class UpstreamPools {
  readonly #pools = new Map<string, EndpointPool>();
  /** Endpoint key → since when it drains. */
  readonly #draining = new Map<string, number>();
  readonly #options: PoolOptions;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#pools.size;
  }

  /** Endpoints removed from the configuration whose last requests are still finishing, with the time they left. */
  draining(): ReadonlyMap<string, number> {
    return this.#draining;
  }

  /** The pool of an endpoint, created on first use. A Service's own connect timeout gets a pool of its own. */
  get(endpointKey: string, connectTimeoutMs: number | undefined): EndpointPool {
    const timeout = connectTimeoutMs ?? this.#options.connectTimeoutMs;
    const key = timeout === this.#options.connectTimeoutMs ? endpointKey : `${endpointKey}|${timeout}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new EndpointPool(`http://${endpointKey}`, {
        maxConnections: this.#options.maxConnections,
        connectTimeoutMs: timeout,
        keepAliveTimeoutMs: this.#options.keepAliveTimeoutMs,
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Closes, gracefully, the pools of endpoints the snapshot no longer lists. */
  retain(snapshot: Snapshot): void {
    if (this.#pools.size === 0) return;
    const live = new Set<string>();
    for (const backend of snapshot.backends.values()) for (const ep of backend.all) live.add(ep.key);
    for (const [key, pool] of this.#pools) {
      const endpointKey = key.includes('|') ? key.slice(0, key.indexOf('|')) : key;
      if (live.has(endpointKey)) continue;
      this.#pools.delete(key);
      this.#draining.set(endpointKey, Date.now());
      this.#options.onDrainingChange?.(this.#draining);
      const done = (): void => {
        this.#draining.delete(endpointKey);
        this.#options.onDrainingChange?.(this.#draining);
      };
      pool.close().then(done, done);
    }
  }

  /** Closes every pool; in-flight requests finish first unless `force`. */
  async closeAll(force = false): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => (force ? p.destroy() : p.close()).catch(() => undefined)));
  }
}
