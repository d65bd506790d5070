/**
 * One client request and its response, as the proxy sees them: the parsed request head, its body as
 * a pull source, and a response writer that frames the body for the client (Content-Length passed
 * through, chunked for HTTP/1.1 when the length is unknown, close-delimited for HTTP/1.0). Owned by a
 * client connection (client-connection.ts), which decides what happens to the connection afterwards.
 * It replaces node:http's IncomingMessage/ServerResponse pair: no stream objects, no events, one
 * object per request.
 */
import type { Socket } from 'node:net';
import { DISCARD_BODY, type BodySink, type HttpExchange } from './exchange.ts';
import { expectsContinue } from './request-checks.ts';
import { Http1Head } from './http1-head.ts';

export type { BodySink } from './exchange.ts';

// Not an ESM import of node:http: its namespace loads Node's bundled undici (~2.5 MB RSS per process);
// test/architecture/imports.test.ts keeps it that way.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

/** What an exchange needs from its connection. */
export interface ExchangeOwner {
  readonly socket: Socket;
  /** The response was ended (or cut): the connection may go on to its next request. */
  responseEnded(exchange: ClientExchange): void;
  /** Starts or stops reading the socket, as the exchanges now want body bytes or not. */
  updateReading(): void;
  /** Whether the listener is draining (every response then closes its connection). */
  readonly draining: boolean;
  /** `https` on a TLS connection. */
  readonly scheme: 'http' | 'https';
  /**
   * Gives the socket up to a tunnel after a 101 (`exchange` is the one being served): the connection
   * stops reading and parsing, counts the exchange as answered and forgets the socket.
   */
  detach(exchange: ClientExchange): { readonly buffered: Buffer | undefined; readonly ended: boolean };
}

/** A client connection switched to another protocol (ClientExchange.takeOver). */
export interface TakenConnection {
  /** The client's socket, paused, with no listener left on it. */
  readonly socket: Socket;
  /** Bytes the client sent after its request head (the new protocol's first bytes), already read. */
  readonly buffered: Buffer | undefined;
  /** The client already ended its side. */
  readonly ended: boolean;
}

/**
 * How the response body is framed for the client. None: HEAD, 1xx, 204, 304 (a head only); Length: the
 * upstream's Content-Length, passed through; Chunked; Close: HTTP/1.0 without a length, the body ends
 * when the connection closes.
 */
const Framing = { None: 0, Length: 1, Chunked: 2, Close: 3 } as const;
type Framing = (typeof Framing)[keyof typeof Framing];

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (statusLines.size < 1000) statusLines.set(status, line);
  }
  return line;
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const CHUNK_END = '\r\n';
const LAST_CHUNK = '0\r\n\r\n';

export class ClientExchange extends Http1Head implements HttpExchange {
  /** Whether the connection may carry another request after this one; the proxy clears it when part of the body is left unread. */
  keepAlive: boolean;
  /** Set by writeHead. */
  statusCode = 0;
  /** The response head was produced (it may still wait, in #head, for the first body bytes). */
  headersSent = false;
  /** The response was ended: every byte handed to the socket. */
  finished = false;
  /** The whole request (head and body) was read. */
  requestComplete = false;
  /** Called once if the client goes away before the response finished. */
  onClientGone: (() => void) | undefined;
  /**
   * The Upgrade field's value when the request asks to switch protocols (RFC 9110 §7.8) and the switch
   * can be tunnelled to the pod: HTTP/1.1, no request body, not `h2c` (RFC 9113 §3.1 retired that
   * upgrade). Otherwise undefined, and the request is served as a plain one, Upgrade dropped.
   */
  readonly upgrade: string | undefined;

  readonly #owner: ExchangeOwner;
  /** The client waits for 100 Continue before it sends the body; cleared once sent. */
  #expectContinue: boolean;
  #framing: Framing = Framing.Length;
  /** The response head, held back to leave in one write with the first body bytes. */
  #head: string | undefined;
  /** Body bytes read before the proxy asked for them. */
  #pending: Buffer[] | undefined;
  #sink: BodySink | undefined;
  #sinkPaused = false;
  #gone = false;

  /** `upgrade`: the parser saw `Connection: upgrade` with an Upgrade field. */
  constructor(owner: ExchangeOwner, versionMinor: number, method: string, url: string, rawHeaders: string[], keepAlive: boolean, upgrade = false) {
    super(owner.socket, owner.scheme, versionMinor, method, url, rawHeaders);
    this.#owner = owner;
    this.keepAlive = keepAlive;
    this.#expectContinue = expectsContinue(this.head.expect, versionMinor);
    this.upgrade = upgrade && versionMinor >= 1 && !this.hasBody ? tunnelUpgrade(rawHeaders) : undefined;
  }

  // --- request body -------------------------------------------------------------------------------

  /** Starts handing body bytes to `sink` (100 Continue first, when the client waits for it). */
  readBody(sink: BodySink): void {
    this.#sink = sink;
    this.#sinkPaused = false;
    if (this.#expectContinue) {
      this.#expectContinue = false;
      if (!this.headersSent && !this.requestComplete) this.#owner.socket.write(CONTINUE, 'latin1');
    }
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) {
      for (let i = 0; i < pending.length; i++) {
        // The sink may let go while it takes these (a BodyPrefetch that has enough): keep the rest.
        if (this.#sink !== sink) {
          this.#pending = pending.slice(i);
          break;
        }
        this.#toSink(pending[i]!);
      }
    }
    if (this.requestComplete && this.#sink === sink) sink.onEnd();
    this.#owner.updateReading();
  }

  /**
   * `sink` takes no more body bytes (its attempt ended); what arrives meanwhile is kept for the next
   * `readBody`. A sink that was already replaced (by the next attempt, or by discardBody once the
   * response ended) is left alone.
   */
  unreadBody(sink: BodySink): void {
    if (this.#sink !== sink) return;
    this.#sink = undefined;
    this.#owner.updateReading();
  }

  resumeBody(): void {
    this.#sinkPaused = false;
    this.#owner.updateReading();
  }

  /** Whether the connection should read: only for a sink that wants bytes. */
  get wantsBody(): boolean {
    return this.#sink !== undefined && !this.#sinkPaused;
  }

  /** From the parser. */
  body(chunk: Buffer): void {
    this.trace.bytesIn += chunk.length;
    if (this.#sink !== undefined) this.#toSink(chunk);
    else (this.#pending ??= []).push(chunk);
  }

  /** From the parser: the request is complete. */
  complete(): void {
    this.requestComplete = true;
    this.#sink?.onEnd();
  }

  #toSink(chunk: Buffer): void {
    if (this.#sink!.onData(chunk) || this.#sinkPaused) return;
    this.#sinkPaused = true;
    this.#owner.updateReading();
  }

  /** The response ended before the body was read: read the rest and throw it away, so the connection can go on. */
  discardBody(): void {
    this.#pending = undefined;
    this.#sink = DISCARD_BODY;
    this.#sinkPaused = false;
  }

  // --- response -----------------------------------------------------------------------------------

  /** Starts the response: `headers` is a flat [name, value, …] list without hop-by-hop fields. */
  writeHead(status: number, headers: readonly string[]): void {
    this.statusCode = status;
    this.headersSent = true;
    let head = statusLine(status);
    let length = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      head += `${name}: ${headers[i + 1]!}\r\n`;
    }
    if (this.method === 'HEAD' || status < 200 || status === 204 || status === 304) this.#framing = Framing.None;
    else if (length) this.#framing = Framing.Length;
    else if (this.versionMinor >= 1) {
      this.#framing = Framing.Chunked;
      head += 'transfer-encoding: chunked\r\n';
    } else {
      this.#framing = Framing.Close;
      this.keepAlive = false;
    }
    if (this.#owner.draining) this.keepAlive = false;
    if (!this.keepAlive) head += 'connection: close\r\n';
    else if (this.versionMinor === 0) head += 'connection: keep-alive\r\n';
    this.#head = `${head}\r\n`;
  }

  /** Writes body bytes; false when the client is behind (wait for `onceDrain`). */
  write(chunk: Buffer): boolean {
    const socket = this.#owner.socket;
    if (this.#framing === Framing.None || this.#gone) return true;
    this.trace.bytesOut += chunk.length;
    socket.cork();
    if (this.#head !== undefined) {
      socket.write(this.#head, 'latin1');
      this.#head = undefined;
    }
    let ok: boolean;
    if (this.#framing === Framing.Chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write(CHUNK_END, 'latin1');
    } else {
      ok = socket.write(chunk);
    }
    socket.uncork();
    return ok;
  }

  /** Calls `fn` once the client has taken what was written. */
  onceDrain(fn: () => void): void {
    this.#owner.socket.once('drain', fn);
  }

  /** Ends the response. HTTP/1.1 trailers are not forwarded (a client must ask for them with TE: trailers). */
  end(_trailers?: readonly string[]): void {
    if (this.finished || this.#gone) return;
    const socket = this.#owner.socket;
    const head = this.#head;
    this.#head = undefined;
    if (this.#framing === Framing.Chunked) socket.write(head === undefined ? LAST_CHUNK : head + LAST_CHUNK, 'latin1');
    else if (head !== undefined) socket.write(head, 'latin1');
    this.finished = true;
    this.#owner.responseEnded(this);
  }

  /** Cuts the client connection: a response that broke off midway must not look complete. */
  destroy(): void {
    this.#owner.socket.destroy();
  }

  /**
   * Switches the connection to a tunnel: writes `head` (the pod's 101 response head, complete) and takes
   * the socket away from the HTTP/1.1 connection. Undefined when the client is already gone.
   */
  takeOver(head: string): TakenConnection | undefined {
    const socket = this.#owner.socket;
    if (this.#gone || this.finished || socket.destroyed) return undefined;
    this.statusCode = 101;
    this.headersSent = true;
    this.finished = true;
    socket.write(head, 'latin1');
    const { buffered, ended } = this.#owner.detach(this);
    return { socket, buffered, ended };
  }

  /** From the connection: it closed before the response finished. */
  gone(): void {
    if (this.#gone) return;
    this.#gone = true;
    const sink = this.#sink;
    this.#sink = undefined;
    // The proxy hears first, so that the body error that follows is never taken for the pod's failure.
    this.onClientGone?.();
    if (sink !== undefined && !this.requestComplete) sink.onError(new Error('client closed the connection'));
  }
}

/** The Upgrade field(s) of a request, joined; undefined for `h2c`, which is never tunnelled. */
function tunnelUpgrade(raw: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 7 && name.toLowerCase() === 'upgrade') value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
  }
  const token = value?.trim().toLowerCase();
  return token === undefined || token === '' || token === 'h2c' ? undefined : value;
}
