/**
 * The Gateway listener sockets of one data-plane process: one per port of Snapshot.gatewayPorts, on
 * --gateway-address, opened and closed as snapshots bring and take away Gateway listeners. Each is an
 * ordinary HTTP listener (http-listener.ts: HTTP/1.1, h2c, and for HTTPS TLS with HTTP/2 by ALPN) whose
 * requests are matched against its port's routes (ingress-listener.ts, `gatewayPort`).
 *
 * A port that cannot be bound (in use, not permitted) is not fatal: it is reported (`report`, which
 * the runtime turns into a PortUnavailable diagnostic) and tried again at the next snapshot whose
 * content differs (its hash), not at every swap: a report itself swaps a snapshot of the same hash.
 * Changes are applied one at a time, in order; a removed port's connections drain as at shutdown.
 */
import type { Server } from 'node:net';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import type { Listener } from './http-listener.ts';

/** A Gateway port that could not be bound. */
export interface GatewayPortFailure {
  readonly port: number;
  /** The OS error code (`EADDRINUSE`, `EACCES`…). */
  readonly code: string;
  readonly message: string;
}

/** The outcome of applying the snapshot of `hash`: the ports that could not be bound (plain data: it crosses threads). */
export interface GatewayPortsReport {
  readonly hash: string;
  readonly failures: readonly GatewayPortFailure[];
}

/** A listener made for a port, and what to release when it is closed. */
export interface GatewaySocket {
  readonly listener: Listener;
  dispose(): void;
}

export interface GatewayListenerOptions {
  readonly holder: SnapshotHolder;
  /** --gateway-address. */
  readonly host: string;
  /** Makes the (not yet listening) listener of a port. */
  readonly create: (port: number, protocol: 'HTTP' | 'HTTPS') => GatewaySocket;
  /** How long a removed port's requests may take to finish. */
  readonly drainTimeoutMs: number;
  /** Told after each snapshot is applied. */
  readonly report: (report: GatewayPortsReport) => void;
  /**
   * The role of another listener of this process on `port` of an overlapping address, if any: with
   * SO_REUSEPORT the kernel would let both bind and spread connections over them, so it is refused.
   */
  readonly taken: (port: number) => string | undefined;
  readonly log: Logger;
}

interface Open {
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly socket: GatewaySocket;
}

export class GatewayListeners {
  readonly #options: GatewayListenerOptions;
  readonly #open = new Map<number, Open>();
  #appliedHash: string | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;
  #reusePort = false;

  constructor(options: GatewayListenerOptions) {
    this.#options = options;
  }

  /**
   * Opens the current snapshot's ports and follows the next snapshots; resolves once the first are bound
   * (or failed). `reusePort`: bind with SO_REUSEPORT, beside the other worker threads' sockets.
   */
  start(reusePort: boolean): Promise<void> {
    this.#reusePort = reusePort;
    this.#unsubscribe ??= this.#options.holder.onSwap(() => this.#kick());
    this.#kick();
    return this.#running ?? Promise.resolve();
  }

  /** Ports bound now. */
  ports(): number[] {
    return [...this.#open.keys()];
  }

  inFlight(): number {
    let n = 0;
    for (const o of this.#open.values()) n += o.socket.listener.inFlight();
    return n;
  }

  /** Stops following snapshots and drains every port (bounded by `timeoutMs`). */
  async drain(timeoutMs: number): Promise<{ cut: number }> {
    this.#stopped = true;
    this.#unsubscribe?.();
    await this.#running;
    const open = [...this.#open.values()];
    this.#open.clear();
    const drained = await Promise.all(open.map((o) => this.#close(o, timeoutMs)));
    return { cut: drained.reduce((n, d) => n + d, 0) };
  }

  #kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#apply();
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#running = undefined;
    });
  }

  async #apply(): Promise<void> {
    const { holder, host, log } = this.#options;
    const reusePort = this.#reusePort;
    const snapshot = holder.current();
    if (snapshot.hash === this.#appliedHash) return;
    this.#appliedHash = snapshot.hash;
    const wanted = snapshot.gatewayPorts ?? new Map();
    let closed = false;
    for (const [port, open] of this.#open) {
      if (wanted.get(port)?.protocol === open.protocol) continue;
      this.#open.delete(port);
      closed = true;
      log.info({ address: host, port }, 'gateway listener port closed');
      void this.#close(open, this.#options.drainTimeoutMs);
    }
    // A listening socket is released at the end of the loop turn it is closed in: a port that changes
    // protocol is bound again only after that.
    if (closed) await new Promise((resolve) => setImmediate(resolve));
    const failures: GatewayPortFailure[] = [];
    for (const [port, view] of wanted) {
      if (this.#open.has(port) || this.#stopped) continue;
      const taken = this.#options.taken(port);
      if (taken !== undefined) {
        failures.push({ port, code: 'EADDRINUSE', message: `the port of Switchyard's ${taken} listener` });
        continue;
      }
      const socket = this.#options.create(port, view.protocol);
      try {
        await listenOn(socket.listener.server, host, port, reusePort);
      } catch (err) {
        socket.dispose();
        const e = err as NodeJS.ErrnoException;
        failures.push({ port, code: e.code ?? 'unknown', message: e.message });
        continue;
      }
      if (this.#stopped) {
        socket.dispose();
        continue;
      }
      this.#open.set(port, { protocol: view.protocol, socket });
      log.info({ address: host, port, protocol: view.protocol, listeners: view.listeners }, 'gateway listener port open');
    }
    this.#options.report({ hash: snapshot.hash, failures });
  }

  async #close(open: Open, timeoutMs: number): Promise<number> {
    const { cut } = await open.socket.listener.drain(timeoutMs);
    open.socket.dispose();
    return cut;
  }
}

function listenOn(server: Server, host: string, port: number, reusePort: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error): void => {
      reject(err);
      // Its sweep timers stop with 'close'.
      server.close();
    };
    server.once('error', failed);
    server.listen({ port, host, reusePort }, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
