/**
 * One HTTP/2 client connection (a node:http2 server session): serves each request stream as an
 * Http2Exchange, counts open streams, keeps the clock phases the sweep in h2-sessions.ts checks
 * (waiting for the first request, busy, idle, closing) and each open stream's request timeout, and
 * cuts off a client that resets streams in a loop (rapid reset, CVE-2023-44487).
 */
import type { Socket } from 'node:net';
import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../log.ts';
import { sniName, type HttpExchange } from '../exchange.ts';
import { clientAddress, clientPort } from '../proxy-protocol.ts';
import { clientFailureResponse } from '../status.ts';
import { Http2Exchange, type Http2StreamOwner } from './h2-exchange.ts';
import { REFUSALS, translateRequest, type H2Refusal } from './h2-headers.ts';
import { SlidingWindowCounter } from './h2-reset-window.ts';

/** What a connection needs from the sessions object. */
export interface ConnectionContext {
  serve(exchange: HttpExchange): void;
  done(exchange: HttpExchange, finished: boolean): void;
  /** Premature resets allowed per RAPID_RESET_WINDOW_MS before the connection is cut off. */
  readonly resetLimit: number;
  /** Bytes, sized as HPACK does. */
  readonly maxHeaderListSize: number;
  readonly log: Logger;
  closed(connection: Http2Connection): void;
}

/**
 * The window over which client resets of unanswered streams are counted. Ten seconds is long enough
 * that an attacker pacing its resets (to slip under a per-read or per-second check) is still seen,
 * and short enough that a long-lived connection of a real client (a browser cancelling requests as the
 * user navigates) never adds up to the limit.
 */
export const RAPID_RESET_WINDOW_MS = 10_000;

/** RFC 9113 §7. */
const NO_ERROR = 0;
const ENHANCE_YOUR_CALM = 11;
const FLAG_END_STREAM = 0x1;

const Phase = { Head: 0, Busy: 1, Idle: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

function ignore(): void {}

export class Http2Connection implements Http2StreamOwner {
  readonly session: ServerHttp2Session;
  readonly socket: Socket;
  readonly scheme: 'http' | 'https';
  readonly #ctx: ConnectionContext;
  #phase: Phase = Phase.Head;
  /** When the current phase began: performance.now(). */
  #since = performance.now();
  /** When Switchyard started closing the connection (GOAWAY sent, or cut). */
  #closingSince: number | undefined;
  /** Streams served and not yet closed, oldest first (the request-timeout sweep relies on the order). */
  readonly #streams = new Set<Http2Exchange>();
  #resets: SlidingWindowCounter | undefined;
  #remoteAddress: string | undefined;
  #localPort: number | undefined;
  #remotePort: number | undefined;

  constructor(session: ServerHttp2Session, socket: Socket, scheme: 'http' | 'https', ctx: ConnectionContext) {
    this.session = session;
    this.socket = socket;
    this.scheme = scheme;
    this.#ctx = ctx;
    session.on('stream', this.#onStream);
    session.on('error', this.#onError);
    session.once('close', this.#onClose);
    // A client that ends its side sends no more requests: finish the open streams, then close.
    socket.once('end', this.closeGracefully);
  }

  // Read on the first use (the first request, or a log line), not at accept: each is a system call
  // (through the TLS wrapper on a TLS socket), and a connection that never sends a request needs neither.
  // Kept once read; read first after the socket is gone, they are '' and 0.
  get remoteAddress(): string {
    return (this.#remoteAddress ??= clientAddress(this.socket));
  }

  get remotePort(): number {
    return (this.#remotePort ??= clientPort(this.socket));
  }

  get localPort(): number {
    return (this.#localPort ??= this.socket.localPort ?? 0);
  }

  get servername(): string | undefined {
    return this.scheme === 'https' ? sniName((this.socket as TLSSocket).servername) : undefined;
  }

  readonly #onStream = (stream: ServerHttp2Stream, _headers: unknown, flags: number, rawHeaders: string[]): void => {
    // Errors (a reset with an error code, a write after the client left) end in 'close'; the exchange counts it there.
    stream.on('error', ignore);
    if (this.#phase !== Phase.Busy) {
      this.#phase = Phase.Idle;
      this.#since = performance.now();
    }
    // Opened and reset in the same read: never served, so no upstream ever sees it.
    if (stream.destroyed || stream.closed) return this.#premature();
    const request = translateRequest(rawHeaders, this.#ctx.maxHeaderListSize);
    if (typeof request === 'string') return refuse(stream, request);
    const exchange = new Http2Exchange(this, stream, request, (flags & FLAG_END_STREAM) === 0);
    this.#streams.add(exchange);
    this.#phase = Phase.Busy;
    this.#ctx.serve(exchange);
  };

  streamClosed(exchange: Http2Exchange, finished: boolean, reset: boolean): void {
    this.#streams.delete(exchange);
    this.#ctx.done(exchange, finished);
    if (reset) this.#premature();
    if (this.#streams.size === 0 && this.#phase === Phase.Busy) {
      this.#phase = Phase.Idle;
      this.#since = performance.now();
    }
  }

  respondFailed(err: unknown): void {
    this.#ctx.log.debug({ err, remoteAddress: this.remoteAddress }, 'HTTP/2 response head refused');
  }

  /** A stream closed before any response, not by Switchyard: too many of them in the window cut the connection. */
  #premature(): void {
    if (this.session.destroyed) return;
    const resets = (this.#resets ??= new SlidingWindowCounter(this.#ctx.resetLimit, RAPID_RESET_WINDOW_MS));
    if (!resets.record(performance.now())) return;
    this.#ctx.log.warn({ remoteAddress: this.remoteAddress, limit: this.#ctx.resetLimit, windowMs: RAPID_RESET_WINDOW_MS }, 'HTTP/2 client cut off: too many streams reset before their response (rapid reset)');
    this.#closingSince = performance.now();
    this.session.destroy(new Error('rapid reset'), ENHANCE_YOUR_CALM);
  }

  /** GOAWAY (NO_ERROR, last stream id): open streams finish, then the session closes. */
  readonly closeGracefully = (): void => {
    this.#closingSince ??= performance.now();
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  };

  /** Cuts the connection now. */
  destroy(): void {
    this.#closingSince ??= performance.now();
    this.session.destroy();
    this.socket.destroy();
  }

  /**
   * Called by the sweep: closes what overstayed its phase, and times out streams whose request is not
   * complete in time or whose body paused too long (--client-body-timeout).
   */
  check(now: number, headerTimeoutMs: number, idleTimeoutMs: number, requestTimeoutMs: number, bodyTimeoutMs: number): void {
    for (const exchange of this.#streams) {
      if (now - exchange.openedAt > requestTimeoutMs) {
        if (!exchange.requestComplete) exchange.timeOut();
      } else if (exchange.bodyStalled(now, bodyTimeoutMs)) {
        exchange.timeOut('body');
      }
    }
    const closingSince = this.#closingSince;
    if (closingSince !== undefined) {
      // GOAWAY went out and the streams are done: a client that keeps the socket open anyway is cut.
      if (this.#streams.size === 0 && now - Math.max(closingSince, this.#since) > headerTimeoutMs) this.socket.destroy();
      return;
    }
    const age = now - this.#since;
    if (this.#phase === Phase.Head && age > headerTimeoutMs) {
      this.#ctx.log.debug({ remoteAddress: this.remoteAddress }, 'HTTP/2 client sent no request in time');
      this.#closingSince = now;
      this.session.destroy();
    } else if (this.#phase === Phase.Idle && age > idleTimeoutMs) {
      this.closeGracefully();
    }
  }

  readonly #onError = (err: Error): void => {
    // Protocol errors (nghttp2 has sent GOAWAY with its code) and cut-offs; the session closes after it.
    this.#ctx.log.debug({ err, remoteAddress: this.remoteAddress }, 'HTTP/2 session error');
  };

  readonly #onClose = (): void => {
    this.socket.off('end', this.closeGracefully);
    this.#ctx.closed(this);
  };
}

/** Answers a request that is never served (header list too large, no authority, conflicting Host, CONNECT), as HTTP/1.1 does. */
function refuse(stream: ServerHttp2Stream, why: H2Refusal): void {
  const { status, headers, body } = clientFailureResponse(REFUSALS[why]);
  try {
    stream.respond([':status', String(status), ...headers]);
    stream.end(body);
  } catch {
    stream.destroy();
  }
}
