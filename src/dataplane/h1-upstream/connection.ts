/**
 * One HTTP/1.1 keep-alive connection to a pod, one request at a time, on Node's llhttp binding
 * (`--upstream-client llhttp`): the part of undici's Client that endpoint-pool.ts uses, with the same
 * handler calls (onConnect, onHeaders, onData, onComplete, onError), the same 'drain' contract (dispatch
 * answers false while a request runs; 'drain' says the connection takes another), the same error codes
 * (so status.ts, the retries and passive health treat both clients alike) and the same response framing,
 * which test/integration/upstream-framing-differential.test.ts holds the two to.
 *
 * Why: undici's Client pays per request for a Request object, its WebAssembly llhttp and the JavaScript
 * callbacks around it, a setImmediate before a connection is reused and another to validate an idle
 * socket, and socket ref/unref; docs/upstream-client.md has the profile. What this leaves out: pipelining,
 * upgrades (tunnel.ts keeps undici's Client for them), TLS and HTTP/2 (their pools keep undici or node:http2).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { codedError, splitEndpointKey } from '../upstream-connect.ts';
import type { BodyWriterOwner, StreamBodyWriter } from './body-writer.ts';
import { requestHead, type HeadSource, type RequestHead } from './request-head.ts';
import { checkOptions, lengthMismatch, writeRequest, type H1Handler, type H1RequestOptions } from './request-writer.ts';
import { HEAD_BODY, HEAD_NO_BODY, HEAD_REFUSE, type ResponseEvents } from './response-parser.ts';
import { ConnectionTimers, keepAliveHint } from './timers.ts';
import { openUpstreamSocket, type SocketOwner, type UpstreamSocket } from './upstream-socket.ts';

export type { H1Handler, H1RequestOptions } from './request-writer.ts';

export interface H1ConnectionOptions {
  /** TCP connect timeout, ms. */
  readonly connectTimeoutMs: number;
  /** How long an idle connection is kept when the pod gives no Keep-Alive hint, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Largest response head, bytes; default 0: Node's default (16 KB, undici's too). */
  readonly maxHeaderSize?: number;
}

/** undici's SocketError code: the pod closed, reset or broke the framing of the connection. */
const SOCKET = 'UND_ERR_SOCKET';
/** An idle connection unused this long waits one turn of the event loop before reuse, to notice a close from the pod (as undici does every time). */
const VALIDATE_AFTER_IDLE_MS = 1000;

export class H1Connection extends EventEmitter implements BodyWriterOwner {
  readonly #target: { readonly host: string; readonly port: number; readonly connectTimeoutMs: number };
  /** `address:port` as undici writes it in the Host field when the request has none. */
  readonly #hostField: string;
  readonly #maxHeaderSize: number;
  readonly #keepAliveMs: number;
  readonly #timers: ConnectionTimers;
  readonly #events: ResponseEvents;
  #link: UpstreamSocket | undefined;
  /** The request in flight (at most one), and what is known of it. */
  #handler: H1Handler | undefined;
  #request: H1RequestOptions | undefined;
  #head: RequestHead | undefined;
  /** The request was handed to the socket (onConnect called): a close from now on fails it. */
  #sent = false;
  #status = 0;
  #keepAlive = false;
  /** Close the connection after this request (HEAD, Connection: close, a body undici would not reuse after). */
  #reset = false;
  #writer: StreamBodyWriter | undefined;
  #paused = false;
  #inExecute = false;
  #freed = false;
  #idleSince = 0;
  #closed = false;
  #destroyed = false;
  #onClosed: (() => void) | undefined;

  constructor(origin: string, options: H1ConnectionOptions) {
    super();
    this.#hostField = origin.slice(origin.indexOf('//') + 2);
    this.#target = { ...splitEndpointKey(this.#hostField), connectTimeoutMs: options.connectTimeoutMs };
    this.#maxHeaderSize = options.maxHeaderSize ?? 0;
    this.#keepAliveMs = options.keepAliveTimeoutMs;
    this.#timers = new ConnectionTimers(this.#onHeadersTimeout, this.#onBodyTimeout, this.#onIdleTimeout);
    this.#timers.idleMs = options.keepAliveTimeoutMs;
    this.#events = { onHead: this.#onHead, onBody: this.#onBody, onComplete: this.#onComplete };
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** undici's `stats`: `size` is the number of requests taken and not finished (0 or 1). */
  get stats(): { readonly size: number } {
    return this;
  }

  get size(): number {
    return this.#handler === undefined ? 0 : 1;
  }

  /** Takes the request: false, always (the connection is busy until 'drain'), as undici with pipelining 1. */
  dispatch(options: H1RequestOptions, handler: H1Handler): boolean {
    if (this.#destroyed || this.#closed || this.#handler !== undefined) {
      handler.onError?.(this.#destroyed ? codedError('UND_ERR_DESTROYED', 'The client is destroyed') : this.#closed ? codedError('UND_ERR_CLOSED', 'The client is closed') : new Error('dispatch while a request is in flight'));
      return false;
    }
    // Refused before anything is sent, as undici's Request constructor refuses (proxy.ts: 400, not the pod's fault).
    let head: RequestHead;
    try {
      const refusal = checkOptions(options);
      if (refusal !== undefined) throw refusal;
      // HEAD: undici closes the connection after it (a pod may send a body anyway) and says so.
      head = requestHead(options as HeadSource, this.#hostField, options.method !== 'HEAD');
    } catch (err) {
      handler.onError?.(err as Error);
      return false;
    }
    this.#handler = handler;
    this.#request = options;
    this.#head = head;
    this.#sent = false;
    this.#status = 0;
    this.#reset = options.method === 'HEAD' || head.close;
    const link = this.#link;
    if (link === undefined) this.#connect();
    else if (performance.now() - this.#idleSince > VALIDATE_AFTER_IDLE_MS) setImmediate(this.#writeIfLive, link);
    else this.#write(link.socket);
    return false;
  }

  /** Lets the request in flight finish, then closes. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#handler === undefined) return this.#end();
    return new Promise<void>((resolve) => (this.#onClosed = resolve));
  }

  /** Fails the request in flight and closes at once. */
  destroy(): Promise<void> {
    if (this.#destroyed) return Promise.resolve();
    this.#destroyed = true;
    const socket = this.#link?.socket;
    this.#fail(codedError('UND_ERR_DESTROYED', 'The client is destroyed'));
    this.#closed = true;
    this.#timers.stopAll();
    return closedPromise(socket);
  }

  #connect(): void {
    openUpstreamSocket(this.#target, this.#maxHeaderSize, this.#events, this.#socketOwner, (err, link) => {
      if (err !== null || link === undefined) return this.#fail(err ?? codedError(SOCKET, 'connect failed'));
      if (this.#destroyed || this.#handler === undefined) return void link.socket.destroy();
      this.#link = link;
      this.#timers.watch();
      this.emit('connect', this);
      this.#write(link.socket);
    });
  }

  /** What the socket tells (upstream-socket.ts). */
  readonly #socketOwner: SocketOwner = {
    onRead: (link, data) => {
      if (link !== this.#link) return;
      // 'drain' waits until the read is parsed: a request dispatched from inside a parser callback would
      // meet the rest of this response.
      this.#inExecute = true;
      const ret = link.parser.execute(data);
      this.#inExecute = false;
      if (typeof ret !== 'number') this.#fail(ret, link);
      this.#drainIfFreed();
    },
    ended: (link) => {
      if (link !== this.#link) return;
      // An idle connection the pod closed while a request waited to be written on it: a new one is dialled (#writeIfLive).
      if (this.#handler !== undefined && !this.#sent) return this.#dropSocket();
      // A response read until the connection closes ends here; anything else was cut short.
      const err = this.#handler !== undefined && this.#status >= 200 && !this.#keepAlive ? link.parser.finish() : codedError(SOCKET, 'other side closed');
      if (err !== undefined) this.#fail(err, link);
      link.socket.destroy();
      this.#drainIfFreed();
    },
    errored: (link, err) => {
      // undici: a reset after a response read until close still completes that response.
      if (err.code === 'ECONNRESET' && link === this.#link && this.#handler !== undefined && this.#status >= 200 && !this.#keepAlive) return link.parser.finish();
      return err;
    },
    closed: (link, err) => {
      if (link === this.#link && this.#handler !== undefined && !this.#sent) this.#dropSocket();
      else if (link === this.#link) this.#fail(err ?? codedError(SOCKET, 'closed'), link);
      this.#drainIfFreed();
    },
  };

  readonly #writeIfLive = (link: UpstreamSocket): void => {
    if (this.#handler === undefined) return;
    if (link === this.#link && !link.socket.destroyed) this.#write(link.socket);
    else this.#connect();
  };

  #write(socket: Socket): void {
    const handler = this.#handler!;
    const request = this.#request!;
    this.#timers.stopIdle();
    const mismatch = lengthMismatch(request.method, request.body, this.#head!);
    if (mismatch !== undefined) return this.#fail(mismatch);
    this.#sent = true;
    handler.onConnect?.(this.#abort);
    if (this.#handler !== handler) return; // aborted at once
    this.#timers.armHeaders(request.headersTimeout ?? 0);
    const written = writeRequest(socket, request.method, request.body, this.#head!, this);
    if (written.closeAfter) this.#reset = true;
    this.#writer = written.writer;
  }

  readonly #abort = (err?: Error): void => {
    if (this.#handler !== undefined) this.#fail(err ?? codedError('UND_ERR_ABORTED', 'Request aborted'));
  };

  // BodyWriterOwner: the stream body's progress (body-writer.ts).
  bodyWritten(): void {
    this.#writer = undefined;
    this.#timers.refreshHeaders();
  }

  bodyFailed(err: Error): void {
    this.#writer = undefined;
    this.#fail(err);
  }

  bodyProgress(): void {
    this.#timers.refreshHeaders();
  }

  // The response (response-parser.ts's events, inside the parser's execute).
  readonly #onHead = (_minor: number, status: number, fields: string[], upgrade: boolean, keepAlive: boolean): number => {
    const handler = this.#handler;
    if (handler === undefined || upgrade) {
      this.#fail(codedError(SOCKET, handler === undefined ? 'bad response' : 'bad upgrade'), this.#link);
      return HEAD_REFUSE;
    }
    // An interim 100 the request did not ask for is skipped like any other 1xx (RFC 9110 §15.2; see undici-parser-fix.ts).
    if (status === 100) return HEAD_NO_BODY;
    this.#status = status;
    if (status >= 200) {
      this.#keepAlive = keepAlive;
      if (keepAlive && !this.#reset) this.#keepAliveHint(fields);
      this.#timers.armBody(this.#request!.bodyTimeout ?? 0);
    } else {
      this.#timers.refreshHeaders();
    }
    // What undici hands over for a 1xx too (proxy.ts holds the head back until the final one replaces it).
    const go = handler.onHeaders?.(status, fields as unknown as Buffer[], this.#resume, '');
    if (this.#handler !== handler) return HEAD_REFUSE;
    if (this.#request!.method === 'HEAD' || status < 200) return HEAD_NO_BODY;
    if (go === false) this.#pause();
    return HEAD_BODY;
  };

  readonly #onBody = (chunk: Buffer): void => {
    const handler = this.#handler;
    if (handler === undefined) return;
    this.#timers.bodyActivity();
    if (handler.onData?.(chunk) === false) this.#pause();
  };

  readonly #onComplete = (trailers: string[]): void => {
    const handler = this.#handler;
    if (handler === undefined) return;
    if (this.#status < 200) {
      // The end of an interim response: the final one is still awaited.
      this.#status = 0;
      return;
    }
    const reuse = this.#keepAlive && !this.#reset && this.#writer === undefined && !this.#closed;
    this.#clearRequest();
    handler.onComplete?.(trailers);
    if (!reuse) this.#dropSocket();
    else {
      this.#idleSince = performance.now();
      this.#timers.armIdle();
    }
    this.#freed = true;
  };

  #keepAliveHint(fields: readonly string[]): void {
    this.#timers.idleMs = this.#keepAliveMs;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i]!;
      if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
      const ms = keepAliveHint(fields[i + 1]!);
      if (ms !== undefined && ms <= 0) this.#reset = true;
      else if (ms !== undefined) this.#timers.idleMs = ms;
    }
  }

  readonly #resume = (): void => {
    if (!this.#paused) return;
    this.#paused = false;
    this.#link?.socket.resume();
  };

  #pause(): void {
    this.#paused = true;
    this.#link?.socket.pause();
  }

  readonly #onHeadersTimeout = (): void => {
    if (this.#handler === undefined || this.#status >= 200) return;
    // A body still going out without backpressure is not a silent pod (undici's rule).
    if (this.#writer !== undefined && this.#link?.socket.writableNeedDrain !== true) return this.#timers.refreshHeaders();
    this.#fail(codedError('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'), this.#link);
  };

  /** True: wait again (a paused body has no deadline, as with undici). */
  readonly #onBodyTimeout = (): boolean => {
    if (this.#handler === undefined || this.#status < 200) return false;
    if (this.#paused) return true;
    this.#fail(codedError('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error'), this.#link);
    return false;
  };

  readonly #onIdleTimeout = (): void => {
    if (this.#handler === undefined) this.#dropSocket();
  };

  /** Fails the request in flight with `err` and drops the socket (when it is `link`, or whatever it is with none given). */
  #fail(err: Error, link?: UpstreamSocket): void {
    if (link === undefined || link === this.#link) this.#dropSocket();
    const handler = this.#handler;
    if (handler === undefined) return;
    this.#clearRequest();
    this.#freed = true;
    handler.onError?.(err);
    if (!this.#inExecute) this.#drainIfFreed();
  }

  #clearRequest(): void {
    this.#handler = undefined;
    this.#request = undefined;
    this.#head = undefined;
    this.#timers.stopRequest();
    if (this.#paused) this.#resume();
    const writer = this.#writer;
    this.#writer = undefined;
    writer?.stop();
  }

  #dropSocket(): void {
    const link = this.#link;
    if (link === undefined) return;
    this.#link = undefined;
    this.#paused = false;
    this.#timers.stopIdle();
    this.#timers.unwatch();
    link.socket.destroy();
    this.emit('disconnect', this);
  }

  /** After a request ended: 'drain' (the pool's cue), or the end of a close() that waited for it. */
  #drainIfFreed(): void {
    if (!this.#freed) return;
    this.#freed = false;
    const onClosed = this.#onClosed;
    if (onClosed !== undefined) {
      this.#onClosed = undefined;
      void this.#end().then(onClosed);
    } else if (!this.#closed && !this.#destroyed) this.emit('drain', this);
  }

  #end(): Promise<void> {
    this.#closed = true;
    this.#timers.stopAll();
    const socket = this.#link?.socket;
    this.#dropSocket();
    return closedPromise(socket);
  }
}

function closedPromise(socket: Socket | undefined): Promise<void> {
  if (socket === undefined || socket.closed) return Promise.resolve();
  return new Promise<void>((resolve) => socket.once('close', () => resolve()));
}
