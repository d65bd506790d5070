/**
 * The keep-alive connections to one endpoint: up to `maxConnections` undici Clients (one HTTP/1.1
 * connection each, one request at a time), the most recently freed reused first, and a FIFO queue for
 * requests that arrive while every connection is busy.
 *
 * The queue is bounded both ways (issue #14: 300 slow uploads once held every connection and left other
 * requests waiting with no deadline): at most `maxQueued` requests wait, the next one fails at once with
 * SWY_ERR_UPSTREAM_BUSY; and the time a request waits counts against its own `headersTimeout`, so it
 * fails with SWY_ERR_UPSTREAM_QUEUE_TIMEOUT when that runs out in the queue, and is sent with what is left
 * of it otherwise. Both errors are Switchyard's own limits, never held against the pod (proxy.ts).
 *
 * Why not undici's Pool: a Pool carries a fixed 2,048-slot queue (16 KB) and its own dispatch layer on
 * top of the Client's; with a pool per endpoint, a Service of 1,000 endpoints paid 16 MB for queues that
 * are nearly always empty. Why the Client's own module rather than `import { Client } from 'undici'`:
 * the package entry loads all of undici (fetch, WebSocket, caches), ~15 MB of RSS per process that the
 * proxy never uses. test/integration/endpoint-pool.test.ts fails if the path moves in an undici update.
 *
 * Measured under callgrind (instructions per proxied request, deterministic): 277k either way. With
 * Node's default young generation, though, some runs (of this and of the full entry alike) paid ~20 %
 * more, V8 re-migrating the shape of process.nextTick's tick objects on every write; none did with the
 * 4 MB young generation that bin/switchyard.js and the workers use.
 */
import { createRequire } from 'node:module';
import type { Client as UndiciClient, Dispatcher } from 'undici';
import type { Socket } from 'node:net';
import { ErrorCode, SwyError } from '../errors.ts';
import type { ConnectCallback } from './upstream-connect.ts';
import { applyParserFix, parserFixApplied } from './undici-parser-fix.ts';
import { H1Connection } from './h1-upstream/connection.ts';
import { responseParserAvailable } from './h1-upstream/response-parser.ts';

const Client = createRequire(import.meta.url)('undici/lib/dispatcher/client.js') as typeof UndiciClient;
type Client = UndiciClient;

export interface EndpointPoolOptions {
  /** Most connections to this endpoint. */
  readonly maxConnections: number;
  /** TCP connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /** How long an idle keep-alive connection is kept, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Most requests waiting for a connection; the next fails at once (`--upstream-max-queue`). */
  readonly maxQueued: number;
  /**
   * Opens a connection (undici's connector: options, then a callback with the socket); default: plain TCP
   * with `connectTimeoutMs`. The TLS pool passes one that dials and verifies TLS (tls-endpoint-pool.ts).
   */
  readonly connector?: (options: unknown, callback: ConnectCallback<Socket>) => void;
  /**
   * The HTTP/1.1 client (`--upstream-client`): undici's Client, or the llhttp one (h1-upstream/, plain
   * TCP only: a `connector` means undici; so does a Node without the llhttp binding). Default undici.
   */
  readonly client?: 'llhttp' | 'undici';
}

/** How often a non-empty queue is swept for requests whose time ran out, ms. */
const QUEUE_SWEEP_MS = 100;

type Handler = Dispatcher.DispatchHandler;

/**
 * One Client and whether its dispatch answered "busy" (it comes back with its 'drain' event). A flag
 * on a record made once per connection, not a Set of busy Clients: a Set's add/delete reallocates its
 * table, and with many endpoints each table lived long enough between a pool's requests to be
 * promoted, a few hundred bytes of old-generation garbage per request.
 */
interface Connection {
  readonly client: Client | H1Connection;
  busy: boolean;
}

export class EndpointPool {
  readonly #origin: string;
  readonly #options: EndpointPoolOptions;
  readonly #connections: Connection[] = [];
  /** Connections that accept a request now; the last one is used next (it is the warmest). */
  readonly #free: Connection[] = [];
  /** Requests waiting for a connection, as [options, handler, deadline] triples in arrival order (deadline: performance.now() ms, 0 for none). */
  readonly #queue: (Dispatcher.DispatchOptions | Handler | number)[] = [];
  #queueHead = 0;
  /** Live requests in the queue (slots of expired ones are left empty). */
  #waiting = 0;
  #sweep: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #onQueueEmpty: (() => void) | undefined;

  constructor(origin: string, options: EndpointPoolOptions) {
    this.#origin = origin;
    this.#options = options;
  }

  /** Connections opened or reusable (idle ones included). */
  get connections(): number {
    return this.#connections.length;
  }

  /** Requests waiting for a free connection. */
  get queued(): number {
    return this.#waiting;
  }

  /** Sends the request on a free connection, a new one, or after the requests already waiting. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Handler): void {
    if (this.#closing !== undefined) {
      handler.onError?.(new Error(`connection pool to ${this.#origin} is closed`));
      return;
    }
    const connection = this.#free.pop() ?? (this.#connections.length < this.#options.maxConnections ? this.#open() : undefined);
    if (connection === undefined) {
      if (this.queued >= this.#options.maxQueued) {
        handler.onError?.(new SwyError(ErrorCode.UPSTREAM_BUSY, `${this.#options.maxQueued} requests already wait for a connection to ${this.#origin}`));
        return;
      }
      const timeout = options.headersTimeout ?? 0;
      this.#queue.push(options, handler, timeout > 0 ? performance.now() + timeout : 0);
      this.#waiting++;
      this.#sweep ??= setInterval(() => this.#expire(), QUEUE_SWEEP_MS).unref();
      return;
    }
    if (this.#send(connection, options, handler) === 'refused') this.#free.push(connection);
  }

  /** Lets queued and in-flight requests finish, then closes every connection. */
  close(): Promise<void> {
    this.#closing ??= (this.queued === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#onQueueEmpty = resolve))).then(() =>
      Promise.all(this.#connections.map((c) => c.client.close())).then(() => undefined),
    );
    return this.#closing;
  }

  /** Fails queued requests and cuts every connection (in-flight requests fail too). */
  destroy(): Promise<void> {
    const waiting = this.#queue.splice(0);
    this.#queueHead = 0;
    this.#stopSweep();
    const err = new Error(`connection pool to ${this.#origin} was destroyed`);
    this.#waiting = 0;
    for (let i = 1; i < waiting.length; i += 3) (waiting[i] as Handler | undefined)?.onError?.(err);
    this.#closing ??= Promise.resolve();
    this.#onQueueEmpty?.();
    return Promise.all(this.#connections.map((c) => c.client.destroy())).then(() => undefined);
  }

  #open(): Connection {
    // Without the llhttp binding (a Node that dropped _http_common's HTTPParser) undici serves instead.
    if (this.#options.client === 'llhttp' && this.#options.connector === undefined && responseParserAvailable) {
      const client = new H1Connection(this.#origin, { connectTimeoutMs: this.#options.connectTimeoutMs, keepAliveTimeoutMs: this.#options.keepAliveTimeoutMs });
      const connection: Connection = { client, busy: false };
      client.on('drain', () => this.#onDrain(connection));
      this.#connections.push(connection);
      return connection;
    }
    const client = new Client(this.#origin, {
      pipelining: 1,
      // undici's connector type asks for its own socket type; any net.Socket (a TLSSocket too) is one.
      connect: (this.#options.connector as UndiciClient.Options['connect']) ?? { timeout: this.#options.connectTimeoutMs },
      keepAliveTimeout: this.#options.keepAliveTimeoutMs,
    });
    const connection: Connection = { client, busy: false };
    client.on('drain', () => this.#onDrain(connection));
    if (!parserFixApplied()) client.once('connect', () => applyParserFix(client));
    this.#connections.push(connection);
    return connection;
  }

  /**
   * Hands the request to `connection`: `taken` (the connection is busy with it, or free again at once),
   * `refused` (undici would not build it and the handler got the error; the connection took nothing and
   * is the caller's to use again), or `gone` (the connection is dead; the handler got the error).
   */
  #send(connection: Connection, options: Dispatcher.DispatchOptions, handler: Handler): 'taken' | 'refused' | 'gone' {
    const { client } = connection;
    if (client.dispatch(options, handler)) {
      this.#free.push(connection);
      return 'taken';
    }
    if (client.destroyed || client.closed) {
      this.#forget(connection);
      return 'gone';
    }
    // Marked busy, a connection that took nothing would wait for a 'drain' that never comes.
    if (client.stats.size === 0) return 'refused';
    connection.busy = true;
    return 'taken';
  }

  #onDrain(connection: Connection): void {
    if (!connection.busy) return;
    connection.busy = false;
    while (this.#queueHead < this.#queue.length) {
      const options = this.#queue[this.#queueHead] as Dispatcher.DispatchOptions | undefined;
      const handler = this.#queue[this.#queueHead + 1] as Handler | undefined;
      const deadline = this.#queue[this.#queueHead + 2] as number;
      this.#queue[this.#queueHead] = this.#queue[this.#queueHead + 1] = undefined as never;
      this.#queueHead += 3;
      this.#compact();
      if (options === undefined || handler === undefined) continue; // expired by the sweep
      this.#waiting--;
      let sent: Dispatcher.DispatchOptions = options;
      if (deadline !== 0) {
        const left = Math.floor(deadline - performance.now());
        if (left <= 0) {
          this.#timedOut(options, handler);
          continue;
        }
        // What is left of the request's own wait for response headers.
        sent = { ...options, headersTimeout: left };
      }
      // A request undici refused at once leaves the connection free: the next one in the queue gets it.
      if (this.#send(connection, sent, handler) !== 'refused') return;
    }
    this.#free.push(connection);
  }

  /** Drops consumed slots: at the end of the queue, or when a queue that never empties has many. */
  #compact(): void {
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
      this.#stopSweep();
      this.#onQueueEmpty?.();
    } else if (this.#queueHead >= 1536 && this.#queueHead * 2 >= this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /** Fails waiting requests whose time ran out (a slot is left empty; #onDrain skips it). */
  #expire(): void {
    const now = performance.now();
    const queue = this.#queue;
    for (let i = this.#queueHead; i < queue.length; i += 3) {
      const deadline = queue[i + 2] as number;
      if (deadline === 0 || deadline > now || queue[i] === undefined) continue;
      const options = queue[i] as Dispatcher.DispatchOptions;
      const handler = queue[i + 1] as Handler;
      queue[i] = queue[i + 1] = undefined as never;
      this.#waiting--;
      this.#timedOut(options, handler);
    }
    // Leading empty slots are consumed at once, so a queue of expired requests empties.
    while (this.#queueHead < queue.length && queue[this.#queueHead] === undefined) this.#queueHead += 3;
    this.#compact();
  }

  #timedOut(options: Dispatcher.DispatchOptions, handler: Handler): void {
    handler.onError?.(new SwyError(ErrorCode.UPSTREAM_QUEUE_TIMEOUT, `waited ${options.headersTimeout ?? 0} ms for a free connection to ${this.#origin}`));
  }

  #stopSweep(): void {
    if (this.#sweep === undefined) return;
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #forget(connection: Connection): void {
    connection.busy = false;
    const i = this.#connections.indexOf(connection);
    if (i >= 0) this.#connections.splice(i, 1);
  }
}
