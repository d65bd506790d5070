/**
 * One client connection of a proxying listener: parses requests with Node's llhttp binding, hands
 * each to the listener's handler as a ClientExchange, and serves them one at a time in arrival order
 * (pipelined requests wait, parsed, with reading paused). It reads the socket only when someone wants
 * the bytes: between requests, or while the proxy streams a request body upstream, so a client that
 * sends faster than the upstream takes is held back by TCP. Its clock phases (head, busy, idle,
 * closing) are checked by the listener's sweep (http-listener.ts) rather than a timer per connection:
 * the header timeout, the whole-request timeout, the longest pause inside a request body
 * (--client-body-timeout), the lingering read after an early answer, and the keep-alive idle time.
 */
import type { Socket } from 'node:net';
import { ClientExchange, type ExchangeOwner } from './client-exchange.ts';
import { HEAD_CONTINUE, HEAD_STOP, RequestParser, type ParseError } from './llhttp.ts';
import type { ClientLimits } from './http-listener.ts';
import { BodyStallWatch } from './body-stall.ts';
import { checkRequestHead } from './request-checks.ts';
import { rawClientFailure } from './status.ts';

/** What a connection needs from its listener. */
export interface ConnectionHost {
  readonly maxHeaderSize: number;
  readonly draining: boolean;
  /** `https` for a TLS listener. */
  readonly scheme: 'http' | 'https';
  /**
   * Takes over a connection whose first bytes are the HTTP/2 preface (h2c with prior knowledge,
   * RFC 9113 §3.3); the bytes already read are back in the socket's buffer. Undefined: HTTP/1.1 only.
   */
  readonly http2: ((socket: Socket) => void) | undefined;
  /** Hands a request over; the handler must answer it (end() or destroy()). */
  serve(exchange: ClientExchange): void;
  /** Once per served exchange: its response finished (true) or the connection closed first. */
  done(exchange: ClientExchange, finished: boolean): void;
  /** A request the parser refused (logged at debug by the listener). */
  rejected(code: string, reason: string | undefined, socket: Socket): void;
  closed(connection: ClientConnection): void;
}

/** What the listener's sweep checks: waiting for a head, serving, idle between requests, closing. */
const Phase = { Head: 0, Busy: 1, Idle: 2, Closing: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export class ClientConnection implements ExchangeOwner {
  readonly socket: Socket;
  #phase: Phase = Phase.Head;
  /** When the current phase (or, while busy, the current request) began: performance.now(). */
  #since = performance.now();
  readonly #host: ConnectionHost;
  readonly #parser: RequestParser;
  /** The exchange being served. */
  #active: ClientExchange | undefined;
  /** Pipelined requests, parsed, waiting for `active` to finish. */
  readonly #queue: ClientExchange[] = [];
  /** The exchange whose bytes the parser is reading (active or the last queued), until its request completes. */
  #parsing: ClientExchange | undefined;
  #reading = true;
  /** The parser is inside a request (its first byte arrived, its end has not). */
  #inMessage = false;
  /** Close once the responses already asked for are written (the client ended its side, or asked for close). */
  #last = false;
  #closed = false;
  /** No byte read yet: the first chunk may be an HTTP/2 preface. */
  #fresh = true;
  /** The first bytes, while they are too few to tell an HTTP/2 preface from HTTP/1.1. */
  #prefaceSoFar: Buffer | undefined;
  /** --client-body-timeout, as the sweep sees it. */
  readonly #stall = new BodyStallWatch();
  /** When the response to a request whose body is still arriving ended (lingering starts). */
  #lingerSince = 0;
  /** An upgrade request (Connection: upgrade) is being read; its end stops the parsing for good. */
  #upgradeRequest = false;
  /** An upgrade request was read: whatever follows is another protocol's, never parsed as HTTP/1.1. */
  #afterUpgrade = false;
  /** The bytes after an upgrade request that may become a tunnel, kept for the pod; undefined: dropped. */
  #early: Buffer[] | undefined;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.#host = host;
    this.#parser = new RequestParser(
      {
        onMessageBegin: this.#onMessageBegin,
        onHead: this.#onHead,
        onBody: this.#onBody,
        onMessageComplete: this.#onMessageComplete,
      },
      host.maxHeaderSize,
    );
    // 'data' events feed the parser. Letting the parser read the socket handle itself, as node:http does
    // (parser.consume), measured more instructions per request (callgrind: 218k in two runs, against
    // 195k–203k), probably because each of its callbacks then starts from native code, not inside execute().
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    // Resets and writes after the client left: the 'close' that follows does the cleaning up.
    socket.on('error', ignore);
  }

  get draining(): boolean {
    return this.#host.draining;
  }

  get scheme(): 'http' | 'https' {
    return this.#host.scheme;
  }

  /** Closes the connection if it sits between requests, or has not begun its first one (drain); returns whether it did. */
  closeIfIdle(): boolean {
    if (this.#phase !== Phase.Idle && !(this.#phase === Phase.Head && !this.#inMessage)) return false;
    this.#closeIdle();
    return true;
  }

  /** Closes a connection between requests: at once, unless the last response is still being written. */
  #closeIdle(): void {
    if (this.socket.writableLength === 0) this.socket.destroy();
    else this.#closeWith(undefined);
  }

  /** Called by the listener's sweep with its limits; closes what overstayed. */
  check(now: number, limits: ClientLimits): void {
    const age = now - this.#since;
    switch (this.#phase) {
      case Phase.Head:
        if (age > limits.headerTimeoutMs) this.#refuse('ERR_HTTP_REQUEST_TIMEOUT', undefined);
        break;
      case Phase.Busy: {
        const active = this.#active;
        if (active === undefined || active.requestComplete) break;
        if (age > limits.requestTimeoutMs) {
          if (active.headersSent) this.socket.destroy();
          else this.#refuse('ERR_HTTP_REQUEST_TIMEOUT', undefined);
        } else if (active.finished) {
          // Answered early; the rest of the body is read and dropped, but not for longer than this.
          if (now - this.#lingerSince > limits.lingeringTimeoutMs) this.#cutLingering(active);
        } else if (this.#stall.stalled(active.wantsBody, now, limits.bodyTimeoutMs)) {
          this.#refuse('BODY_TIMEOUT', undefined);
        }
        break;
      }
      case Phase.Idle:
        if (age > limits.keepAliveTimeoutMs) this.#closeIdle();
        break;
      case Phase.Closing:
        if (age > limits.lingeringTimeoutMs) this.socket.destroy();
        break;
    }
  }

  /** The lingering time of an early-answered request ran out: the connection closes, its response delivered. */
  #cutLingering(exchange: ClientExchange): void {
    this.#active = undefined;
    this.#host.done(exchange, true);
    this.#phase = Phase.Closing;
    this.#queue.length = 0;
    this.#parsing = undefined;
    // What the client still sends is not read any more: once our bytes are out, the socket goes.
    this.socket.end();
    this.socket.destroySoon();
  }

  // --- parser events ------------------------------------------------------------------------------

  readonly #onData = (data: Buffer): void => {
    if (this.#fresh) {
      if (this.#host.http2 !== undefined) {
        const head = this.#prefaceSoFar === undefined ? data : Buffer.concat([this.#prefaceSoFar, data]);
        const preface = http2Preface(head);
        // Too few bytes to tell yet (a client that writes the preface in pieces): wait for more.
        if (preface === undefined) {
          this.#prefaceSoFar = head;
          return;
        }
        this.#prefaceSoFar = undefined;
        if (preface) return this.#handOverToHttp2(head);
        data = head;
      }
      this.#fresh = false;
    }
    if (this.#phase === Phase.Closing) return; // a refused connection: nothing more is parsed
    if (this.#afterUpgrade) return this.#keepEarly(data);
    const ret = this.#parser.execute(data);
    if (typeof ret !== 'number') this.#refuse(ret.code, ret.reason);
    // The parser stops at the end of an upgrade request and says how far it read.
    else if (this.#afterUpgrade && ret < data.length) this.#keepEarly(data.subarray(ret));
  };

  #keepEarly(data: Buffer): void {
    this.#early?.push(data);
  }

  // A closing connection still reads (to see the client's close) but serves nothing more.

  readonly #onMessageBegin = (): void => {
    if (this.#phase === Phase.Closing) return;
    this.#inMessage = true;
    if (this.#phase === Phase.Idle) {
      this.#phase = Phase.Head;
      this.#since = performance.now();
    }
  };

  readonly #onHead = (minor: number, rawHeaders: string[], method: string, url: string, upgrade: boolean, keepAlive: boolean): number => {
    if (this.#phase === Phase.Closing) return HEAD_STOP;
    if (method === 'CONNECT') {
      // Never a tunnel: answer and stop parsing (a tunnel's bytes would follow). Pipelined behind a
      // request still being answered, the refusal cannot go out first: the connection is cut instead.
      if (this.#active === undefined) this.#closeWith(rawClientFailure('CONNECT_NOT_ALLOWED'));
      else this.socket.destroy();
      return HEAD_STOP;
    }
    if (method === 'PRI') {
      // The HTTP/2 connection preface where HTTP/2 is not served (or not as the first bytes).
      this.socket.destroy();
      return HEAD_STOP;
    }
    // An upgrade request (WebSocket…) closes the connection after a non-101 answer; after a 101 the socket
    // becomes a tunnel (ClientExchange.takeOver). One that cannot be tunnelled is served as a plain request.
    const exchange = new ClientExchange(this, minor, method, url, rawHeaders, keepAlive && !upgrade, upgrade);
    if (upgrade) {
      this.#upgradeRequest = true;
      if (exchange.upgrade !== undefined) this.#early = [];
    }
    this.#parsing = exchange;
    if (this.#active === undefined) this.#start(exchange);
    else this.#queue.push(exchange);
    this.updateReading();
    return HEAD_CONTINUE;
  };

  readonly #onBody = (chunk: Buffer): void => {
    this.#stall.read();
    if (this.#phase !== Phase.Closing) this.#parsing?.body(chunk);
  };

  readonly #onMessageComplete = (): void => {
    this.#inMessage = false;
    const exchange = this.#parsing;
    if (exchange === undefined) return;
    this.#parsing = undefined;
    if (this.#upgradeRequest) this.#afterUpgrade = true;
    exchange.complete();
    if (exchange === this.#active && exchange.finished) this.#next(exchange);
    else this.updateReading();
  };

  // --- serving ------------------------------------------------------------------------------------

  #start(exchange: ClientExchange): void {
    // Checks node:http makes before a request reaches a handler, and those a proxy adds (request-checks.ts);
    // a refused request is never served, so it is neither in flight nor counted as a response.
    const refusal = checkRequestHead(exchange.head, exchange.versionMinor, exchange.url);
    if (refusal !== undefined) return this.#refuse(refusal, undefined);
    this.#active = exchange;
    this.#phase = Phase.Busy;
    this.#since = performance.now();
    this.#host.serve(exchange);
  }

  responseEnded(exchange: ClientExchange): void {
    if (exchange !== this.#active) return;
    if (exchange.requestComplete) return this.#next(exchange);
    if (!exchange.keepAlive) {
      // The rest of the body stays unread; the connection cannot carry another request.
      this.#host.done(exchange, true);
      this.#active = undefined;
      this.#closeWith(undefined);
      return;
    }
    // Read the rest of the request and drop it; the connection goes on once it is complete, or closes
    // after --lingering-timeout (the sweep).
    this.#lingerSince = performance.now();
    exchange.discardBody();
    this.updateReading();
  }

  /** `exchange` is over on both sides: serve the next request, or wait for one, or close. */
  #next(exchange: ClientExchange): void {
    this.#host.done(exchange, true);
    this.#active = undefined;
    if (!exchange.keepAlive || this.#host.draining) {
      this.#closeWith(undefined);
      return;
    }
    const queued = this.#queue.shift();
    if (queued !== undefined) {
      this.#start(queued);
    } else if (this.#last) {
      this.#closeWith(undefined);
      return;
    } else {
      this.#phase = Phase.Idle;
      this.#since = performance.now();
    }
    this.updateReading();
  }

  updateReading(): void {
    const parsing = this.#parsing;
    // A request without a body completes in the same parse as its head: no pause for it (a pause and
    // resume of a net.Socket costs a tick).
    // After an upgrade request, what the client sends waits in the socket (a paused net.Socket still
    // reads up to its high-water mark, so a reset is seen) until the tunnel takes it, or the connection closes.
    const want =
      !this.#closed && this.#phase !== Phase.Closing && !this.#afterUpgrade && this.#queue.length === 0 && (parsing === undefined || !parsing.hasBody || parsing.wantsBody);
    if (want === this.#reading) return;
    this.#reading = want;
    if (want) this.socket.resume();
    else this.socket.pause();
  }

  // --- ending -------------------------------------------------------------------------------------

  /** A request refused before (or instead of) its handler: a short answer when nothing else was written, then close. */
  #refuse(code: string, reason: string | undefined): void {
    if (this.#phase === Phase.Closing || this.#closed) return;
    this.#host.rejected(code, reason, this.socket);
    const active = this.#active;
    if (active !== undefined && active.headersSent) {
      this.socket.destroy();
      return;
    }
    this.#abandonExchanges();
    this.#closeWith(rawClientFailure(code));
  }

  /** Ends the connection after `last` (if any): the client gets until the header timeout to close its side. */
  #closeWith(last: string | undefined): void {
    if (this.#phase === Phase.Closing || this.#closed) return;
    this.#phase = Phase.Closing;
    this.#since = performance.now();
    this.#queue.length = 0;
    this.#parsing = undefined;
    // Keep reading (and dropping) so the client's close is seen and no unread bytes turn our close into a reset.
    this.#reading = true;
    this.socket.resume();
    if (last === undefined) this.socket.end();
    else this.socket.end(last, 'latin1');
  }

  /** Whatever is served or waiting will never be answered on this connection. */
  #abandonExchanges(): void {
    const active = this.#active;
    this.#active = undefined;
    if (active !== undefined) {
      // A finished response whose request body was still being read (and dropped) counts as answered.
      if (!active.finished) active.gone();
      this.#host.done(active, active.finished);
    }
    this.#queue.length = 0;
  }

  readonly #onEnd = (): void => {
    // The client sent everything it will send. A request cut short is an error; otherwise answer what was asked.
    const err: ParseError | undefined = this.#phase === Phase.Closing ? undefined : this.#parser.finish();
    if (err !== undefined) return this.#refuse(err.code, err.reason);
    this.#last = true;
    if (this.#phase === Phase.Closing) {
      // Both sides are done once our last bytes are out.
      if (this.socket.writableFinished) this.socket.destroy();
      else this.socket.once('finish', () => this.socket.destroy());
      return;
    }
    if (this.#active === undefined && this.#queue.length === 0) this.#closeWith(undefined);
  };

  /** The connection speaks HTTP/2: it leaves this object (and the listener's HTTP/1.1 set) for the HTTP/2 server. */
  #handOverToHttp2(first: Buffer): void {
    this.#letGo();
    this.socket.unshift(first);
    this.#host.http2!(this.socket);
  }

  /** The socket leaves this connection (to HTTP/2, or to a tunnel): no more events here, the parser freed. */
  #letGo(): void {
    const socket = this.socket;
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('close', this.#onClose);
    socket.off('error', ignore);
    socket.pause();
    this.#closed = true;
    this.#host.closed(this);
    setImmediate(() => this.#parser.close());
  }

  detach(exchange: ClientExchange): { readonly buffered: Buffer | undefined; readonly ended: boolean } {
    this.#active = undefined;
    this.#queue.length = 0;
    this.#parsing = undefined;
    this.#host.done(exchange, true);
    this.#letGo();
    const early = this.#early;
    this.#early = undefined;
    const buffered = early === undefined || early.length === 0 ? undefined : early.length === 1 ? early[0] : Buffer.concat(early);
    return { buffered, ended: this.#last };
  }

  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#abandonExchanges();
    this.#host.closed(this);
    // The parser may be on the stack (a destroy from inside a callback): free it after this turn.
    setImmediate(() => this.#parser.close());
  };
}

function ignore(): void {}

/** `PRI * HTTP/2.0\r\n`: the start of the HTTP/2 connection preface; no HTTP/1.1 request begins so. */
const PREFACE_START = Buffer.from('PRI * HTTP/2.0\r\n', 'latin1');

/** Whether `data` starts with the preface; undefined while it is a shorter prefix of it (more bytes will tell). */
export function http2Preface(data: Buffer): boolean | undefined {
  if (data[0] !== 0x50) return false; // 'P': every other first byte is HTTP/1.1 (or garbage) at once
  const n = Math.min(data.length, PREFACE_START.length);
  if (data.compare(PREFACE_START, 0, n, 0, n) !== 0) return false;
  return n === PREFACE_START.length ? true : undefined;
}
