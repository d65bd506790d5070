/**
 * Keep-alive connection pools, one per endpoint (`address:port`), kept across snapshot swaps:
 * an endpoint that stays keeps its pool; a pool whose endpoint left the configuration is closed
 * gracefully (requests in flight on it complete first).
 */
import { Pool } from 'undici';
import type { Snapshot } from '../snapshot/types.ts';

export interface PoolOptions {
  /** TCP connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /** Time to wait for response headers, and longest idle gap in a body, ms. */
  readonly responseTimeoutMs: number;
  /** Most connections per endpoint. */
  readonly maxConnections: number;
}

export class UpstreamPools {
  readonly #pools = new Map<string, Pool>();
  readonly #options: PoolOptions;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#pools.size;
  }

  /** The pool of an endpoint, created on first use. */
  get(endpointKey: string): Pool {
    let pool = this.#pools.get(endpointKey);
    if (!pool) {
      pool = new Pool(`http://${endpointKey}`, {
        connections: this.#options.maxConnections,
        connect: { timeout: this.#options.connectTimeoutMs },
        headersTimeout: this.#options.responseTimeoutMs,
        bodyTimeout: this.#options.responseTimeoutMs,
      });
      this.#pools.set(endpointKey, pool);
    }
    return pool;
  }

  /** Closes the pools of endpoints the snapshot no longer lists. */
  retain(snapshot: Snapshot): void {
    if (this.#pools.size === 0) return;
    const live = new Set<string>();
    for (const backend of snapshot.backends.values()) for (const ep of backend.all) live.add(ep.key);
    for (const [key, pool] of this.#pools) {
      if (live.has(key)) continue;
      this.#pools.delete(key);
      void pool.close().catch(() => undefined);
    }
  }

  /** Closes every pool; in-flight requests finish first unless `force`. */
  async closeAll(force = false): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => (force ? p.destroy() : p.close()).catch(() => undefined)));
  }
}
