/**
 * The open tunnels of one data-plane process (WebSocket and other HTTP/1.1 upgrades, tunnel.ts): the
 * two sockets of each joined both ways, with backpressure and half-close. The registry counts them,
 * closes those silent both ways for the idle timeout, and gives those that must end (their endpoint
 * left the configuration, or the process drains) the drain timeout before closing them. A reload that
 * keeps a tunnel's endpoint leaves the tunnel alone: a tunnel is pinned to its pod, not to a route. One
 * sweep timer for all tunnels, running only while there are some.
 */
import type { Socket } from 'node:net';
import type { Snapshot } from '../snapshot/types.ts';
import type { TakenConnection } from './client-exchange.ts';
import type { TrafficCounters } from './counters.ts';

/** What the registry needs of a tunnel. */
export interface TrackedTunnel {
  /** The pod's `address:port` (an endpoint key). */
  readonly endpoint: string;
  /** Set by the tunnel whenever bytes move, either way; cleared by each sweep. */
  active: boolean;
  /** Closes both sides at once; the tunnel then calls `TunnelRegistry.remove`. */
  close(): void;
}

export interface TunnelRegistryOptions {
  readonly counters: TrafficCounters;
  /** A tunnel silent both ways this long is closed, ms (`--tunnel-idle-timeout`, default 1 h). */
  readonly idleTimeoutMs: number;
  /** How long a tunnel that must end (its endpoint removed) stays open, ms (`--drain-timeout`). */
  readonly drainTimeoutMs: number;
  /** TCP connect timeout for the connection a tunnel is opened on, unless the Service sets its own, ms. */
  readonly connectTimeoutMs: number;
  /** The clock, ms; default performance.now. */
  readonly now?: () => number;
  /** Period of the sweep, ms; default a quarter of the shorter timeout, between 25 ms and 1 s. */
  readonly sweepMs?: number;
}

interface TunnelState {
  /** When the tunnel was last seen silent after moving bytes (or opened). */
  quietSince: number;
  /** When it is closed whatever it does; Infinity while nothing asks it to end. */
  closeAt: number;
}

export class TunnelRegistry {
  readonly connectTimeoutMs: number;
  readonly #tunnels = new Map<TrackedTunnel, TunnelState>();
  readonly #counters: TrafficCounters;
  readonly #idleMs: number;
  readonly #drainMs: number;
  readonly #now: () => number;
  readonly #sweepMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** The last snapshot seen, and its endpoint keys once computed (only when some tunnel needs them). */
  #snapshot: Snapshot | undefined;
  #live: ReadonlySet<string> | undefined;
  /** Set by drain(): every tunnel, present or future, closes by then. */
  #drainAt = Infinity;
  #onEmpty: (() => void) | undefined;

  constructor(options: TunnelRegistryOptions) {
    this.#counters = options.counters;
    this.#idleMs = options.idleTimeoutMs;
    this.#drainMs = options.drainTimeoutMs;
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.#now = options.now ?? (() => performance.now());
    this.#sweepMs = options.sweepMs ?? Math.max(25, Math.min(1000, Math.floor(Math.min(options.idleTimeoutMs, options.drainTimeoutMs || Infinity) / 4)));
  }

  /** Tunnels open now. */
  get size(): number {
    return this.#tunnels.size;
  }

  /** Joins a client connection switched to another protocol (after the pod's 101) with the pod's socket. */
  open(endpoint: string, client: TakenConnection, upstream: Socket): void {
    new Tunnel(this, endpoint, client, upstream);
  }

  /** Starts tracking an open tunnel. */
  add(tunnel: TrackedTunnel): void {
    const now = this.#now();
    // Its endpoint may have left the configuration while the pod was answering the upgrade.
    const gone = this.#snapshot !== undefined && !this.#liveEndpoints().has(tunnel.endpoint);
    this.#tunnels.set(tunnel, { quietSince: now, closeAt: Math.min(this.#drainAt, gone ? now + this.#drainMs : Infinity) });
    this.#counters.tunnelsOpen++;
    this.#counters.tunnelsTotal++;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.sweep(this.#now()), this.#sweepMs);
      this.#timer.unref();
    }
  }

  /** A tunnel closed (both sides). */
  remove(tunnel: TrackedTunnel): void {
    if (!this.#tunnels.delete(tunnel)) return;
    this.#counters.tunnelsOpen--;
    if (this.#tunnels.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#onEmpty?.();
  }

  /**
   * A new snapshot: tunnels to endpoints it no longer lists are closed after the drain timeout; those
   * whose endpoint came back before then stay. Every other tunnel is left as it is.
   */
  retain(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#live = undefined;
    if (this.#tunnels.size === 0) return;
    const live = this.#liveEndpoints();
    const now = this.#now();
    for (const [tunnel, state] of this.#tunnels) {
      if (!live.has(tunnel.endpoint)) {
        if (state.closeAt === Infinity) state.closeAt = now + this.#drainMs;
      } else if (state.closeAt !== Infinity && this.#drainAt === Infinity) {
        state.closeAt = Infinity;
      }
    }
  }

  /** Closes what was silent too long or ran out of time; called by the sweep timer. */
  sweep(now: number): void {
    for (const [tunnel, state] of this.#tunnels) {
      if (now >= state.closeAt) {
        tunnel.close();
      } else if (tunnel.active) {
        tunnel.active = false;
        state.quietSince = now;
      } else if (now - state.quietSince >= this.#idleMs) {
        tunnel.close();
      }
    }
  }

  /**
   * The process stops: every tunnel (and any opened from now on) gets `timeoutMs`, then is closed.
   * Resolves with how many were still open at the deadline, as soon as none is left.
   */
  drain(timeoutMs: number): Promise<number> {
    const now = this.#now();
    this.#drainAt = Math.min(this.#drainAt, now + timeoutMs);
    for (const state of this.#tunnels.values()) state.closeAt = Math.min(state.closeAt, this.#drainAt);
    return new Promise((resolve) => {
      if (this.#tunnels.size === 0) return resolve(0);
      // Exactly at the deadline, not at the next sweep.
      const deadline = setTimeout(() => {
        finish(this.#tunnels.size);
        this.closeAll();
      }, timeoutMs);
      const finish = (cut: number): void => {
        clearTimeout(deadline);
        this.#onEmpty = undefined;
        resolve(cut);
      };
      this.#onEmpty = () => finish(0);
    });
  }

  /** Closes every tunnel now. */
  closeAll(): void {
    for (const tunnel of [...this.#tunnels.keys()]) tunnel.close();
  }

  #liveEndpoints(): ReadonlySet<string> {
    if (this.#live !== undefined) return this.#live;
    const live = new Set<string>();
    for (const backend of this.#snapshot!.backends.values()) for (const ep of backend.all) live.add(ep.key);
    this.#live = live;
    return live;
  }
}

/**
 * Two sockets joined both ways: what one side sends is written to the other, reading paused while
 * the other is behind (backpressure); one side's end is passed on as an end (half-close), and a side
 * that fails or is cut takes the other down with it.
 */
class Tunnel implements TrackedTunnel {
  readonly endpoint: string;
  active = true;
  readonly #registry: TunnelRegistry;
  readonly #client: Socket;
  readonly #upstream: Socket;
  #open = 2;

  constructor(registry: TunnelRegistry, endpoint: string, taken: TakenConnection, upstream: Socket) {
    this.#registry = registry;
    this.endpoint = endpoint;
    const client = taken.socket;
    this.#client = client;
    this.#upstream = upstream;
    // A pod that ends its side may still be sent the client's bytes, and the other way round (the
    // client's socket comes from a listener that allows half-open connections already).
    upstream.allowHalfOpen = true;
    this.#join(client, upstream);
    this.#join(upstream, client);
    registry.add(this);
    // The bytes the client sent right after its request go first; undici put the pod's bytes after
    // its 101 back into the upstream socket's buffer, so they come with its first 'data' event.
    if (taken.buffered !== undefined) upstream.write(taken.buffered);
    if (taken.ended) upstream.end();
    client.resume();
    upstream.resume();
  }

  close(): void {
    this.#client.destroy();
    this.#upstream.destroy();
  }

  #join(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      this.active = true;
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => from.resume());
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', () => {
      // Closed both ways in good order: the other side is finishing what it was given and closes itself.
      if (!(from.readableEnded && from.writableFinished)) to.destroy();
      if (--this.#open === 0) this.#registry.remove(this);
    });
  }
}
