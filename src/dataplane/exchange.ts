/**
 * One client request and its response as routing, balancing and forwarding see it, whatever framed it:
 * an HTTP/1.1 request on a plain or TLS connection (client-exchange.ts) or an HTTP/2 stream
 * (h2/h2-exchange.ts). Only framing differs between them; everything from match to forward takes this.
 */

import type { ExchangeTrace } from './exchange-trace.ts';

/** Where request body bytes go once the proxy asks for them. */
export interface BodySink {
  /** A chunk; false asks for a pause until `resumeBody()`. */
  onData(chunk: Buffer): boolean;
  onEnd(): void;
  /** The client went away or broke the request off. */
  onError(err: Error): void;
}

/** A sink that takes body bytes and drops them: the rest of a request whose answer already went out. */
/** A TLS socket's SNI name, lower-cased (sniName of TLSSocket#servername: a string, or false/null/undefined when none). */
export function sniName(servername: unknown): string | undefined {
  return typeof servername === 'string' && servername !== '' ? servername.toLowerCase() : undefined;
}

export const DISCARD_BODY: BodySink = { onData: () => true, onEnd: () => {}, onError: () => {} };

/** The wire protocol a request arrived in. */
export type ClientProtocol = 'http/1.1' | 'h2';

export interface HttpExchange {
  readonly method: string;
  /** The request target as sent (HTTP/2: `:path`; an absolute-form target only over HTTP/1.1). */
  readonly url: string;
  /** The client's header fields as sent, [name, value, …], without HTTP/2 pseudo-headers. */
  readonly rawHeaders: readonly string[];
  /** The first Host field; over HTTP/2, `:authority` (RFC 9113 §8.3.1), else `host`. */
  readonly host: string | undefined;
  /** Every Connection field, joined with ", " (never present over HTTP/2). */
  readonly connection: string | undefined;
  /** Every X-Forwarded-For field, joined with ", ". */
  readonly forwardedFor: string | undefined;
  /**
   * The request's id, set once by the constructor (headers.ts requestIdFor): the client's X-Request-Id
   * when valid, else a generated UUID. The pod gets it as X-Request-Id, the client in the response
   * (unless the pod set its own) and in Switchyard's own failure answers; an access log reads it here.
   */
  readonly requestId: string;
  /** The request has a body. */
  readonly hasBody: boolean;
  /** What became of the request (route, attempts, bytes), for the metrics and the access log (exchange-trace.ts). */
  readonly trace: ExchangeTrace;
  /** The client's address: the TCP peer's, or the source a PROXY protocol header gave (proxy-protocol.ts). */
  readonly remoteAddress: string;
  /** The listener's port the client connected to. */
  readonly localPort: number;
  /** `https` when the client connection is TLS. */
  readonly scheme: 'http' | 'https';
  /** The TLS server name (SNI) the client sent, lower-cased; undefined over plaintext or without SNI. */
  readonly servername: string | undefined;
  readonly protocol: ClientProtocol;
  /** A gRPC call (content-type application/grpc…): Switchyard's own failures are answered as gRPC statuses. */
  readonly grpc: boolean;
  /** The `Upgrade` protocol of an HTTP/1.1 upgrade request that becomes a tunnel (tunnel.ts); absent otherwise (always over HTTP/2). */
  readonly upgrade?: string | undefined;
  /** Whether the connection may carry another request after this one (HTTP/1.1); the proxy clears it when body bytes are left unread. */
  keepAlive: boolean;
  /** Set by writeHead. */
  statusCode: number;
  /** The response head was produced. */
  headersSent: boolean;
  /** Called once if the client goes away before the response finished. */
  onClientGone: (() => void) | undefined;

  /** Starts handing body bytes to `sink`. */
  readBody(sink: BodySink): void;
  /** `sink` takes no more body bytes; what arrives meanwhile is kept for the next `readBody`. */
  unreadBody(sink: BodySink): void;
  resumeBody(): void;

  /** Starts the response: `headers` is a flat [name, value, …] list without hop-by-hop fields. */
  writeHead(status: number, headers: readonly string[]): void;
  /** Writes body bytes; false when the client is behind (wait for `onceDrain`). */
  write(chunk: Buffer): boolean;
  /** Calls `fn` once the client has taken what was written. */
  onceDrain(fn: () => void): void;
  /** Ends the response; `trailers` ([name, value, …]) are sent where the protocol carries them (HTTP/2). */
  end(trailers?: readonly string[]): void;
  /** Cuts the response: one that broke off midway must not look complete. */
  destroy(): void;
}
