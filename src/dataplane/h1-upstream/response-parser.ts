/**
 * A pod's HTTP/1.1 responses, parsed by Node's own llhttp binding in RESPONSE mode: the same parser,
 * strictness and limits as the client side (llhttp.ts, which alone knows how the binding is reached).
 * undici parses with its own WebAssembly build of llhttp and a JavaScript layer of callbacks around it;
 * this one is native, hands header fields over as latin1 strings (what the proxy writes back out) and
 * allocates nothing per response but the header list and the body chunks.
 */
import { LlhttpParser, parserBinding } from '../llhttp.ts';

export type { ParseError } from '../llhttp.ts';

/** What onHead may answer (llhttp's on_headers_complete): read a body as framed, no body at all, or stop. */
export const HEAD_BODY = 0;
export const HEAD_NO_BODY = 1;
/** Stops the parser with an error (HPE_CB_HEADERS_COMPLETE): the response must not be read further. */
export const HEAD_REFUSE = -1;

/** The events of a response parser; `this` is not used. */
export interface ResponseEvents {
  /**
   * A complete response head: `rawHeaders` is a fresh [name, value, …] list of latin1 strings;
   * `upgrade` is llhttp's (a 101); `keepAlive` says whether the connection may carry another request
   * after this response. Returns HEAD_BODY, HEAD_NO_BODY or HEAD_REFUSE.
   */
  onHead(versionMinor: number, status: number, rawHeaders: string[], upgrade: boolean, keepAlive: boolean): number;
  onBody(chunk: Buffer): void;
  /** The response ended; `trailers` are trailer fields (chunked), an empty list when none came. */
  onComplete(trailers: string[]): void;
}

/** Whether this Node exposes the llhttp binding (the upstream client needs it; undici is the fallback). */
export const responseParserAvailable = parserBinding !== undefined;

const NO_TRAILERS: string[] = [];

/** One connection's response parser (one per socket: a new connection gets a new parser). */
export class ResponseParser extends LlhttpParser {
  /** Fields delivered before the head completed (a head of more than 32 fields or split over reads), or trailers. */
  #fields: string[] | undefined;

  /** `maxHeaderSize`: largest head in bytes before HPE_HEADER_OVERFLOW (0: Node's default, as undici's). */
  constructor(events: ResponseEvents, maxHeaderSize: number) {
    // The pool checks responseParserAvailable first (endpoint-pool.ts).
    super('RESPONSE', maxHeaderSize, '--upstream-client undici');
    const binding = parserBinding!;
    const native = this.native;
    native[binding.kOnMessageBegin] = (): void => {
      this.#fields = undefined;
    };
    native[binding.kOnHeaders] = (fields: string[]): void => {
      const into = (this.#fields ??= []);
      for (let i = 0; i < fields.length; i++) into.push(fields[i]!);
    };
    native[binding.kOnHeadersComplete] = (
      _major: number,
      minor: number,
      fields: string[] | undefined,
      _method: unknown,
      _url: unknown,
      status: number,
      _statusMessage: unknown,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => {
      if (fields === undefined) fields = this.#fields ?? [];
      this.#fields = undefined;
      return events.onHead(minor, status, fields, upgrade, keepAlive);
    };
    native[binding.kOnBody] = events.onBody;
    native[binding.kOnMessageComplete] = (): void => {
      // Fields seen after the head are the trailers of a chunked body.
      const trailers = this.#fields ?? NO_TRAILERS;
      this.#fields = undefined;
      events.onComplete(trailers);
    };
  }
}
