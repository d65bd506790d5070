/**
 * One client request over node:http's public IncomingMessage/ServerResponse pair, as the proxy sees it:
 * the fallback of client-exchange.ts when the llhttp binding is missing or `--http1-server node` is given
 * (node-http-server.ts). node:http frames the response itself (Content-Length passed through, chunked
 * for HTTP/1.1 when the length is unknown, close-delimited for HTTP/1.0, no body after HEAD, 1xx, 204 and
 * 304) and keeps the connection; this adapts its streams to HttpExchange: the request body is a pull
 * source (the IncomingMessage paused while the sink is full), the response head a flat field list.
 */
import { BodyStallWatch } from './body-stall.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { DISCARD_BODY, type BodySink, type HttpExchange } from './exchange.ts';
import { expectsContinue } from './request-checks.ts';
import { Http1Head } from './http1-head.ts';

/** What an exchange needs from the server that made it. */
export interface NodeExchangeOwner {
  /** Whether the listener is draining (every response then closes its connection). */
  readonly draining: boolean;
  /** `https` on a TLS connection. */
  readonly scheme: 'http' | 'https';
  /** Once per served exchange: its response finished (true) or the connection closed first. */
  done(exchange: NodeExchange, finished: boolean): void;
  /** The response ended before the request body did: the rest is read and dropped, for --lingering-timeout at most. */
  linger(exchange: NodeExchange): void;
}

// A Connection field's tokens, hoisted: node:http decides persistence the same way (RFC 9112 §9.3).
const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/i;
const KEEP_ALIVE_TOKEN = /(?:^|,)\s*keep-alive\s*(?:,|$)/i;
const UPGRADE_TOKEN = /(?:^|,)\s*upgrade\s*(?:,|$)/i;
const CLOSE_FIELDS = ['connection', 'close'] as const;

export class NodeExchange extends Http1Head implements HttpExchange {
  /** Upgrade requests reach the server's 'upgrade' event instead (node-http-upgrade.ts); one served here is a plain request. */
  readonly upgrade = undefined;
  keepAlive: boolean;
  statusCode = 0;
  headersSent = false;
  onClientGone: (() => void) | undefined;
  /** The client's connection (pipelined exchanges share it). */
  readonly socket: Socket;

  readonly #owner: NodeExchangeOwner;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  /** The client waits for 100 Continue before it sends the body; cleared once sent. */
  #expectContinue: boolean;
  #sink: BodySink | undefined;
  /** Body chunks that arrived while no sink took them (between two attempts). */
  #pending: Buffer[] | undefined;
  #listening = false;
  /** The request body ended ('end' was seen). */
  #bodyEnded = false;
  #ended = false;
  #gone = false;
  /** done() was reported to the owner. */
  #reported = false;
  /** --client-body-timeout, as the server's sweep sees it. */
  readonly #stall = new BodyStallWatch();
  /** When the rest of the body began to be dropped (0: it is not). */
  #lingerSince = 0;

  constructor(owner: NodeExchangeOwner, req: IncomingMessage, res: ServerResponse) {
    super(req.socket, owner.scheme, req.httpVersionMinor, req.method ?? 'GET', req.url ?? '/', req.rawHeaders);
    this.#owner = owner;
    this.#req = req;
    this.#res = res;
    const { connection } = this;
    const minor = this.versionMinor;
    this.#expectContinue = expectsContinue(this.head.expect, minor);
    this.keepAlive = connection === undefined ? minor >= 1 : minor >= 1 ? !CLOSE_TOKEN.test(connection) : KEEP_ALIVE_TOKEN.test(connection);
    // An upgrade request that is not tunnelled (node-http-upgrade.ts) closes its connection after the answer, as on the llhttp path.
    if (this.keepAlive && connection !== undefined && UPGRADE_TOKEN.test(connection) && req.headers.upgrade !== undefined) this.keepAlive = false;
    this.socket = req.socket;
    // A pod's own Date field passes through; Switchyard adds none, as on the llhttp path.
    res.sendDate = false;
  }

  // --- request body -------------------------------------------------------------------------------

  readBody(sink: BodySink): void {
    this.#sink = sink;
    if (this.#expectContinue) {
      this.#expectContinue = false;
      if (!this.headersSent && !this.#req.complete) this.#res.writeContinue();
    }
    if (!this.#listening) {
      this.#listening = true;
      this.#req.on('data', this.#onData);
      this.#req.on('end', this.#onEnd);
      // A client that breaks the body off: the socket's close ends the exchange (gone()).
      this.#req.on('error', ignore);
    }
    const pending = this.#pending;
    this.#pending = undefined;
    let more = true;
    if (pending !== undefined) {
      for (let i = 0; i < pending.length; i++) {
        // The sink may let go while it takes these (a prefetch that has enough): keep the rest.
        if (this.#sink !== sink) {
          this.#pending = pending.slice(i);
          return;
        }
        more = sink.onData(pending[i]!) && more;
      }
    }
    if (this.#sink !== sink) return;
    if (this.#bodyEnded) sink.onEnd();
    else if (more) this.#req.resume();
  }

  unreadBody(sink: BodySink): void {
    if (this.#sink !== sink) return;
    this.#sink = undefined;
    this.#req.pause();
  }

  resumeBody(): void {
    if (this.#sink !== undefined) this.#req.resume();
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#stall.read();
    this.trace.bytesIn += chunk.length;
    const sink = this.#sink;
    if (sink === undefined) {
      (this.#pending ??= []).push(chunk);
      this.#req.pause();
    } else if (!sink.onData(chunk)) {
      this.#req.pause();
    }
  };

  readonly #onEnd = (): void => {
    this.#bodyEnded = true;
    this.#sink?.onEnd();
  };

  // --- response -----------------------------------------------------------------------------------

  writeHead(status: number, headers: readonly string[]): void {
    if (this.#gone) return;
    this.statusCode = status;
    this.headersSent = true;
    if (this.#owner.draining) this.keepAlive = false;
    // Connection: close makes node:http end the connection after this response (and say so).
    const fields = this.keepAlive ? headers : [...headers, ...CLOSE_FIELDS];
    try {
      this.#res.writeHead(status, fields as string[]);
    } catch {
      // A field node:http refuses to write (a control character in a pod's value): no half-written head.
      this.#res.destroy();
    }
  }

  write(chunk: Buffer): boolean {
    if (this.#gone || this.#ended) return true;
    this.trace.bytesOut += chunk.length;
    return this.#res.write(chunk);
  }

  onceDrain(fn: () => void): void {
    this.#res.once('drain', fn);
  }

  /** Ends the response. HTTP/1.1 trailers are not forwarded (a client must ask for them with TE: trailers). */
  end(_trailers?: readonly string[]): void {
    if (this.#ended || this.#gone) return;
    this.#ended = true;
    this.#res.end();
    // An early answer: the rest of the body is read and dropped, so a kept-alive connection can go on,
    // but only for --lingering-timeout (the server's sweep).
    if (this.hasBody && !this.#bodyEnded && !this.#req.complete) {
      this.#sink = DISCARD_BODY;
      this.#pending = undefined;
      if (!this.#listening) this.readBody(DISCARD_BODY);
      else this.#req.resume();
      this.#lingerSince = performance.now();
      this.#owner.linger(this);
    }
  }

  destroy(): void {
    this.#res.destroy();
  }

  // --- from the server ----------------------------------------------------------------------------

  /** The response went out whole: counted as answered. */
  finished(): void {
    this.#report(true);
  }

  /** The connection closed before the response finished. */
  gone(): void {
    if (this.#reported) return;
    this.#gone = true;
    const sink = this.#sink;
    this.#sink = undefined;
    // The proxy hears first, so that the body error that follows is never taken for the pod's failure.
    this.onClientGone?.();
    if (sink !== undefined && !this.#bodyEnded) sink.onError(new Error('client closed the connection'));
    this.#report(false);
  }

  /**
   * From the server's sweep: whether the client has paused inside its body longer than `timeoutMs` while
   * the proxy waits for it (--client-body-timeout; any read, however small, counts).
   */
  bodyStalled(now: number, timeoutMs: number): boolean {
    const waiting = this.#sink !== undefined && this.#sink !== DISCARD_BODY && !this.#bodyEnded && !this.#req.isPaused();
    return this.#stall.stalled(waiting, now, timeoutMs);
  }


  /** From the server's sweep: the rest of the body is still being dropped after `timeoutMs`; false once it ended. */
  lingeredOut(now: number, timeoutMs: number): boolean | undefined {
    if (this.#bodyEnded || this.#req.complete) return undefined;
    return now - this.#lingerSince > timeoutMs;
  }

  /** Whether the response started and is still being written (a refusal can no longer go out first). */
  get midResponse(): boolean {
    return this.headersSent && !this.#reported;
  }

  #report(finished: boolean): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#owner.done(this, finished);
  }
}

function ignore(): void {}
