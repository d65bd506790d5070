/**
 * The request head as undici's Client writes it, byte for byte (`METHOD path HTTP/1.1`, `host` first,
 * then `connection`, then the fields in order, `content-length` last), and refused where undici refuses
 * it, with the same error codes: proxy.ts answers a request that cannot be built with 400
 * request-not-forwardable and never holds it against the pod (UND_ERR_INVALID_ARG, UND_ERR_NOT_SUPPORTED).
 * The client side's parsers already refuse nearly all of these shapes; the checks stay so that the two
 * upstream clients answer alike whatever a listener lets through.
 */
import { codedError } from '../upstream-connect.ts';

/** What a request head needs of the proxy's dispatch options. */
export interface HeadSource {
  readonly method: string;
  readonly path: string;
  /** [name, value, …]. */
  readonly headers: readonly string[] | null | undefined;
}

export interface RequestHead {
  /** Everything before the content-length field and the blank line. */
  readonly head: string;
  /** A Content-Length field the caller set; null when none. */
  readonly contentLength: number | null;
  /** `Connection: close` was asked for: no other request after this one. */
  readonly close: boolean;
}

// undici's own checks (lib/core/util.js, request.js), hoisted.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const INVALID_PATH = /[^\u0021-\u00ff]/;
const CONTENT_LENGTH = /^\d+$/;
/** Methods undici knows without a token check. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'get', 'head', 'post', 'put', 'delete', 'options', 'patch', 'trace', 'connect']);
/** Fields a caller may not set: the client frames the message itself (undici: InvalidArgumentError). */
const REFUSED = new Set(['transfer-encoding', 'keep-alive', 'upgrade']);

/** Methods whose request normally carries a body: they get `content-length: 0` when they have none (undici's rule). */
export const EXPECTS_PAYLOAD = new Set(['PUT', 'POST', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']);

function invalid(message: string): Error {
  return codedError('UND_ERR_INVALID_ARG', message);
}

/**
 * Builds the head of `req` for `defaultHost` (the pod's `address:port`, used when no Host field is
 * given); `keepAlive` false writes `connection: close`. Throws the error undici would.
 */
export function requestHead(req: HeadSource, defaultHost: string, keepAlive: boolean): RequestHead {
  const { method, path } = req;
  if (typeof path !== 'string') throw invalid('path must be a string');
  if (path[0] !== '/' && !(path.startsWith('http://') || path.startsWith('https://')) && method !== 'CONNECT') throw invalid('path must be an absolute URL or start with a slash');
  if (INVALID_PATH.test(path)) throw invalid('invalid request path');
  if (typeof method !== 'string' || (!KNOWN_METHODS.has(method) && !TOKEN.test(method))) throw invalid('invalid request method');
  const headers = req.headers ?? [];
  if (headers.length % 2 !== 0) throw invalid('headers array must be even');
  let host: string | undefined;
  let contentLength: number | null = null;
  let close = false;
  let fields = '';
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (typeof value !== 'string' || INVALID_VALUE.test(value)) throw invalid(`invalid ${name} header`);
    // Most names are neither special nor odd: one token check and one lower-casing of the few that may be.
    if (!TOKEN.test(name)) throw invalid('invalid header key');
    const special = name.length === 4 || name.length === 6 || name.length === 7 || name.length === 10 || name.length === 14 || name.length === 17;
    const lower = special ? name.toLowerCase() : '';
    if (lower === 'host') {
      if (host !== undefined) throw invalid('duplicate host header');
      host = value;
    } else if (lower === 'content-length') {
      if (contentLength !== null) throw invalid('duplicate content-length header');
      if (!CONTENT_LENGTH.test(value)) throw invalid('invalid content-length header');
      contentLength = Number.parseInt(value, 10);
    } else if (REFUSED.has(lower)) {
      throw invalid(`invalid ${lower} header`);
    } else if (lower === 'connection') {
      for (const token of value.toLowerCase().split(',')) {
        const t = token.trim();
        if (!TOKEN.test(t)) throw invalid('invalid connection header');
        if (t === 'close') close = true;
      }
    } else if (lower === 'expect') {
      throw codedError('UND_ERR_NOT_SUPPORTED', 'expect header not supported');
    } else {
      fields += `${name}: ${value}\r\n`;
    }
  }
  const connection = keepAlive && !close ? 'connection: keep-alive\r\n' : 'connection: close\r\n';
  return { head: `${method} ${path} HTTP/1.1\r\nhost: ${host ?? defaultHost}\r\n${connection}${fields}`, contentLength, close };
}
