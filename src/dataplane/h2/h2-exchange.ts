/**
 * One HTTP/2 request stream as the data plane sees every client request (exchange.ts): the request
 * from the stream's HEADERS (h2-headers.ts), its body read with the stream's own flow control, and the
 * response written as HEADERS, DATA and trailing HEADERS.
 *
 * Flow control is per stream: the body is read only while the proxy's sink wants bytes; a paused
 * stream stops consuming its stream window (node:http2 then sends it no WINDOW_UPDATE) while the
 * connection window is replenished on receipt, so one slow consumer never stalls the other streams.
 *
 * The response head is held until the first body bytes, the end, or the end of the current turn
 * (a microtask), whichever comes first: a response ended with nothing written goes out as a single
 * HEADERS frame with END_STREAM (a gRPC "trailers-only" answer, which gRPC clients require), and a
 * streamed response (server-sent events) still shows its head at once.
 *
 * The request timeout (--client-request-timeout) is checked by the connection's sweep, not a timer per
 * stream: a request still incomplete that long after its stream opened gets 408 (a gRPC call:
 * DEADLINE_EXCEEDED), or, once its response has begun, RST_STREAM INTERNAL_ERROR, as HTTP/1.1 cuts
 * its connection then (timeOut()).
 */
import { BodyStallWatch } from '../body-stall.ts';
import type { ServerHttp2Stream } from 'node:http2';
import type { BodySink, HttpExchange } from '../exchange.ts';
import { GrpcStatus } from '../grpc.ts';
import { ExchangeTrace } from '../exchange-trace.ts';
import { requestIdFor } from '../headers.ts';
import { clientFailureResponse, grpcClientFailureHead } from '../status.ts';
import { responseHead, trailerFields, type H2Request, type H2ResponseHead } from './h2-headers.ts';

/** What an exchange needs from its connection (h2-connection.ts). */
export interface Http2StreamOwner {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly scheme: 'http' | 'https';
  /** The TLS server name the client sent (exchange.ts HttpExchange#servername). */
  readonly servername: string | undefined;
  /**
   * The stream closed. `finished`: the response was ended and went out whole. `reset`: it closed before
   * any response, and not by Switchyard (the client reset it, or nghttp2 did for the client's error).
   */
  streamClosed(exchange: Http2Exchange, finished: boolean, reset: boolean): void;
  /** node:http2 refused the response head (logged by the connection). */
  respondFailed(err: unknown): void;
}

/** RFC 9113 §7 error codes. */
const NO_ERROR = 0;

// respond() only reads its options: one object each, shared. node:http2 adds a Date field when the pod
// sent none (RFC 9110 §6.6.1 asks a forwarding recipient with a clock to do so).
const END_STREAM = { endStream: true } as const;
const BODY = {} as const;
const WITH_TRAILERS = { waitForTrailers: true } as const;
const NO_TRAILERS = Object.freeze({});

/** The answers to a request too slow to arrive, the HTTP/1.1 path's 408 (status.ts), built once. */
const TIMEOUT = clientFailureResponse('ERR_HTTP_REQUEST_TIMEOUT');
const TIMEOUT_HEAD = [':status', String(TIMEOUT.status), ...TIMEOUT.headers];
/** The same for a body that paused too long (--client-body-timeout): 408 body-timeout. */
const BODY_TIMEOUT = clientFailureResponse('BODY_TIMEOUT');
const BODY_TIMEOUT_HEAD = [':status', String(BODY_TIMEOUT.status), ...BODY_TIMEOUT.headers];
/**
 * A gRPC call whose request did not arrive in time: DEADLINE_EXCEEDED as a trailers-only answer, which
 * gRPC clients decode into a status (a reset would only say CANCELLED or INTERNAL), with the same
 * x-switchyard-error as the 408.
 */
const GRPC_TIMEOUT_HEAD = [':status', '200', ...grpcClientFailureHead('ERR_HTTP_REQUEST_TIMEOUT', GrpcStatus.DEADLINE_EXCEEDED)];

/**
 * RST_STREAM INTERNAL_ERROR, with nothing more of the response. Not `stream.close(code)`: on a stream
 * whose response is still open it ends the writable side first, and node:http2 flushes that END_STREAM
 * before the reset, so a cut response would look complete. destroy() skips the end of a destroyed
 * stream and resets it with INTERNAL_ERROR.
 */
function cut(stream: ServerHttp2Stream): void {
  if (!stream.destroyed) stream.destroy(new Error('response cut by Switchyard'));
}

export class Http2Exchange implements HttpExchange {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly host: string;
  /** Connection-specific fields do not exist in HTTP/2. */
  readonly connection = undefined;
  readonly forwardedFor: string | undefined;
  readonly requestId: string;
  readonly trace: ExchangeTrace;
  readonly hasBody: boolean;
  readonly remoteAddress: string;
  readonly localPort: number;
  readonly scheme: 'http' | 'https';
  readonly servername: string | undefined;
  readonly protocol = 'h2';
  readonly grpc: boolean;
  /** Streams end on their own: the connection carries other requests whatever this one did. */
  keepAlive = true;
  statusCode = 0;
  headersSent = false;
  onClientGone: (() => void) | undefined;
  /** --client-body-timeout, as the connection's sweep sees it. */
  readonly #stall = new BodyStallWatch();
  /** end() was called. */
  finished = false;
  /** performance.now() when the stream was served: the request timeout runs from here. */
  readonly openedAt = performance.now();

  readonly #stream: ServerHttp2Stream;
  readonly #owner: Http2StreamOwner;
  readonly #teTrailers: boolean;
  /** The response head, until respond() sends it. */
  #head: H2ResponseHead | undefined;
  /** HEAD, 204, 205, 304: a head only. */
  #noBody = false;
  /** respond() was asked to wait for trailers ('wantTrailers' then sends them, or ends the stream). */
  #wantTrailers = false;
  #trailers: readonly string[] | undefined;
  #sink: BodySink | undefined;
  #sinkPaused = false;
  /** Body bytes that came while no sink wanted them. */
  #pending: Buffer[] | undefined;
  /** 'data' and 'end' listeners are on the stream. */
  #listening = false;
  /** The whole request body was read (or there is none). */
  #requestComplete: boolean;
  /** The response is over: what is left of the request body is dropped. */
  #discard = false;
  /** Switchyard reset the stream (destroy(), or a head node:http2 refused). */
  #cut = false;
  #closed = false;
  /** timeOut() ran. */
  #timedOut = false;

  constructor(owner: Http2StreamOwner, stream: ServerHttp2Stream, request: H2Request, hasBody: boolean) {
    this.#owner = owner;
    this.#stream = stream;
    this.method = request.method;
    this.url = request.url;
    this.rawHeaders = request.rawHeaders;
    this.host = request.host;
    this.forwardedFor = request.forwardedFor;
    this.requestId = requestIdFor(request.clientRequestId);
    this.grpc = request.grpc;
    this.#teTrailers = request.teTrailers;
    this.hasBody = hasBody;
    this.#requestComplete = !hasBody;
    this.remoteAddress = owner.remoteAddress;
    this.trace = new ExchangeTrace(owner.remotePort);
    this.localPort = owner.localPort;
    this.scheme = owner.scheme;
    this.servername = owner.servername;
    // Stream errors (a reset with an error code, a write after the client left) are ignored by the
    // connection's listener and end in 'close', which does the accounting.
    stream.once('close', this.#onClose);
  }

  /** The whole request body was read (or there is none). */
  get requestComplete(): boolean {
    return this.#requestComplete;
  }

  // --- request body -------------------------------------------------------------------------------

  readBody(sink: BodySink): void {
    this.#sink = sink;
    this.#sinkPaused = false;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) for (const chunk of pending) if (!sink.onData(chunk)) this.#sinkPaused = true;
    if (this.#requestComplete) {
      sink.onEnd();
      return;
    }
    const stream = this.#stream;
    if (!this.#listening) {
      this.#listening = true;
      stream.on('data', (chunk: Buffer) => this.#onData(chunk));
      stream.once('end', () => this.#onEnd());
    }
    if (!this.#sinkPaused) stream.resume();
  }

  unreadBody(sink: BodySink): void {
    if (this.#sink !== sink) return;
    this.#sink = undefined;
    if (!this.#discard) this.#stream.pause();
  }

  resumeBody(): void {
    this.#sinkPaused = false;
    if (this.#sink !== undefined && !this.#discard) this.#stream.resume();
  }

  /**
   * Whether the client has paused inside its request body longer than `limitMs` while the proxy waits
   * for it (the connection's sweep asks; `now` is performance.now()). A read counts however small; a gRPC
   * call's body is a message stream that may rightly be silent, so it never stalls.
   */
  bodyStalled(now: number, limitMs: number): boolean {
    const waiting = !this.grpc && this.#sink !== undefined && !this.#sinkPaused && !this.#requestComplete && !this.#discard;
    return this.#stall.stalled(waiting, now, limitMs);
  }

  #onData(chunk: Buffer): void {
    this.#stall.read();
    this.trace.bytesIn += chunk.length;
    if (this.#discard) return;
    const sink = this.#sink;
    if (sink === undefined) {
      (this.#pending ??= []).push(chunk);
      this.#stream.pause();
    } else if (!sink.onData(chunk) && !this.#sinkPaused) {
      this.#sinkPaused = true;
      this.#stream.pause();
    }
  }

  #onEnd(): void {
    // node:http2 ends the readable side of a stream that was reset too (also by a client's RST_STREAM
    // NO_ERROR mid-body): a body cut short must never look complete to the upstream. The stream only
    // closes before the response ended if it was reset; 'close' then reports the error to the sink.
    if (this.#stream.closed && !this.finished) return;
    this.#requestComplete = true;
    if (!this.#discard) this.#sink?.onEnd();
  }

  // --- response -----------------------------------------------------------------------------------

  writeHead(status: number, headers: readonly string[]): void {
    // Answered by timeOut() already: what the proxy still produces goes nowhere.
    if (this.finished) return;
    this.statusCode = status;
    this.headersSent = true;
    this.#noBody = this.method === 'HEAD' || status === 204 || status === 205 || status === 304;
    this.#head = responseHead(status, headers);
    queueMicrotask(this.#flushHead);
  }

  /** The turn that wrote the head is over without body bytes or an end: the head goes out alone. */
  readonly #flushHead = (): void => {
    if (this.#head !== undefined && !this.finished) this.#respond(this.#noBody, false);
  };

  /** Sends the held head; false when the stream is gone or node:http2 refused the head. */
  #respond(endStream: boolean, trailersFollow: boolean): boolean {
    const head = this.#head!;
    this.#head = undefined;
    const stream = this.#stream;
    if (stream.destroyed || stream.closed) return false;
    let options: typeof END_STREAM | typeof BODY | typeof WITH_TRAILERS = BODY;
    if (endStream) {
      options = END_STREAM;
    } else if (trailersFollow || head.trailers || this.#teTrailers || this.grpc) {
      // Only where trailers may come: waiting for them costs an extra frame to end every response.
      options = WITH_TRAILERS;
      this.#wantTrailers = true;
      stream.once('wantTrailers', () => this.#sendTrailers());
    }
    try {
      stream.respond(head.list, options);
    } catch (err) {
      // A status node:http2 does not send (1xx, > 599) or a field name that is not a token.
      this.#owner.respondFailed(err);
      this.#cut = true;
      cut(stream);
      return false;
    }
    return true;
  }

  write(chunk: Buffer): boolean {
    if (this.#noBody || this.finished) return true;
    if (this.#head !== undefined && !this.#respond(false, false)) return true;
    const stream = this.#stream;
    // Closed by the client: nothing to write any more; onClientGone tells the proxy.
    if (stream.destroyed || stream.closed) return true;
    this.trace.bytesOut += chunk.length;
    return stream.write(chunk);
  }

  onceDrain(fn: () => void): void {
    this.#stream.once('drain', fn);
  }

  /**
   * Ends the response. Trailers go out as a trailing HEADERS frame when the client can take them (it
   * sent `te: trailers`, or the response is gRPC or announces a Trailer field), else they are dropped
   * as over HTTP/1.1. A response with nothing written is one HEADERS frame with END_STREAM.
   */
  end(trailers?: readonly string[]): void {
    if (this.finished) return;
    this.finished = true;
    const stream = this.#stream;
    const hasTrailers = trailers !== undefined && trailers.length > 0 && !this.#noBody;
    if (this.#head !== undefined && !this.#respond(!hasTrailers, hasTrailers)) return;
    if (stream.destroyed || stream.closed) return;
    if (this.#wantTrailers && hasTrailers) this.#trailers = trailers;
    if (!stream.writableEnded) stream.end();
    this.#afterResponse();
  }

  #sendTrailers(): void {
    const trailers = this.#trailers;
    try {
      this.#stream.sendTrailers(trailers === undefined ? NO_TRAILERS : trailerFields(trailers));
    } catch {
      return; // the stream closed meanwhile
    }
    // sendTrailers() submits them in a setImmediate of its own; this one runs after it.
    if (!this.#requestComplete) setImmediate(() => this.#resetIfStillSending());
  }

  /**
   * The response is complete but the request body is not: drop what is left of it, and if the client
   * is still sending, ask it to stop with RST_STREAM NO_ERROR once the response is out (RFC 9113 §8.1).
   */
  #afterResponse(): void {
    if (this.#requestComplete) return;
    this.#discard = true;
    this.#sink = undefined;
    this.#pending = undefined;
    this.#stream.resume();
    // On the next turn: Node 26 submits a response head on a turn of its own, and a reset sent before
    // it reaches the client first (gRPC clients then see "RST_STREAM with code 0" instead of the status).
    if (!this.#wantTrailers) setImmediate(() => this.#resetIfStillSending());
  }

  #resetIfStillSending(): void {
    const stream = this.#stream;
    if (stream.destroyed || stream.closed || this.#requestComplete) return;
    // node:http2 sends a NO_ERROR reset only after the last DATA of the response ('finish').
    if (stream.state.remoteClose !== 1) stream.close(NO_ERROR);
  }

  /** Cuts the response with RST_STREAM INTERNAL_ERROR: one that broke off midway must not look complete. */
  destroy(): void {
    // After timeOut() the proxy's own failure handling must not cut the answer that went out instead.
    if (this.#cut || this.#closed || this.#timedOut) return;
    this.#cut = true;
    cut(this.#stream);
  }

  /**
   * The request did not arrive whole in time (the connection's sweep). Before any response: the upstream
   * request is aborted and the client gets 408 request-timeout (a gRPC call DEADLINE_EXCEEDED), then
   * what is left of its body is dropped and it is asked to stop sending (RST_STREAM NO_ERROR); the
   * stream counts as an answered 4xx. Once the response has begun it can only be cut (destroy()), which
   * aborts the upstream request when the stream closes — except a gRPC call: a bidirectional or
   * client-streaming call the pod already answers is a live conversation (a watch, a chat) that may last
   * any time; its client bounds it with grpc-timeout.
   */
  timeOut(why: 'request' | 'body' = 'request'): void {
    if (this.#timedOut || this.#closed || this.#requestComplete) return;
    if (this.grpc && this.headersSent) return;
    this.#timedOut = true;
    if (this.headersSent || this.finished) {
      this.#cut = true;
      cut(this.#stream);
      return;
    }
    const stream = this.#stream;
    this.finished = true;
    this.headersSent = true;
    const answer = why === 'body' ? BODY_TIMEOUT : TIMEOUT;
    this.statusCode = this.grpc ? 200 : answer.status;
    const sink = this.#sink;
    this.#sink = undefined;
    this.#pending = undefined;
    // The proxy hears first, so that the body error that follows is never taken for the pod's failure.
    this.onClientGone?.();
    sink?.onError(new Error('request timeout'));
    if (stream.destroyed || stream.closed) return;
    try {
      if (this.grpc) {
        stream.respond(GRPC_TIMEOUT_HEAD, END_STREAM);
      } else {
        stream.respond(why === 'body' ? BODY_TIMEOUT_HEAD : TIMEOUT_HEAD, BODY);
        stream.end(answer.body);
      }
    } catch {
      this.#cut = true;
      cut(stream);
      return;
    }
    this.#afterResponse();
  }

  readonly #onClose = (): void => {
    this.#closed = true;
    const stream = this.#stream;
    const sink = this.#sink;
    this.#sink = undefined;
    this.#pending = undefined;
    if (!this.finished) this.onClientGone?.();
    if (sink !== undefined && !this.#requestComplete && !this.#discard) sink.onError(new Error('client reset the stream'));
    const finished = this.finished && !this.#cut && stream.rstCode === NO_ERROR;
    const reset = !this.finished && !this.#cut && !stream.headersSent;
    this.#owner.streamClosed(this, finished, reset);
  };
}
