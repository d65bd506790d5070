/**
 * What a request is (undici's dispatch options and handler interface, the part proxy.ts uses), the
 * refusals undici makes before sending anything, and the writing of a request to the pod's socket with
 * undici's framing: `content-length: 0` for a bodiless method that expects a body, a Buffer body in the
 * same write as its head, a stream through a StreamBodyWriter.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { codedError } from '../upstream-connect.ts';
import { StreamBodyWriter, type BodyWriterOwner } from './body-writer.ts';
import { EXPECTS_PAYLOAD, type RequestHead } from './request-head.ts';

/** What the connection reads of a request (the proxy's dispatch options; undici's shape). */
export interface H1RequestOptions {
  readonly method: string;
  readonly path: string;
  readonly headers?: unknown;
  readonly body?: unknown;
  /** ms to wait for response headers; 0: none. */
  readonly headersTimeout?: number | null;
  /** Longest pause inside the response body, ms; 0: none. */
  readonly bodyTimeout?: number | null;
  readonly upgrade?: string | boolean | null;
}

/** The handler calls of undici's Client (its legacy interface, the one proxy.ts implements). */
export interface H1Handler {
  onConnect?(abort: (err?: Error) => void): void;
  /** `rawHeaders` are latin1 strings, not Buffers: headers.ts reads each with toString('latin1'), which a string answers with itself. */
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: string[] | null): void;
  onError?(err: Error): void;
}

/** Methods for which undici does not check a Buffer body against a Content-Length the caller set (RFC 9110 §8.6). */
const NO_LENGTH = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT']);

/** undici's refusals of a request's shape that do not depend on its head (request-head.ts has those). */
export function checkOptions(options: H1RequestOptions): Error | undefined {
  if (options.upgrade != null && options.upgrade !== false) return codedError('UND_ERR_NOT_SUPPORTED', 'upgrade is not supported by this upstream client (tunnel.ts uses undici)');
  const { headersTimeout, bodyTimeout, body } = options;
  if (headersTimeout != null && (!Number.isFinite(headersTimeout) || headersTimeout < 0)) return codedError('UND_ERR_INVALID_ARG', 'invalid headersTimeout');
  if (bodyTimeout != null && (!Number.isFinite(bodyTimeout) || bodyTimeout < 0)) return codedError('UND_ERR_INVALID_ARG', 'invalid bodyTimeout');
  if (body != null && !Buffer.isBuffer(body) && typeof (body as { on?: unknown }).on !== 'function') return codedError('UND_ERR_INVALID_ARG', 'body must be a Buffer or a Readable stream');
  if (options.headers != null && !Array.isArray(options.headers)) return codedError('UND_ERR_INVALID_ARG', 'headers must be a [name, value, …] list');
  return undefined;
}

/** A Buffer body whose length contradicts the Content-Length set for it: undici fails it before writing (strict mode). */
export function lengthMismatch(method: string, body: unknown, head: RequestHead): Error | undefined {
  if (!Buffer.isBuffer(body) || body.length === 0 || head.contentLength === null || head.contentLength === body.length || NO_LENGTH.has(method)) return undefined;
  return codedError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'Request body length does not match content-length header');
}

/** What writeRequest did: a stream body still going out, and whether undici would reuse the connection after this body. */
export interface Written {
  readonly writer: StreamBodyWriter | undefined;
  /** A body on a method that expects none: undici closes the connection after the response. */
  readonly closeAfter: boolean;
}

const NOTHING_LEFT: Written = { writer: undefined, closeAfter: false };
const BUFFER_ON_BODILESS: Written = { writer: undefined, closeAfter: true };

export function writeRequest(socket: Socket, method: string, body: unknown, head: RequestHead, owner: BodyWriterOwner): Written {
  const expectsPayload = EXPECTS_PAYLOAD.has(method);
  if (body == null || (Buffer.isBuffer(body) && body.length === 0)) {
    socket.write(expectsPayload ? `${head.head}content-length: 0\r\n\r\n` : `${head.head}\r\n`, 'latin1');
    return NOTHING_LEFT;
  }
  if (Buffer.isBuffer(body)) {
    socket.cork();
    socket.write(`${head.head}content-length: ${body.length}\r\n\r\n`, 'latin1');
    socket.write(body);
    socket.uncork();
    return expectsPayload ? NOTHING_LEFT : BUFFER_ON_BODILESS;
  }
  return { writer: new StreamBodyWriter(socket, body as Readable, head.head, head.contentLength, expectsPayload, owner), closeAfter: !expectsPayload };
}
