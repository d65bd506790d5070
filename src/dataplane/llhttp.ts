/**
 * Node's own HTTP/1.1 parser: the llhttp binding that node:http runs on, in strict mode, with the same
 * limits and the same refusals (request smuggling shapes, invalid header names, oversized heads). The
 * client listeners use it without node:http's IncomingMessage/ServerResponse streams, which cost more per
 * request than the proxying itself (docs/performance.md, Performance notes). It is reached through `_http_common`, the
 * CommonJS module node:http itself uses; this is the only module that knows its shape. `_http_common` is
 * deprecated (DEP0199): when a Node stops exposing the binding, `llhttpAvailable` is false and the
 * listeners fall back to node:http (node-http-server.ts).
 */
import { ErrorCode, SwyError } from '../errors.ts';

/** Callback slots of a parser, by the indexes the binding exports. */
export interface ParserBinding {
  readonly REQUEST: number;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  new (): NativeParser;
}

export interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  /** Bytes parsed, or the parse error (code `HPE_*`). */
  execute(data: Buffer): number | ParseError;
  /** Ends the input: an error if a message was cut short. */
  finish(): ParseError | undefined;
  close(): void;
  [slot: number]: unknown;
}

/** A parse error as the binding returns it: `code` is llhttp's (`HPE_INVALID_HEADER_TOKEN`, `HPE_HEADER_OVERFLOW`…). */
export interface ParseError extends Error {
  readonly code: string;
  readonly reason?: string;
}

/** The binding's pieces, or undefined on a Node that no longer exposes them (DEP0199 deprecates `_http_common`). */
function findBinding(): { readonly parser: ParserBinding; readonly methods: readonly string[] } | undefined {
  const common = process.getBuiltinModule('_http_common') as { HTTPParser?: ParserBinding; methods?: readonly string[] } | undefined;
  const parser = common?.HTTPParser;
  const methods = common?.methods;
  if (typeof parser !== 'function' || !Array.isArray(methods) || typeof parser.kOnHeadersComplete !== 'number') return undefined;
  return { parser, methods };
}

const found = findBinding();

/**
 * Whether this Node exposes the llhttp binding. When it does not, the listeners serve HTTP/1.1 through
 * node:http instead (node-http-server.ts, `--http1-server node`): loading this module never fails.
 */
export const llhttpAvailable = found !== undefined;

/** The binding itself, for the upstream response parser (h1-upstream/response-parser.ts); undefined when missing. */
export const parserBinding: ParserBinding | undefined = found?.parser;

// Placeholders when the binding is missing: RequestParser refuses to be built then, so none is read.
const Parser = found?.parser;
const METHODS = found?.methods ?? [];
const kOnMessageBegin = found?.parser.kOnMessageBegin ?? 0;
const kOnHeaders = found?.parser.kOnHeaders ?? 0;
const kOnHeadersComplete = found?.parser.kOnHeadersComplete ?? 0;
const kOnBody = found?.parser.kOnBody ?? 0;
const kOnMessageComplete = found?.parser.kOnMessageComplete ?? 0;

/** What kOnHeadersComplete may answer: go on with the message, or stop parsing (CONNECT: a tunnel would follow). */
export const HEAD_CONTINUE = 0;
export const HEAD_STOP = 2;

/** The events of a request parser; `this` is not used. */
export interface RequestEvents {
  /** The first byte of a request. */
  onMessageBegin(): void;
  /**
   * A complete request head. `rawHeaders` is a fresh [name, value, …] list; `method` is upper case;
   * `upgrade` is true for CONNECT and for requests with `Connection: upgrade` and `Upgrade`. Returns
   * HEAD_CONTINUE or HEAD_STOP.
   */
  onHead(versionMinor: number, rawHeaders: string[], method: string, url: string, upgrade: boolean, keepAlive: boolean): number;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
}

/**
 * One connection's native parser, made for requests or for responses, and what its owner does with it:
 * feed it, end it, free it. RequestParser (below) and h1-upstream's ResponseParser add their side's
 * callbacks to `native`.
 */
export class LlhttpParser {
  protected readonly native: NativeParser;

  /**
   * `maxHeaderSize`: largest head in bytes before HPE_HEADER_OVERFLOW (0: Node's default). `fallback`: the
   * flag that does without the binding, named when it is missing (callers check llhttpAvailable first, so
   * reaching that is a wiring bug).
   */
  constructor(type: 'REQUEST' | 'RESPONSE', maxHeaderSize: number, fallback: string) {
    if (Parser === undefined) {
      throw new SwyError(ErrorCode.RUNTIME_UNSUPPORTED, `this Node.js (${process.version}) does not expose the llhttp binding in _http_common; use ${fallback}`);
    }
    this.native = new Parser();
    // No lenient flags: node:http's default strictness (undici's too: smuggling shapes are refused either way).
    this.native.initialize(Parser[type], {}, maxHeaderSize, 0);
  }

  /** Parses `data`: the number of bytes taken, or the error that stops this connection. */
  execute(data: Buffer): number | ParseError {
    return this.native.execute(data);
  }

  /** The peer ended its side: an error when it did so in the middle of a message (a response read until close completes). */
  finish(): ParseError | undefined {
    return this.native.finish();
  }

  /** Frees the native parser; call once the connection is closed, never from inside a callback. */
  close(): void {
    this.native.close();
  }
}

/** One connection's request parser. */
export class RequestParser extends LlhttpParser {
  /** Head parts delivered early (a head split over reads, or more than 32 fields). */
  #headers: string[] = [];
  #url = '';

  /** `maxHeaderSize`: largest head in bytes before HPE_HEADER_OVERFLOW (0: Node's default). */
  constructor(events: RequestEvents, maxHeaderSize: number) {
    // The listener checks llhttpAvailable first (node-http-server.ts selectHttp1Server).
    super('REQUEST', maxHeaderSize, '--http1-server node');
    const native = this.native;
    native[kOnMessageBegin] = events.onMessageBegin;
    native[kOnHeaders] = (headers: string[], url: string): void => {
      for (const h of headers) this.#headers.push(h);
      this.#url += url;
    };
    native[kOnHeadersComplete] = (
      _major: number,
      minor: number,
      headers: string[] | undefined,
      method: number,
      url: string | undefined,
      _status: unknown,
      _statusMessage: unknown,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => {
      if (headers === undefined) {
        headers = this.#headers;
        this.#headers = [];
      }
      if (url === undefined) {
        url = this.#url;
        this.#url = '';
      }
      return events.onHead(minor, headers, METHODS[method] ?? 'GET', url, upgrade, keepAlive);
    };
    native[kOnBody] = events.onBody;
    native[kOnMessageComplete] = (): void => {
      // Trailer fields arrive through kOnHeaders; they are not forwarded.
      if (this.#headers.length > 0) this.#headers = [];
      this.#url = '';
      events.onMessageComplete();
    };
  }
}
