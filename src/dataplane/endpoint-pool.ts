/**
 * The keep-alive connections to one endpoint: up to `maxConnections` undici Clients (one HTTP/1.1
 * connection each, one request at a time), the most recently freed reused first, and a FIFO queue for
 * requests that arrive while every connection is busy.
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
import { applyParserFix, parserFixApplied } from './undici-parser-fix.ts';

const Client = createRequire(import.meta.url)('undici/lib/dispatcher/client.js') as typeof UndiciClient;
type Client = UndiciClient;

export interface EndpointPoolOptions {
  /** Most connections to this endpoint. */
  readonly maxConnections: number;
  /** TCP connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /** How long an idle keep-alive connection is kept, ms. */
  readonly keepAliveTimeoutMs: number;
}

type Handler = Dispatcher.DispatchHandler;

/**
 * One Client and whether its dispatch answered "busy" (it comes back with its 'drain' event). A flag
 * on a record made once per connection, not a Set of busy Clients: a Set's add/delete reallocates its
 * table, and with many endpoints each table lived long enough between a pool's requests to be
 * promoted, a few hundred bytes of old-generation garbage per request.
 */
interface Connection {
  readonly client: Client;
  busy: boolean;
}

export class EndpointPool {
  readonly #origin: string;
  readonly #options: EndpointPoolOptions;
  readonly #connections: Connection[] = [];
  /** Connections that accept a request now; the last one is used next (it is the warmest). */
  readonly #free: Connection[] = [];
  /** Requests waiting for a connection, as [options, handler] pairs in arrival order. */
  readonly #queue: (Dispatcher.DispatchOptions | Handler)[] = [];
  #queueHead = 0;
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
    return (this.#queue.length - this.#queueHead) / 2;
  }

  /** Sends the request on a free connection, a new one, or after the requests already waiting. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Handler): void {
    if (this.#closing !== undefined) {
      handler.onError?.(new Error(`connection pool to ${this.#origin} is closed`));
      return;
    }
    const connection = this.#free.pop() ?? (this.#connections.length < this.#options.maxConnections ? this.#open() : undefined);
    if (connection === undefined) {
      this.#queue.push(options, handler);
      return;
    }
    this.#send(connection, options, handler);
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
    const err = new Error(`connection pool to ${this.#origin} was destroyed`);
    for (let i = 1; i < waiting.length; i += 2) (waiting[i] as Handler).onError?.(err);
    this.#closing ??= Promise.resolve();
    this.#onQueueEmpty?.();
    return Promise.all(this.#connections.map((c) => c.client.destroy())).then(() => undefined);
  }

  #open(): Connection {
    const client = new Client(this.#origin, {
      pipelining: 1,
      connect: { timeout: this.#options.connectTimeoutMs },
      keepAliveTimeout: this.#options.keepAliveTimeoutMs,
    });
    const connection: Connection = { client, busy: false };
    client.on('drain', () => this.#onDrain(connection));
    if (!parserFixApplied()) client.once('connect', () => applyParserFix(client));
    this.#connections.push(connection);
    return connection;
  }

  #send(connection: Connection, options: Dispatcher.DispatchOptions, handler: Handler): void {
    const { client } = connection;
    if (client.dispatch(options, handler)) {
      this.#free.push(connection);
    } else if (client.destroyed || client.closed) {
      // Refused outright (the handler got the error): this connection is gone for good.
      this.#forget(connection);
    } else {
      connection.busy = true;
    }
  }

  #onDrain(connection: Connection): void {
    if (!connection.busy) return;
    connection.busy = false;
    if (this.#queueHead < this.#queue.length) {
      const options = this.#queue[this.#queueHead] as Dispatcher.DispatchOptions;
      const handler = this.#queue[this.#queueHead + 1] as Handler;
      this.#queue[this.#queueHead] = this.#queue[this.#queueHead + 1] = undefined as never;
      this.#queueHead += 2;
      if (this.#queueHead === this.#queue.length) {
        this.#queue.length = 0;
        this.#queueHead = 0;
        this.#onQueueEmpty?.();
      } else if (this.#queueHead >= 1024 && this.#queueHead * 2 >= this.#queue.length) {
        // A queue that never empties (sustained overload) must not grow by its consumed slots.
        this.#queue.splice(0, this.#queueHead);
        this.#queueHead = 0;
      }
      this.#send(connection, options, handler);
      return;
    }
    this.#free.push(connection);
  }

  #forget(connection: Connection): void {
    connection.busy = false;
    const i = this.#connections.indexOf(connection);
    if (i >= 0) this.#connections.splice(i, 1);
  }
}
