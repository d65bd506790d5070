/**
 * Header translation between an HTTP/2 client and the rest of the data plane (RFC 9113 §8.2–8.3).
 * Pure: no I/O, no node:http2.
 *
 * Requests: the pseudo-header fields become method, target and Host (`:authority`, RFC 9113 §8.3.1);
 * the other fields pass in order, with repeated `cookie` fields joined by "; " (§8.2.3) so an
 * HTTP/1.1 upstream gets the one Cookie line it expects. nghttp2 already refuses requests with
 * connection-specific fields, upper-case names or misplaced pseudo-headers (stream error), so what
 * arrives here is well-formed HTTP/2.
 *
 * Responses: a flat [name, value, …] list from the proxy becomes the list node:http2's `respond()`
 * takes (`:status` first, names lower-cased, repeated fields kept as repeated pairs), without the
 * connection-specific fields HTTP/2 forbids (§8.2.2).
 */
import { isValidHost } from '../request-checks.ts';
import { isGrpcContentType } from '../grpc.ts';

/** A client request as the data plane sees it, from the HEADERS of one stream. */
export interface H2Request {
  readonly method: string;
  /** `:path` as sent. */
  readonly url: string;
  /** `:authority`, else the `host` field. */
  readonly host: string;
  /** Non-pseudo fields, [name, value, …]: `host` first (from `:authority`), cookies joined. */
  readonly rawHeaders: string[];
  /** Every x-forwarded-for field, joined with ", ". */
  readonly forwardedFor: string | undefined;
  /** The first x-request-id field as sent (unchecked: headers.ts requestIdFor decides whether it is kept). */
  readonly clientRequestId: string | undefined;
  readonly grpc: boolean;
  /** The client sent `te: trailers` (gRPC clients always do): it reads trailers. */
  readonly teTrailers: boolean;
}

/** Why a request is answered without being served. */
export type H2Refusal = 'HEADERS_TOO_LARGE' | 'MISSING_HOST' | 'INVALID_HOST' | 'HOST_MISMATCH' | 'CONNECT_NOT_ALLOWED';

/** Bytes HPACK charges per field beside its name and value when sizing a header list (RFC 7541 §4.1). */
export const HPACK_FIELD_OVERHEAD = 32;

/** Connection-specific fields (RFC 9113 §8.2.2): never sent in an HTTP/2 message. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings']);

/**
 * Translates the raw header list of a request stream (node:http2's `rawHeaders`: names lower-case,
 * pseudo-headers first), or says why the request is refused: a header list larger than
 * `maxHeaderListSize` (sized as HPACK does), no authority at all (HTTP/1.1 answers that 400 too), a
 * Host that is not `uri-host[:port]`, a Host that names another authority than `:authority` (§8.3.1: malformed; routing and the upstream's
 * Host must not disagree), or CONNECT (never a tunnel, as over HTTP/1.1).
 *
 * nghttp2 enforces SETTINGS_MAX_HEADER_LIST_SIZE only once the client has acknowledged the SETTINGS
 * (RFC 9113 §6.5.3), and real clients send their first requests before that; the size is checked here
 * too so the limit holds from the first request.
 */
export function translateRequest(raw: readonly string[], maxHeaderListSize: number): H2Request | H2Refusal {
  let size = 0;
  let method = '';
  let url: string | undefined;
  let authority: string | undefined;
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let clientRequestId: string | undefined;
  let contentType: string | undefined;
  let teTrailers = false;
  let cookie = -1;
  // Host first, as an HTTP/1.1 client writes it; its value is known once :authority and host are read.
  const out: string[] = ['host', ''];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    size += name.length + value.length + HPACK_FIELD_OVERHEAD;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':method') method = value;
      else if (name === ':path') url = value;
      else if (name === ':authority') authority = value;
      continue;
    }
    switch (name) {
      case 'host':
        if (host === undefined) host = value;
        continue;
      case 'cookie':
        if (cookie >= 0) {
          out[cookie] = `${out[cookie]}; ${value}`;
          continue;
        }
        cookie = out.length + 1;
        break;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        break;
      case 'x-request-id':
        clientRequestId ??= value;
        break;
      case 'content-type':
        contentType ??= value;
        break;
      case 'te':
        // The only TE allowed in HTTP/2; kept for an HTTP/2 upstream (gRPC needs it), dropped towards HTTP/1.1 with the other hop-by-hop fields.
        if (value.trim().toLowerCase() === 'trailers') teTrailers = true;
        else continue;
        break;
      default:
        if (CONNECTION_SPECIFIC.has(name)) continue;
    }
    out.push(name, value);
  }
  if (size > maxHeaderListSize) return 'HEADERS_TOO_LARGE';
  if (method === 'CONNECT') return 'CONNECT_NOT_ALLOWED';
  if (authority !== undefined && authority !== '') {
    if (host !== undefined && host.toLowerCase() !== authority.toLowerCase()) return 'HOST_MISMATCH';
    host = authority;
  }
  if (host === undefined || host === '') return 'MISSING_HOST';
  // The same rule as HTTP/1.1's Host (request-checks.ts): uri-host [":" port], no userinfo, no spaces.
  if (!isValidHost(host)) return 'INVALID_HOST';
  out[1] = host;
  return { method, url: url ?? '', host, rawHeaders: out, forwardedFor, clientRequestId, grpc: isGrpcContentType(contentType), teTrailers };
}

/** A response head for node:http2's `respond()`, and whether trailers may follow. */
export interface H2ResponseHead {
  /** `:status`, then the fields: [name, value, …]. */
  readonly list: string[];
  /** The response announces trailers (a Trailer field) or is a gRPC response (trailers carry its status). */
  readonly trailers: boolean;
}

/**
 * The response head for the client: `:status`, then the proxy's fields lower-cased, without
 * connection-specific ones (node:http2 throws on them) and without pseudo-headers an upstream cannot
 * send.
 */
export function responseHead(status: number, headers: readonly string[]): H2ResponseHead {
  const list: string[] = [':status', String(status)];
  let trailers = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    const value = headers[i + 1]!;
    if (CONNECTION_SPECIFIC.has(name) || name.charCodeAt(0) === 58 || name === '') continue;
    // RFC 9110 §8.6: never in a 204; nghttp2 clients reset a 204 that carries a non-zero one.
    if (status === 204 && name === 'content-length') continue;
    if (name === 'trailer' || (name === 'content-type' && isGrpcContentType(value))) trailers = true;
    list.push(name, value);
  }
  return { list, trailers };
}

/** Trailer fields as node:http2's `sendTrailers()` takes them: lower-cased names, repeated ones as arrays. */
export function trailerFields(trailers: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < trailers.length; i += 2) {
    const name = trailers[i]!.toLowerCase();
    if (CONNECTION_SPECIFIC.has(name) || name.charCodeAt(0) === 58 || name === '') continue;
    const value = trailers[i + 1]!;
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (typeof prior === 'string') out[name] = [prior, value];
    else prior.push(value);
  }
  return out;
}

/**
 * The HTTP/1.1 refusal (status.ts, clientFailureResponse) each HTTP/2 refusal is answered with: the same
 * status, reason and body over both protocols. A conflicting Host is a plain 400 bad-request.
 */
export const REFUSALS: Readonly<Record<H2Refusal, string>> = {
  HEADERS_TOO_LARGE: 'HPE_HEADER_OVERFLOW',
  MISSING_HOST: 'MISSING_HOST',
  INVALID_HOST: 'INVALID_HOST',
  HOST_MISMATCH: 'HOST_MISMATCH',
  CONNECT_NOT_ALLOWED: 'CONNECT_NOT_ALLOWED',
};
