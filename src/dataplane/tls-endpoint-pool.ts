/**
 * Connections to one endpoint over TLS (`appProtocol: https`, `kubernetes.io/wss`, or
 * `switchyard.dev/backend-protocol: https`): HTTP/2 when the pod picks `h2` by ALPN, else HTTP/1.1.
 *
 * The first request opens one TLS connection offering ['h2', 'http/1.1'] and the pod's choice decides
 * how this endpoint is spoken to from then on: an H2EndpointPool (multiplexed sessions) or an
 * EndpointPool over TLS (HTTP/1.1). Either takes that first connection over, so a pod costs one handshake, not
 * two. Requests arriving meanwhile wait for it; if it fails they fail with its error, before onConnect
 * (nothing written: retryable elsewhere). A pod that stops offering h2 (replaced by another image at
 * the same address) fails that connection as a protocol error and sends the endpoint back to probing.
 *
 * Both bound their queues as the plaintext pools do (`--upstream-max-queue`, the wait inside the
 * headers timeout: issue #14); EndpointPool takes a connector, so it dials and verifies TLS exactly as
 * the HTTP/2 path does.
 */
import type { TLSSocket } from 'node:tls';
import type { Dispatcher } from 'undici';
import { ErrorCode, SwyError } from '../errors.ts';
import { EndpointPool } from './endpoint-pool.ts';
import { H2EndpointPool } from './h2-endpoint-pool.ts';
import { connectTls, type ConnectCallback } from './upstream-connect.ts';


/** TlsEndpointPoolOptions.maxQueued when not given: --upstream-max-queue's default. */
const DEFAULT_MAX_QUEUED = 1024;

export interface TlsEndpointPoolOptions {
  readonly host: string;
  readonly port: number;
  /** `address:port` (IPv6 bracketed): the default `:authority` and the origin. */
  readonly authority: string;
  /** CA that pod certificates must chain to; undefined: not verified; '': unusable CA, every connection fails. */
  readonly caPem: string | undefined;
  readonly connectTimeoutMs: number;
  /** Most connections (HTTP/1.1) or sessions (HTTP/2) to this endpoint. */
  readonly maxConnections: number;
  readonly keepAliveTimeoutMs: number;
  /** Most requests waiting for a connection or an HTTP/2 stream (`--upstream-max-queue`); default 1024. */
  readonly maxQueued?: number;
}

type Handler = Dispatcher.DispatchHandler;

const noop = (): void => undefined;

/** Gives the probe's connection to the pool that now owns it (and listens for its errors). */
function handOver(socket: TLSSocket, callback: ConnectCallback<TLSSocket>): void {
  socket.off('error', noop);
  if (socket.destroyed) callback(Object.assign(new Error('connection closed before use'), { code: 'UND_ERR_SOCKET' }));
  else callback(null, socket);
}

export class TlsEndpointPool {
  readonly #options: TlsEndpointPoolOptions;
  #h2: H2EndpointPool | undefined;
  #http1: EndpointPool | undefined;
  /** Requests waiting for the first connection's ALPN answer, as [options, handler] pairs. */
  #waiting: (Dispatcher.DispatchOptions | Handler)[] = [];
  #probing = false;
  /** Settles when the running probe has handed its requests on. */
  #probeDone: Promise<void> = Promise.resolve();
  /** The probe's connection, until the chosen pool takes it. */
  #spare: TLSSocket | undefined;
  #closing: Promise<void> | undefined;
  #destroyed = false;

  constructor(options: TlsEndpointPoolOptions) {
    this.#options = options;
  }

  /** What the pod chose: undefined until the first connection's handshake is done. */
  get protocol(): 'h2' | 'http/1.1' | undefined {
    return this.#h2 !== undefined ? 'h2' : this.#http1 !== undefined ? 'http/1.1' : undefined;
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Handler): void {
    if (this.#closing !== undefined) {
      handler.onError?.(new Error(`TLS pool to ${this.#options.authority} is closed`));
      return;
    }
    if (this.#h2 !== undefined) this.#h2.dispatch(options, handler);
    else if (this.#http1 !== undefined) this.#http1.dispatch(options, handler);
    else {
      this.#waiting.push(options, handler);
      if (!this.#probing) this.#startProbe();
    }
  }

  /** Lets waiting and in-flight requests finish, then closes every connection. */
  close(): Promise<void> {
    this.#closing ??= this.#probeDone.then(() => this.#inner()?.close());
    return this.#closing;
  }

  /** Fails waiting requests and cuts every connection. */
  destroy(): Promise<void> {
    this.#destroyed = true;
    this.#closing ??= Promise.resolve();
    this.#failWaiting(new Error(`TLS pool to ${this.#options.authority} was destroyed`));
    this.#spare?.destroy();
    this.#spare = undefined;
    return Promise.resolve(this.#inner()?.destroy()).then(() => undefined);
  }

  #inner(): { close(): Promise<void>; destroy(): Promise<void> } | undefined {
    return this.#h2 ?? this.#http1;
  }

  #startProbe(): void {
    this.#probing = true;
    let done!: () => void;
    this.#probeDone = new Promise<void>((resolve) => (done = resolve));
    // The callback may come at once (an unusable CA fails before dialling).
    connectTls({ ...this.#target(), alpn: ['h2', 'http/1.1'] }, (err, socket) => {
      this.#probing = false;
      done();
      if (err !== null || socket === undefined) {
        this.#failWaiting(err ?? new Error('connect failed'));
        return;
      }
      if (this.#destroyed) {
        socket.destroy();
        return;
      }
      // Until a pool takes it (undici does so a tick later), its errors must not go unheard: an
      // 'error' without a listener would end the process. A broken spare is simply not used.
      socket.on('error', noop);
      this.#spare = socket;
      if (socket.alpnProtocol === 'h2') {
        this.#h2 = new H2EndpointPool({
          origin: `https://${this.#options.authority}`,
          authority: this.#options.authority,
          connect: this.#connectH2,
          connectTimeoutMs: this.#options.connectTimeoutMs,
          maxSessions: this.#options.maxConnections,
          ...(this.#options.maxQueued !== undefined ? { maxQueued: this.#options.maxQueued } : {}),
          keepAliveTimeoutMs: this.#options.keepAliveTimeoutMs,
        });
      } else {
        this.#http1 = new EndpointPool(`https://${this.#options.authority}`, {
          maxConnections: this.#options.maxConnections,
          maxQueued: this.#options.maxQueued ?? DEFAULT_MAX_QUEUED,
          connectTimeoutMs: this.#options.connectTimeoutMs,
          keepAliveTimeoutMs: this.#options.keepAliveTimeoutMs,
          connector: this.#connectHttp1,
        });
      }
      const waiting = this.#waiting;
      this.#waiting = [];
      const inner = (this.#h2 ?? this.#http1)!;
      for (let i = 0; i < waiting.length; i += 2) inner.dispatch(waiting[i] as Dispatcher.DispatchOptions, waiting[i + 1] as Handler);
    });
  }

  #target(): { host: string; port: number; connectTimeoutMs: number; caPem: string | undefined } {
    const o = this.#options;
    return { host: o.host, port: o.port, connectTimeoutMs: o.connectTimeoutMs, caPem: o.caPem };
  }

  /** The probe's connection when it is still open, else none; its placeholder error listener stays until `handOver`. */
  #takeSpare(): TLSSocket | undefined {
    const spare = this.#spare;
    this.#spare = undefined;
    if (spare === undefined) return undefined;
    if (spare.destroyed || !spare.writable) {
      spare.destroy();
      return undefined;
    }
    return spare;
  }

  readonly #connectH2 = (callback: ConnectCallback<TLSSocket>): void => {
    const spare = this.#takeSpare();
    if (spare !== undefined) {
      handOver(spare, callback);
      return;
    }
    connectTls({ ...this.#target(), alpn: ['h2', 'http/1.1'] }, (err, socket) => {
      if (err !== null || socket === undefined) {
        callback(err);
        return;
      }
      if (socket.alpnProtocol === 'h2') {
        callback(null, socket);
        return;
      }
      socket.destroy();
      this.#reprobe();
      callback(new SwyError(ErrorCode.UPSTREAM_PROTOCOL, `${this.#options.authority} no longer offers h2 by ALPN (chose ${String(socket.alpnProtocol)})`));
    });
  };

  /** undici's connector interface: (options, callback). Only HTTP/1.1 is offered, so the pod cannot pick h2. */
  readonly #connectHttp1 = (_opts: unknown, callback: ConnectCallback<TLSSocket>): void => {
    const spare = this.#takeSpare();
    if (spare !== undefined) {
      // Never synchronously: undici's Client, called back inside its own connect step, would not write
      // the waiting request until something else woke it.
      process.nextTick(handOver, spare, callback);
      return;
    }
    connectTls({ ...this.#target(), alpn: ['http/1.1'] }, callback);
  };

  /** The pod changed its mind about h2: the current pool finishes what it has, the next request probes again. */
  #reprobe(): void {
    const h2 = this.#h2;
    this.#h2 = undefined;
    void h2?.close();
  }

  #failWaiting(err: Error): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (let i = 1; i < waiting.length; i += 2) (waiting[i] as Handler).onError?.(err);
  }
}
