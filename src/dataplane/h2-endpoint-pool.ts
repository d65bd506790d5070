/**
 * HTTP/2 sessions to one endpoint (h2c with prior knowledge, or h2 over TLS): many requests multiplexed
 * per session, up to the pod's SETTINGS_MAX_CONCURRENT_STREAMS each, another session opened when every
 * one is full (at most `maxSessions`), requests queued beyond that. Same `dispatch(options, handler)` as
 * EndpointPool, with undici's handler interface, so the proxy does not know which it talks to.
 *
 * A session is used only once the pod's SETTINGS arrived: that proves it speaks HTTP/2 (an HTTP/1.1
 * server answers the preface with an error) and gives its stream limit before the first request, so
 * a request either starts on a working session or fails before `onConnect` (nothing written: retryable).
 * Idle sessions close after `keepAliveTimeoutMs`; `close()` lets queued and in-flight requests finish.
 * The queue is bounded as EndpointPool's is (issue #14): at most `maxQueued` calls wait (the next fails
 * with SWY_ERR_UPSTREAM_BUSY), and a call's wait counts against its headers timeout (SWY_ERR_UPSTREAM_QUEUE_TIMEOUT
 * when it runs out in the queue).
 * The per-request logic (headers, body, timeouts, deadlines) is in h2-call.ts.
 */
import { connect as h2Connect, type ClientHttp2Session, type Settings } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ErrorCode, SwyError } from '../errors.ts';
import { H2Call } from './h2-call.ts';
import { codedError, type ConnectCallback } from './upstream-connect.ts';

export interface H2EndpointPoolOptions {
  /** `http://host:port` or `https://host:port`: the session's origin (and `:scheme`). */
  readonly origin: string;
  /** `:authority` when a request has no Host. */
  readonly authority: string;
  /** Opens one connection (TCP, or TLS that negotiated h2). */
  readonly connect: (callback: ConnectCallback<Duplex>) => void;
  /** Bound on the pod's first SETTINGS after the connection is made, ms. */
  readonly connectTimeoutMs: number;
  /** Most sessions to this endpoint. */
  readonly maxSessions: number;
  /** An idle session (no stream) is closed after this, ms. */
  readonly keepAliveTimeoutMs: number;
  /** Most calls waiting for a stream slot (`--upstream-max-queue`); default: no bound. */
  readonly maxQueued?: number;
}

/** How often a non-empty queue is swept for calls whose time ran out, ms. */
const QUEUE_SWEEP_MS = 100;

/** Streams per session when the pod sets no limit (RFC 9113 leaves it unlimited): more go to another session. */
const MAX_STREAMS_PER_SESSION = 1000;
/**
 * Connection-level receive window. Node's default (64 KiB) is shared by all streams of a session, so one
 * stream whose client reads slowly could hold it and stall the others; 16 MiB leaves room for every stream's
 * own 64 KiB window (per-stream flow control still bounds what a slow stream buffers).
 */
const SESSION_WINDOW = 16 << 20;

/** One session and what the pool tracks of it. */
export interface H2Session {
  readonly h2: ClientHttp2Session;
  /** Streams open on it. */
  active: number;
  /** The pod's SETTINGS_MAX_CONCURRENT_STREAMS (capped). */
  limit: number;
  /** GOAWAY received, or closing: takes no new streams. */
  closing: boolean;
  idle: NodeJS.Timeout | undefined;
}

export class H2EndpointPool {
  readonly #options: H2EndpointPoolOptions;
  readonly #scheme: 'http' | 'https';
  /** Sessions whose SETTINGS arrived. */
  readonly #sessions: H2Session[] = [];
  #connecting = 0;
  readonly #queue: H2Call[] = [];
  /** When each queued call's wait for headers runs out (performance.now() ms; 0: never), by the call. */
  readonly #deadlines = new Map<H2Call, number>();
  #sweep: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #onClosed: (() => void) | undefined;
  #destroyed = false;

  constructor(options: H2EndpointPoolOptions) {
    this.#options = options;
    this.#scheme = options.origin.startsWith('https:') ? 'https' : 'http';
  }

  /** Sessions open (idle ones included). */
  get connections(): number {
    return this.#sessions.length;
  }

  /** Requests waiting for a stream slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Streams open over every session. */
  get active(): number {
    let n = 0;
    for (const s of this.#sessions) n += s.active;
    return n;
  }

  /** Sends the request on a session with a free stream slot, a new session, or after the requests already waiting. */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    if (this.#closing !== undefined) {
      handler.onError?.(new Error(`HTTP/2 pool to ${this.#options.authority} is closed`));
      return;
    }
    const call = new H2Call(options, handler, this.#scheme, this.#options.authority);
    const session = this.#pick();
    if (session !== undefined) {
      this.#start(session, call);
      return;
    }
    if (this.#queue.length >= (this.#options.maxQueued ?? Infinity)) {
      call.fail(new SwyError(ErrorCode.UPSTREAM_BUSY, `${this.#queue.length} requests already wait for an HTTP/2 stream to ${this.#options.authority}`));
      return;
    }
    this.#queue.push(call);
    this.#deadlines.set(call, call.headersTimeoutMs > 0 ? performance.now() + call.headersTimeoutMs : 0);
    this.#sweep ??= setInterval(() => this.#expire(), QUEUE_SWEEP_MS).unref();
    this.#grow();
  }

  /** Fails queued calls whose wait for headers ran out in the queue. */
  #expire(): void {
    const now = performance.now();
    for (let i = 0; i < this.#queue.length; i++) {
      const call = this.#queue[i]!;
      const deadline = this.#deadlines.get(call) ?? 0;
      if (call.done || deadline === 0 || deadline > now) continue;
      this.#queue.splice(i--, 1);
      this.#deadlines.delete(call);
      call.fail(new SwyError(ErrorCode.UPSTREAM_QUEUE_TIMEOUT, `waited ${call.headersTimeoutMs} ms for an HTTP/2 stream to ${this.#options.authority}`));
    }
    this.#stopSweepIfEmpty();
  }

  #stopSweepIfEmpty(): void {
    if (this.#queue.length > 0 || this.#sweep === undefined) return;
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** Leaves the queue: what is left of its wait for headers goes with it. */
  #dequeue(call: H2Call): void {
    const deadline = this.#deadlines.get(call) ?? 0;
    this.#deadlines.delete(call);
    if (deadline !== 0) call.spendWait(call.headersTimeoutMs - (deadline - performance.now()));
  }

  /** Lets queued and in-flight requests finish, then closes every session. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#onClosed = resolve;
      this.#checkClosed();
    });
    return this.#closing;
  }

  /** Fails queued requests and cuts every session (in-flight requests fail too). */
  destroy(): Promise<void> {
    this.#destroyed = true;
    this.#closing ??= Promise.resolve();
    const err = new Error(`HTTP/2 pool to ${this.#options.authority} was destroyed`);
    this.#deadlines.clear();
    for (const call of this.#queue.splice(0)) call.fail(err);
    this.#stopSweepIfEmpty();
    const closed = this.#sessions.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.h2.once('close', resolve);
          s.h2.destroy();
        }),
    );
    this.#onClosed?.();
    return Promise.all(closed).then(() => undefined);
  }

  #pick(): H2Session | undefined {
    for (const s of this.#sessions) if (!s.closing && s.active < s.limit) return s;
    return undefined;
  }

  #start(session: H2Session, call: H2Call): void {
    session.active++;
    if (session.idle !== undefined) {
      clearTimeout(session.idle);
      session.idle = undefined;
    }
    call.start(session.h2, () => this.#released(session));
  }

  /** A stream of `session` closed: its slot goes to the next queued request, or the session starts idling. */
  #released(session: H2Session): void {
    session.active--;
    this.#drain();
    if (session.active === 0 && !session.closing && session.idle === undefined) {
      session.idle = setTimeout(() => {
        session.idle = undefined;
        if (session.active === 0) this.#retire(session);
      }, this.#options.keepAliveTimeoutMs);
      session.idle.unref();
    }
    this.#checkClosed();
  }

  /** Starts queued requests on free slots; opens another session for what is left. */
  #drain(): void {
    while (this.#queue.length > 0) {
      const call = this.#queue[0]!;
      if (call.done) {
        this.#queue.shift();
        this.#deadlines.delete(call);
        continue;
      }
      const session = this.#pick();
      if (session === undefined) break;
      this.#queue.shift();
      this.#dequeue(call);
      this.#start(session, call);
    }
    this.#stopSweepIfEmpty();
    if (this.#queue.length > 0) this.#grow();
  }

  #grow(): void {
    // One session at a time: a new session's SETTINGS say how many streams it takes before another is opened.
    if (this.#destroyed || this.#connecting > 0 || this.#sessions.length >= this.#options.maxSessions) return;
    this.#connecting++;
    this.#options.connect((err, socket) => {
      if (err !== null || socket === undefined) {
        this.#connecting--;
        this.#connectFailed(err ?? new Error('connect failed'));
        return;
      }
      if (this.#destroyed) {
        this.#connecting--;
        socket.destroy();
        return;
      }
      this.#open(socket);
    });
  }

  #open(socket: Duplex): void {
    const h2 = h2Connect(this.#options.origin, { createConnection: () => socket, settings: { enablePush: false } });
    const session: H2Session = { h2, active: 0, limit: 100, closing: false, idle: undefined };
    let ready = false;
    const settingsTimer = setTimeout(() => {
      h2.destroy(codedError('UND_ERR_CONNECT_TIMEOUT', `no HTTP/2 SETTINGS from ${this.#options.authority} within ${this.#options.connectTimeoutMs} ms`));
    }, this.#options.connectTimeoutMs);
    const onSettings = (settings: Settings): void => {
      session.limit = Math.max(1, Math.min(settings.maxConcurrentStreams ?? MAX_STREAMS_PER_SESSION, MAX_STREAMS_PER_SESSION));
      if (ready) return;
      ready = true;
      clearTimeout(settingsTimer);
      this.#connecting--;
      h2.setLocalWindowSize(SESSION_WINDOW);
      this.#sessions.push(session);
      this.#drain();
      this.#checkClosed();
    };
    h2.on('remoteSettings', onSettings);
    h2.on('goaway', () => {
      session.closing = true;
    });
    // Errors reach the streams (each fails on its own) and end in 'close'; only a session that never got
    // ready has requests of its own to fail.
    h2.on('error', (err: Error) => {
      if (ready) return;
      ready = true;
      clearTimeout(settingsTimer);
      this.#connecting--;
      this.#connectFailed(codedError((err as { code?: string }).code ?? 'ERR_HTTP2_ERROR', `HTTP/2 session to ${this.#options.authority} failed: ${err.message}`, err));
    });
    h2.on('close', () => {
      clearTimeout(settingsTimer);
      if (session.idle !== undefined) clearTimeout(session.idle);
      session.closing = true;
      const i = this.#sessions.indexOf(session);
      if (i >= 0) this.#sessions.splice(i, 1);
      if (!ready) {
        ready = true;
        this.#connecting--;
        this.#connectFailed(codedError('UND_ERR_SOCKET', `HTTP/2 session to ${this.#options.authority} closed before its SETTINGS`));
        return;
      }
      if (this.#queue.length > 0) this.#grow();
      this.#checkClosed();
    });
  }

  /**
   * A session could not be opened: the requests waiting fail (before onConnect: nothing was written,
   * so the proxy may retry them elsewhere) unless another session can still take them.
   */
  #connectFailed(err: Error): void {
    if (this.#sessions.some((s) => !s.closing) || this.#connecting > 0) {
      this.#checkClosed();
      return;
    }
    this.#deadlines.clear();
    for (const call of this.#queue.splice(0)) call.fail(err);
    this.#stopSweepIfEmpty();
    this.#checkClosed();
  }

  #retire(session: H2Session): void {
    session.closing = true;
    session.h2.close();
  }

  #checkClosed(): void {
    if (this.#onClosed === undefined || this.#queue.length > 0 || this.#connecting > 0) return;
    // Closing sessions (idle-retired, or told GOAWAY) end by themselves once their streams finish.
    for (const s of this.#sessions) if (!s.closing) this.#retire(s);
    if (this.#sessions.length === 0) {
      const resolve = this.#onClosed;
      this.#onClosed = undefined;
      resolve();
    }
  }
}
