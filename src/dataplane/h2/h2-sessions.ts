/**
 * HTTP/2 from clients, the server side: a listener hands over each connection that speaks HTTP/2 (a
 * TLS socket that negotiated ALPN `h2`, or a plaintext socket starting with the connection preface)
 * and every request stream on it is served as an HttpExchange through the same route → balance →
 * forward as HTTP/1.1.
 *
 * node:http2's plain server does the framing (nghttp2); it never listens: `accept()` gives it sockets
 * with `emit('connection')`, which works for TLS sockets after ALPN as for plaintext ones, and reads
 * the bytes already buffered in the socket (a preface unshifted by the HTTP/1.1 side) before the rest.
 * node:http2 is loaded on the first HTTP/2 connection (~10 MB of RSS a process that never sees one
 * does not pay).
 *
 * Defences: nghttp2 refuses oversized header lists (RST_STREAM, the connection lives on), CONTINUATION
 * floods (connection error after a few frames), malformed frames (GOAWAY PROTOCOL_ERROR or
 * FRAME_SIZE_ERROR) and SETTINGS/PING floods; h2-connection.ts cuts off rapid resets; the sweep here
 * closes connections that never send a request (header timeout), idle ones (keep-alive timeout), and
 * ones that ignore a GOAWAY, and answers streams whose request is not complete in time (request
 * timeout: 408, or a reset once the response has begun; h2-exchange.ts timeOut()).
 */
import type { Socket } from 'node:net';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type { Logger } from '../../log.ts';
import type { HttpExchange } from '../exchange.ts';
import { Http2Connection, type ConnectionContext } from './h2-connection.ts';
import { HPACK_FIELD_OVERHEAD } from './h2-headers.ts';

export interface Http2Options {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (--http2-max-concurrent-streams, default 100). */
  readonly maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE, bytes (the listener's --max-header-size): a larger request is refused with RST_STREAM. */
  readonly maxHeaderListSize: number;
  /** A connection with no open stream this long gets GOAWAY and closes, ms (--client-keepalive-timeout). */
  readonly idleTimeoutMs: number;
  /** A connection that has not sent its preface, SETTINGS and a first complete HEADERS in this time is closed, ms (--client-header-timeout). */
  readonly headerTimeoutMs: number;
  /**
   * A stream whose request (body included) is not complete this long after it opened is answered 408
   * request-timeout (a gRPC call: DEADLINE_EXCEEDED), or reset once its response has begun, ms
   * (--client-request-timeout). Default 300 000 (the flag's default).
   */
  readonly requestTimeoutMs?: number;
  /** A stream whose request body pauses this long is answered 408 body-timeout, ms (--client-body-timeout). Default 60 000. */
  readonly bodyTimeoutMs?: number;
}

/** Http2Options.bodyTimeoutMs when not given: --client-body-timeout's default. */
const DEFAULT_BODY_TIMEOUT_MS = 60_000;

/** Http2Options.requestTimeoutMs when not given: --client-request-timeout's default. */
const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

export interface Http2Host {
  /** Hands a request over; the handler must answer it (end() or destroy()). */
  serve(exchange: HttpExchange): void;
  /** Once per served exchange: its response finished (true) or the stream closed first. */
  done(exchange: HttpExchange, finished: boolean): void;
  readonly draining: boolean;
}

export interface Http2Sessions {
  /** Serves HTTP/2 on `socket`: a TLS socket that negotiated ALPN h2 (scheme https), or a plaintext socket whose unread buffer starts with the preface (scheme http). */
  accept(socket: Socket, scheme: 'http' | 'https'): void;
  /** Open sessions. */
  readonly size: number;
  /** Graceful: GOAWAY (NO_ERROR, last stream id) on every session; open streams finish; each session closes when its last stream ends. New sessions accepted afterwards get GOAWAY at once. */
  drain(): void;
  /** Cuts every session now (drain deadline). */
  destroyAll(): void;
}

/**
 * Premature resets (streams closed before any response, not by Switchyard) a connection may make per
 * RAPID_RESET_WINDOW_MS (10 s) before it is cut off with GOAWAY ENHANCE_YOUR_CALM: twice the
 * concurrent streams it may have, so a client may cancel a full window of requests twice over (a
 * browser leaving a page), and never fewer than this floor, so a low stream limit does not make
 * ordinary cancelling fatal. An attack resets thousands per second and trips it within milliseconds;
 * until then every reset stream's upstream request is aborted (onClientGone), and a stream reset in
 * the same read that opened it never reaches an upstream at all.
 */
export const MIN_RESET_LIMIT = 200;

export function resetLimit(maxConcurrentStreams: number): number {
  return Math.max(2 * maxConcurrentStreams, MIN_RESET_LIMIT);
}

export function createHttp2Sessions(options: Http2Options, host: Http2Host, log: Logger): Http2Sessions {
  const connections = new Set<Http2Connection>();
  let server: Http2Server | undefined;
  let draining = false;
  let sweep: NodeJS.Timeout | undefined;
  /** The socket and scheme of the connection being handed to the server ('session' follows synchronously). */
  let accepting: { socket: Socket; scheme: 'http' | 'https' } | undefined;

  const ctx: ConnectionContext = {
    serve: (exchange) => host.serve(exchange),
    done: (exchange, finished) => host.done(exchange, finished),
    resetLimit: resetLimit(options.maxConcurrentStreams),
    maxHeaderListSize: options.maxHeaderListSize,
    log,
    closed(connection) {
      connections.delete(connection);
      if (connections.size === 0 && sweep !== undefined) {
        clearInterval(sweep);
        sweep = undefined;
      }
    },
  };

  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const sweepPeriod = Math.max(10, Math.min(1000, options.headerTimeoutMs, options.idleTimeoutMs, requestTimeoutMs, bodyTimeoutMs));

  function onSession(session: ServerHttp2Session): void {
    const { socket, scheme } = accepting!;
    const connection = new Http2Connection(session, socket, scheme, ctx);
    connections.add(connection);
    if (sweep === undefined) {
      sweep = setInterval(() => {
        const now = performance.now();
        for (const c of connections) c.check(now, options.headerTimeoutMs, options.idleTimeoutMs, requestTimeoutMs, bodyTimeoutMs);
      }, sweepPeriod);
      sweep.unref();
    }
    if (draining || host.draining) connection.closeGracefully();
  }

  function createServer(): Http2Server {
    const http2 = process.getBuiltinModule('node:http2');
    const s = http2.createServer({
      settings: { maxConcurrentStreams: options.maxConcurrentStreams, maxHeaderListSize: options.maxHeaderListSize, enablePush: false },
      // HPACK sizing charges 32 bytes a field, so the size limit already bounds the field count: node:http2's
      // own pair limit (default 128) is raised to match, leaving one limit for HTTP/2 as for HTTP/1.1.
      maxHeaderListPairs: Math.max(128, Math.ceil(options.maxHeaderListSize / HPACK_FIELD_OVERHEAD)),
      // A pod's repeated Content-Type (or other "single value" field) passes as over HTTP/1.1 instead of making respond() throw.
      strictSingleValueFields: false,
    } as Parameters<typeof http2.createServer>[0]);
    s.on('session', onSession);
    return s;
  }

  return {
    accept(socket, scheme) {
      // Gone between the listener's read and now: node:http2 would wrap the dead socket in a session.
      if (socket.destroyed) return;
      server ??= createServer();
      accepting = { socket, scheme };
      try {
        server.emit('connection', socket);
      } finally {
        accepting = undefined;
      }
    },
    get size() {
      return connections.size;
    },
    drain() {
      draining = true;
      for (const c of connections) c.closeGracefully();
    },
    destroyAll() {
      for (const c of connections) c.destroy();
    },
  };
}
