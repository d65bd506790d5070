/**
 * One request on an HTTP/2 session to a pod, driving undici's handler interface (onConnect, onHeaders,
 * onData, onComplete, onError) the way undici's HTTP/1.1 Client does, so the proxy treats both alike:
 * - headers: `host` becomes `:authority`; connection-specific fields (RFC 9113 §8.2.2) are dropped,
 *   `te` kept only as `trailers`;
 * - the request body (a Readable) is written with backpressure;
 * - response trailers reach onComplete as raw [name, value, …] Buffers, like undici's;
 * - `headersTimeout` (--upstream-timeout) bounds the wait for response headers only: from the request's
 *   start, refreshed as body chunks go out, as undici does; for a gRPC call from the end of the request
 *   stream, so a streaming call whose client has not half-closed is never cut by it. `bodyTimeout` bounds
 *   a pause in the response body (0: none; the proxy passes 0 for gRPC calls, whose streams may be
 *   silent for as long as they like) and does not run while the client is the one not reading;
 * - `grpc-timeout` bounds a gRPC call as a whole: when it runs out the stream is cancelled and the call
 *   answered DEADLINE_EXCEEDED (a trailers-only response, or trailers after what was already relayed);
 * - a stream reset by the pod fails as ECONNRESET (a PROTOCOL_ERROR reset as an upstream protocol
 *   error); a gRPC response cut after its headers ends with grpc-status 14 UNAVAILABLE in trailers
 *   instead, which gRPC clients read as a status rather than a broken call.
 * The client's deadline expiring is answered as a response, not as an error: the pod did nothing wrong,
 * so it must not count toward ejecting it.
 */
import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ErrorCode, SwyError } from '../errors.ts';
import { isGrpcContentType, parseGrpcTimeout } from './grpc.ts';
import { grpcFailureHead, grpcFailureTrailers } from './status.ts';
import { codedError } from './upstream-connect.ts';

const { NGHTTP2_CANCEL, NGHTTP2_PROTOCOL_ERROR } = constants;

/** Request fields HTTP/2 does not carry (RFC 9113 §8.2.2), and `host`, which becomes `:authority`. */
const CONNECTION_SPECIFIC = new Set(['host', 'connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);

/** undici's defaults when an option is absent. */
const DEFAULT_TIMEOUT_MS = 300_000;
/** setTimeout's ceiling; a longer grpc-timeout is as good as none. */
const MAX_TIMER_MS = 2_147_483_647;

const latin1 = (fields: readonly string[]): Buffer[] => fields.map((f) => Buffer.from(f, 'latin1'));
const DEADLINE_HEAD = latin1(grpcFailureHead(ErrorCode.UPSTREAM_TIMEOUT));
const DEADLINE_TRAILERS = latin1(grpcFailureTrailers(ErrorCode.UPSTREAM_TIMEOUT));
const RESET_TRAILERS = latin1(grpcFailureTrailers(ErrorCode.UPSTREAM_CONNECT));
const noop = (): void => undefined;

/** A raw HTTP/2 header list ([name, value, …], pseudo-headers included) as undici's Buffers, pseudo-headers left out. */
function rawFields(raw: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    out.push(Buffer.from(name, 'latin1'), Buffer.from(raw[i + 1]!, 'latin1'));
  }
  return out;
}

export class H2Call {
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #headers: string[];
  readonly #body: Dispatcher.DispatchOptions['body'];
  readonly #authority: string;
  readonly #grpc: boolean;
  #headersTimeoutMs: number;
  readonly #bodyTimeoutMs: number;
  #stream: ClientHttp2Stream | undefined;
  #release: (() => void) | undefined;
  #headersTimer: NodeJS.Timeout | undefined;
  #bodyTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #responded = false;
  #responseGrpc = false;
  #paused = false;
  #bodyDone = false;
  #trailers: Buffer[] | null = null;
  #streamError: Error | undefined;
  /** A terminal callback (onComplete or onError) was made. */
  done = false;

  constructor(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, scheme: 'http' | 'https', defaultAuthority: string) {
    this.#handler = handler;
    this.#body = options.body;
    this.#headersTimeoutMs = options.headersTimeout ?? DEFAULT_TIMEOUT_MS;
    this.#bodyTimeoutMs = options.bodyTimeout ?? DEFAULT_TIMEOUT_MS;
    const out = [':method', options.method, ':scheme', scheme, ':authority', '', ':path', options.path];
    let authority: string | undefined;
    let grpc = false;
    let deadlineMs: number | undefined;
    const add = (name: string, value: string): void => {
      const lower = name.toLowerCase();
      if (CONNECTION_SPECIFIC.has(lower)) {
        if (lower === 'host') authority ??= value;
        else if (lower === 'te' && value.trim().toLowerCase() === 'trailers') out.push('te', 'trailers');
        return;
      }
      if (lower === 'content-type') grpc = isGrpcContentType(value);
      else if (lower === 'grpc-timeout') deadlineMs = parseGrpcTimeout(value);
      out.push(lower, value);
    };
    const headers = options.headers;
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]), String(headers[i + 1]));
    } else if (headers != null) {
      for (const [name, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
        if (Array.isArray(value)) for (const v of value) add(name, v);
        else if (value !== undefined) add(name, String(value));
      }
    }
    out[5] = authority ?? defaultAuthority;
    this.#authority = out[5];
    this.#headers = out;
    this.#grpc = grpc;
    if (grpc && deadlineMs !== undefined && deadlineMs <= MAX_TIMER_MS) {
      this.#deadlineTimer = setTimeout(this.#onDeadline, deadlineMs);
    }
  }

  /** The wait for response headers, ms (0: none); a pool's queue counts its wait against it. */
  get headersTimeoutMs(): number {
    return this.#headersTimeoutMs;
  }

  /** Takes `ms` spent waiting in a pool's queue off the wait for response headers. */
  spendWait(ms: number): void {
    if (this.#headersTimeoutMs > 0) this.#headersTimeoutMs = Math.max(1, Math.floor(this.#headersTimeoutMs - ms));
  }

  /** Opens the stream on `h2`; `release` is called once when the stream's slot is free again. */
  start(h2: ClientHttp2Session, release: () => void): void {
    this.#release = release;
    if (this.done) {
      this.#releaseSlot();
      return;
    }
    const body = this.#body;
    let stream: ClientHttp2Stream;
    try {
      stream = h2.request(this.#headers, { endStream: body == null });
    } catch (err) {
      // Nothing went out (a session that just closed, a header Node refuses): onConnect was not called.
      this.#releaseSlot();
      this.fail(codedError((err as { code?: string }).code ?? 'ERR_HTTP2_ERROR', `cannot open an HTTP/2 stream to ${this.#authority}: ${(err as Error).message}`, err));
      return;
    }
    this.#stream = stream;
    stream.on('response', this.#onResponse);
    stream.on('data', this.#onData);
    stream.on('trailers', this.#onTrailers);
    stream.on('end', this.#onEnd);
    stream.on('error', this.#onStreamError);
    stream.on('close', this.#onClose);
    // The HEADERS frame is written on a later tick: reporting the connection now is still "before anything was written".
    this.#handler.onConnect?.(this.#abort);
    if (this.done) return;
    if (body == null) {
      this.#bodyDone = true;
      this.#armHeadersTimer();
    } else if (typeof body === 'string' || body instanceof Uint8Array) {
      this.#bodyDone = true;
      stream.end(body);
      this.#armHeadersTimer();
    } else {
      const readable = body as Readable;
      readable.on('data', this.#onBodyData);
      readable.on('end', this.#onBodyEnd);
      readable.on('error', this.fail);
      if (!this.#grpc) this.#armHeadersTimer();
    }
  }

  /** Fails the call (once): cancels its stream, drops its body, and reports `err` to the handler. */
  readonly fail = (err: Error): void => {
    if (this.done) return;
    this.#finish();
    this.#handler.onError?.(err);
  };

  readonly #abort = (err?: Error): void => {
    this.fail(err ?? new Error('request aborted'));
  };

  /** Marks the call done: timers off, the body dropped, the stream cancelled unless both sides ended. */
  #finish(): void {
    this.done = true;
    if (this.#headersTimer !== undefined) clearTimeout(this.#headersTimer);
    if (this.#bodyTimer !== undefined) clearTimeout(this.#bodyTimer);
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    const bodyWasDone = this.#bodyDone;
    const body = this.#body;
    if (!this.#bodyDone && body != null && typeof body === 'object' && 'destroy' in body) {
      this.#bodyDone = true;
      (body as Readable).destroy();
    }
    // After a whole response and request the stream closes by itself; a reset then would only be noise.
    const stream = this.#stream;
    if (stream !== undefined && !stream.closed && !(stream.readableEnded && bodyWasDone)) stream.close(NGHTTP2_CANCEL);
  }

  #complete(trailers: Buffer[] | null): void {
    if (this.done) return;
    this.#finish();
    this.#handler.onComplete?.(trailers as unknown as string[] | null);
  }

  #releaseSlot(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  #armHeadersTimer(): void {
    if (this.#responded || this.#headersTimeoutMs <= 0) return;
    if (this.#headersTimer !== undefined) this.#headersTimer.refresh();
    else this.#headersTimer = setTimeout(this.#onHeadersTimeout, this.#headersTimeoutMs);
  }

  #armBodyTimer(): void {
    if (this.#bodyTimeoutMs <= 0) return;
    if (this.#bodyTimer !== undefined) this.#bodyTimer.refresh();
    else this.#bodyTimer = setTimeout(this.#onBodyTimeout, this.#bodyTimeoutMs);
  }

  readonly #onHeadersTimeout = (): void => {
    this.fail(codedError('UND_ERR_HEADERS_TIMEOUT', `no response headers from ${this.#authority} within ${this.#headersTimeoutMs} ms`));
  };

  readonly #onBodyTimeout = (): void => {
    if (this.#paused) return;
    this.fail(codedError('UND_ERR_BODY_TIMEOUT', `response body from ${this.#authority} paused for more than ${this.#bodyTimeoutMs} ms`));
  };

  readonly #onDeadline = (): void => {
    if (this.done) return;
    const responded = this.#responded;
    this.#finish();
    if (!responded) {
      this.#handler.onHeaders?.(200, DEADLINE_HEAD, noop, '');
      this.#handler.onComplete?.(null);
    } else {
      this.#handler.onComplete?.(DEADLINE_TRAILERS as unknown as string[]);
    }
  };

  readonly #onBodyData = (chunk: Buffer): void => {
    const stream = this.#stream!;
    if (this.done) return;
    if (!stream.write(chunk)) {
      (this.#body as Readable).pause();
      stream.once('drain', this.#onStreamDrain);
    }
    if (this.#headersTimer !== undefined && !this.#responded) this.#headersTimer.refresh();
  };

  readonly #onStreamDrain = (): void => {
    if (!this.done) (this.#body as Readable).resume();
  };

  readonly #onBodyEnd = (): void => {
    this.#bodyDone = true;
    if (this.done) return;
    this.#stream!.end();
    this.#armHeadersTimer();
  };

  readonly #onResponse = (headers: IncomingHttpHeaders, _flags: number, raw: string[]): void => {
    if (this.done) return;
    if (this.#headersTimer !== undefined) clearTimeout(this.#headersTimer);
    this.#responded = true;
    this.#responseGrpc = isGrpcContentType(headers['content-type']);
    this.#armBodyTimer();
    const status = Number(headers[':status']);
    if (this.#handler.onHeaders?.(status, rawFields(raw), this.#resume, '') === false) this.#pause();
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.done) return;
    if (this.#bodyTimer !== undefined) this.#bodyTimer.refresh();
    if (this.#handler.onData?.(chunk) === false) this.#pause();
  };

  #pause(): void {
    this.#paused = true;
    this.#stream!.pause();
  }

  readonly #resume = (): void => {
    if (this.done || !this.#paused) return;
    this.#paused = false;
    this.#armBodyTimer();
    this.#stream!.resume();
  };

  readonly #onTrailers = (_headers: IncomingHttpHeaders, _flags: number, raw: string[]): void => {
    this.#trailers = rawFields(raw);
  };

  readonly #onEnd = (): void => {
    // Node also ends the readable side of streams whose session or socket went away (destroyed by then,
    // rstCode CANCEL or none): that is a cut response, for #onClose to report, not a complete one.
    if (this.#stream!.destroyed) return;
    this.#complete(this.#trailers);
  };

  readonly #onStreamError = (err: Error): void => {
    this.#streamError = err;
  };

  readonly #onClose = (): void => {
    this.#releaseSlot();
    if (this.done) return;
    const stream = this.#stream!;
    if (this.#responded && this.#responseGrpc && this.#trailers === null) {
      this.#complete(RESET_TRAILERS);
      return;
    }
    const code = stream.rstCode;
    const cause = this.#streamError;
    this.fail(
      code === NGHTTP2_PROTOCOL_ERROR
        ? new SwyError(ErrorCode.UPSTREAM_PROTOCOL, `HTTP/2 stream to ${this.#authority} reset with PROTOCOL_ERROR`, { cause })
        : codedError('ECONNRESET', `HTTP/2 stream to ${this.#authority} closed before its response ended (code ${code ?? 'none'})`, cause),
    );
  };
}
