/**
 * Keep-alive connection pools, one per endpoint (`address:port`), kept across snapshot swaps: an
 * endpoint that stays keeps its pool. When an endpoint leaves the configuration it gets no new
 * requests (it is no longer in any rotation), its requests in flight complete, and its pool closes
 * once they are done; until then it is reported as draining.
 *
 * How a pod is spoken to follows its backend's `upstream` (compile/backends.ts): HTTP/1.1 (EndpointPool,
 * the hot path, unchanged), h2c (H2EndpointPool over TCP) or TLS (TlsEndpointPool: h2 or HTTP/1.1 by
 * ALPN). An endpoint served by Services that speak to it differently gets a pool per way; one whose
 * Service changes protocol or CA closes the pool of the old way once its requests finish.
 */
import type { Dispatcher } from 'undici';
import { EndpointPool } from './endpoint-pool.ts';
import { H2EndpointPool } from './h2-endpoint-pool.ts';
import { TlsEndpointPool } from './tls-endpoint-pool.ts';
import { connectTcp, splitEndpointKey } from './upstream-connect.ts';
import type { Snapshot, UpstreamSpec } from '../snapshot/types.ts';

/** What the proxy needs of a pool, whatever protocol it speaks: undici's dispatch and handler interface. */
export interface UpstreamPool {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void;
  /** Lets queued and in-flight requests finish, then closes every connection. */
  close(): Promise<void>;
  /** Fails queued requests and cuts every connection. */
  destroy(): Promise<void>;
}

/** A pool for a non-HTTP/1.1 way of speaking to an endpoint. */
interface VariantPool {
  readonly protocol: 'h2c' | 'tls';
  readonly caPem: string | undefined;
  readonly connectTimeoutMs: number;
  readonly pool: UpstreamPool;
}

export interface PoolOptions {
  /** TCP connect timeout, ms, unless the Service overrides it. */
  readonly connectTimeoutMs: number;
  /** Most connections per endpoint. */
  readonly maxConnections: number;
  /** Most requests waiting for a connection to one endpoint (HTTP/1.1 and h2c pools). */
  readonly maxQueued: number;
  /** How long an idle keep-alive connection is kept, ms. */
  readonly keepAliveTimeoutMs: number;
  /** The client for plaintext HTTP/1.1 endpoints (`--upstream-client`); default undici. */
  readonly upstreamClient?: 'llhttp' | 'undici';
  /** Called whenever the set of draining endpoints changes (for reporting across processes). */
  readonly onDrainingChange?: (draining: ReadonlyMap<string, number>) => void;
}

export class UpstreamPools {
  readonly #pools = new Map<string, EndpointPool>();
  /**
   * h2c and TLS pools by endpoint key, found by a scan of a list that is nearly always one long: no key
   * string is built per request.
   */
  readonly #variants = new Map<string, VariantPool[]>();
  /** Endpoint key → since when it drains. */
  readonly #draining = new Map<string, number>();
  readonly #options: PoolOptions;

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  get size(): number {
    let n = this.#pools.size;
    for (const list of this.#variants.values()) n += list.length;
    return n;
  }

  /** Endpoints removed from the configuration whose last requests are still finishing, with the time they left. */
  draining(): ReadonlyMap<string, number> {
    return this.#draining;
  }

  /**
   * The pool of an endpoint for the backend's way of speaking to it (`upstream`; HTTP/1.1 when absent),
   * created on first use. A Service's own connect timeout gets a pool of its own.
   */
  get(endpointKey: string, connectTimeoutMs: number | undefined, upstream?: UpstreamSpec): UpstreamPool {
    const timeout = connectTimeoutMs ?? this.#options.connectTimeoutMs;
    if (upstream !== undefined && upstream.protocol !== 'http1') return this.#variant(endpointKey, timeout, upstream);
    const key = timeout === this.#options.connectTimeoutMs ? endpointKey : `${endpointKey}|${timeout}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new EndpointPool(`http://${endpointKey}`, {
        maxConnections: this.#options.maxConnections,
        maxQueued: this.#options.maxQueued,
        connectTimeoutMs: timeout,
        keepAliveTimeoutMs: this.#options.keepAliveTimeoutMs,
        client: this.#options.upstreamClient,
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  #variant(endpointKey: string, connectTimeoutMs: number, upstream: UpstreamSpec): UpstreamPool {
    let list = this.#variants.get(endpointKey);
    if (list !== undefined) {
      for (const v of list) {
        if (v.protocol === upstream.protocol && v.caPem === upstream.caPem && v.connectTimeoutMs === connectTimeoutMs) return v.pool;
      }
    } else {
      list = [];
      this.#variants.set(endpointKey, list);
    }
    const protocol = upstream.protocol as 'h2c' | 'tls';
    const pool = this.#create(endpointKey, connectTimeoutMs, protocol, upstream.caPem);
    list.push({ protocol, caPem: upstream.caPem, connectTimeoutMs, pool });
    return pool;
  }

  #create(endpointKey: string, connectTimeoutMs: number, protocol: 'h2c' | 'tls', caPem: string | undefined): UpstreamPool {
    const { host, port } = splitEndpointKey(endpointKey);
    const { maxConnections, keepAliveTimeoutMs } = this.#options;
    if (protocol === 'tls') {
      return new TlsEndpointPool({ host, port, authority: endpointKey, caPem, connectTimeoutMs, maxConnections, keepAliveTimeoutMs, maxQueued: this.#options.maxQueued });
    }
    return new H2EndpointPool({
      origin: `http://${endpointKey}`,
      authority: endpointKey,
      connect: (callback) => connectTcp({ host, port, connectTimeoutMs }, callback),
      connectTimeoutMs,
      maxSessions: maxConnections,
      maxQueued: this.#options.maxQueued,
      keepAliveTimeoutMs,
    });
  }

  /** Closes, gracefully, the pools of endpoints the snapshot no longer lists (and of ways no backend speaks to them any more). */
  retain(snapshot: Snapshot): void {
    if (this.#pools.size === 0 && this.#variants.size === 0) return;
    const live = new Set<string>();
    for (const backend of snapshot.backends.values()) for (const ep of backend.all) live.add(ep.key);
    if (this.#variants.size > 0) this.#retainVariants(snapshot, live);
    for (const [key, pool] of this.#pools) {
      const endpointKey = key.includes('|') ? key.slice(0, key.indexOf('|')) : key;
      if (live.has(endpointKey)) continue;
      this.#pools.delete(key);
      this.#drain(endpointKey, pool);
    }
  }

  #retainVariants(snapshot: Snapshot, live: ReadonlySet<string>): void {
    const wanted = new Map<string, UpstreamSpec[]>();
    for (const backend of snapshot.backends.values()) {
      if (backend.upstream.protocol === 'http1') continue;
      for (const ep of backend.all) {
        const list = wanted.get(ep.key);
        if (list === undefined) wanted.set(ep.key, [backend.upstream]);
        else list.push(backend.upstream);
      }
    }
    for (const [endpointKey, list] of this.#variants) {
      const specs = wanted.get(endpointKey) ?? [];
      const kept = list.filter((v) => {
        if (specs.some((u) => u.protocol === v.protocol && u.caPem === v.caPem)) return true;
        // Gone with its endpoint: reported as draining. Only the way of speaking changed: closed quietly.
        if (live.has(endpointKey)) void v.pool.close().catch(() => undefined);
        else this.#drain(endpointKey, v.pool);
        return false;
      });
      if (kept.length === 0) this.#variants.delete(endpointKey);
      else if (kept.length !== list.length) this.#variants.set(endpointKey, kept);
    }
  }

  #drain(endpointKey: string, pool: UpstreamPool): void {
    this.#draining.set(endpointKey, Date.now());
    this.#options.onDrainingChange?.(this.#draining);
    const done = (): void => {
      this.#draining.delete(endpointKey);
      this.#options.onDrainingChange?.(this.#draining);
    };
    pool.close().then(done, done);
  }

  /** Closes every pool; in-flight requests finish first unless `force`. */
  async closeAll(force = false): Promise<void> {
    const pools: UpstreamPool[] = [...this.#pools.values()];
    for (const list of this.#variants.values()) for (const v of list) pools.push(v.pool);
    this.#pools.clear();
    this.#variants.clear();
    await Promise.all(pools.map((p) => (force ? p.destroy() : p.close()).catch(() => undefined)));
  }
}
