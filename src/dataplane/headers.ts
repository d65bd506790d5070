/**
 * Header rewriting between client and upstream. Hop-by-hop fields (RFC 9110 §7.6.1: Connection,
 * Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade, and every field the Connection
 * header names) are connection-scoped and never forwarded. `Host` passes as the client sent it.
 *
 * Who the client is comes from the peer (the PROXY protocol's source address on a listener that reads
 * one, proxy-protocol.ts): the client's own X-Forwarded-* and Forwarded fields are believed only when
 * that peer is a trusted proxy (`--trusted-proxies`, trusted-proxies.ts), and otherwise replaced, so a
 * client cannot pose as another address, scheme or host to the pod.
 */
import { randomUUID } from 'node:crypto';
import type { EdgePolicy } from './edge-policy.ts';
import { isTrustedProxy } from './trusted-proxies.ts';

/** The Server header value of responses Switchyard makes, or passes on from a pod that sent none. */
export const SERVER_NAME = 'switchyard';

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade']);

/**
 * Names a Connection header can never make hop-by-hop. Host and Content-Length carry routing and
 * framing; Transfer-Encoding is dropped on the way up anyway (the upstream client frames the body).
 * The forwarding fields: `Connection: X-Forwarded-For` through a trusted proxy would strip that
 * proxy's record of the client, and the pod would take the proxy's own (often internal) address for
 * the client's; they are rebuilt below in any case.
 */
const NEVER_HOP_BY_HOP = new Set(['host', 'content-length', 'transfer-encoding', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded']);

/** The request fields upstreamRequestHeaders replaces, as bits (Never and For are never kept as sent). */
const Replaced = { Never: 0, For: 1, Proto: 2, Host: 4, Port: 8, Forwarded: 16 } as const;

/**
 * Request fields Switchyard sets itself (X-Forwarded-*, Forwarded, X-Request-Id: the exchange's
 * `requestId`, which is the client's own when valid), plus `expect`: the 100-continue exchange is
 * answered by Switchyard's own server, and forwarding it would make the upstream client wait for a
 * second one.
 */
const REPLACED_ON_REQUEST = new Map<string, number>([
  ['expect', Replaced.Never],
  ['x-request-id', Replaced.Never],
  ['x-forwarded-for', Replaced.For],
  ['x-forwarded-proto', Replaced.Proto],
  ['x-forwarded-host', Replaced.Host],
  ['x-forwarded-port', Replaced.Port],
  ['forwarded', Replaced.Forwarded],
]);

/**
 * Field names listed in a Connection header, lower-cased, without the names it may never strip
 * (NEVER_HOP_BY_HOP); undefined when it names nothing beyond the hop-by-hop fields already dropped.
 * `keep-alive` and `close` — nearly every request — cost no allocation.
 */
function connectionTokens(value: string | readonly string[] | undefined): ReadonlySet<string> | undefined {
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close') return undefined;
  const tokens = new Set<string>();
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const t of part.split(',')) {
      const token = t.trim().toLowerCase();
      if (token && !NEVER_HOP_BY_HOP.has(token)) tokens.add(token);
    }
  }
  return tokens;
}

/** The request fields Switchyard reads itself, found in one pass over the raw header list. */
export interface RequestFields {
  /** The first Host field. */
  readonly host: string | undefined;
  /** How many Host fields there are (more than one is refused: request-checks.ts). */
  readonly hostCount: number;
  /** Every Connection field, joined with ", " (as Node folds it). */
  readonly connection: string | undefined;
  /** Every X-Forwarded-For field, joined with ", ". */
  readonly forwardedFor: string | undefined;
  /** A Content-Length other than 0, or any Transfer-Encoding. */
  readonly hasBody: boolean;
  /** Every Transfer-Encoding field, joined with ",". */
  readonly transferEncoding: string | undefined;
  /** The first Expect field. */
  readonly expect: string | undefined;
  /** The first X-Request-Id field as sent (unchecked: requestIdFor decides whether it is kept). */
  readonly clientRequestId: string | undefined;
}

/**
 * Scans a client's [name, value, …] header list for the fields in RequestFields. Names match exactly
 * (case aside): `Transfer_Encoding` or `X_Forwarded_For` never counts as the field it resembles.
 */
export function requestFields(raw: readonly string[]): RequestFields {
  let host: string | undefined;
  let hostCount = 0;
  let connection: string | undefined;
  let forwardedFor: string | undefined;
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let expect: string | undefined;
  let clientRequestId: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Names are compared only when their length fits: most fields cost one switch.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host' && hostCount++ === 0) host = raw[i + 1];
        break;
      case 6:
        if (expect === undefined && name.toLowerCase() === 'expect') expect = raw[i + 1];
        break;
      case 10:
        if (name.toLowerCase() === 'connection') connection = join(connection, raw[i + 1]!);
        break;
      case 12:
        if (clientRequestId === undefined && name.toLowerCase() === 'x-request-id') clientRequestId = raw[i + 1];
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') contentLength = raw[i + 1];
        break;
      case 15:
        if (name.toLowerCase() === 'x-forwarded-for') forwardedFor = join(forwardedFor, raw[i + 1]!);
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') transferEncoding = transferEncoding === undefined ? raw[i + 1] : `${transferEncoding},${raw[i + 1]!}`;
        break;
    }
  }
  const hasBody = transferEncoding !== undefined || (contentLength !== undefined && contentLength !== '0');
  return { host, hostCount, connection, forwardedFor, hasBody, transferEncoding, expect, clientRequestId };
}

/** The longest client X-Request-Id kept (Envoy and nginx ids are 36 and 32 characters; W3C trace ids 32). */
export const MAX_REQUEST_ID_LENGTH = 200;
/**
 * What a kept X-Request-Id may be made of: visible ASCII (0x21–0x7E), 1 to MAX_REQUEST_ID_LENGTH of
 * them. The id is echoed to the client and written to the pod and the log, so anything else — control
 * characters, spaces, obs-text, an empty or oversized value — is replaced, never reflected.
 */
const VALID_REQUEST_ID = new RegExp(`^[!-~]{1,${MAX_REQUEST_ID_LENGTH}}$`);

/**
 * The request's id: the client's X-Request-Id when it is valid (VALID_REQUEST_ID), else a new random
 * UUID (v4). Called once per exchange, by its constructor.
 */
export function requestIdFor(sent: string | undefined): string {
  return sent !== undefined && VALID_REQUEST_ID.test(sent) ? sent : randomUUID();
}

function join(prior: string | undefined, value: string): string {
  return prior === undefined ? value : `${prior}, ${value}`;
}

/** The parts of a client request that header rewriting reads (a ClientExchange has them). */
export interface ClientRequestHead {
  /** Header fields as sent, [name, value, …]. */
  readonly rawHeaders: readonly string[];
  /** The first Host field. */
  readonly host: string | undefined;
  /** Every Connection field, joined with ", ". */
  readonly connection: string | undefined;
  /** Every X-Forwarded-For field, joined with ", ". */
  readonly forwardedFor: string | undefined;
  /** The exchange's id (requestIdFor): sent to the pod as X-Request-Id, in place of the client's fields. */
  readonly requestId: string;
  /** The client's address: the TCP peer's, or the PROXY protocol header's source (proxy-protocol.ts clientAddress). */
  readonly remoteAddress: string;
}

export interface ForwardedInfo {
  readonly proto: 'http' | 'https';
  /** The listener's port, as the client addressed it. */
  readonly port: number;
  /** The listener's header and trust rules (edge-policy.ts). */
  readonly policy: EdgePolicy;
}

/**
 * Upstream request headers as a flat [name, value, …] list, from the client's raw headers: hop-by-hop
 * fields dropped, names with `_` handled by `policy.headersWithUnderscores` (default drop: CGI-style
 * servers read `X_Forwarded_For` as X-Forwarded-For), and the forwarding fields set:
 * - from a peer outside `policy.trustedProxies` (every peer by default), the client's X-Forwarded-*
 *   and Forwarded are dropped; X-Forwarded-For is the peer address alone, Proto/Host/Port ours;
 * - from a trusted peer, X-Forwarded-For gets the peer appended, X-Forwarded-Proto/Host/Port are kept
 *   when present (else set), and a Forwarded chain it sent (RFC 7239) gets this hop's element appended.
 *   No Forwarded field is started where none came: X-Forwarded-* is what pods read, as with nginx.
 * `targetHost` is the authority of an absolute-form request target: RFC 9112 §3.2.2 makes it replace
 * the Host header. Undefined: a field the policy refuses (the request gets 400).
 */
export function upstreamRequestHeaders(req: ClientRequestHead, info: ForwardedInfo, targetHost?: string): string[] | undefined {
  const policy = info.policy;
  const underscores = policy.headersWithUnderscores;
  const clientAddress = req.remoteAddress;
  const trusted = isTrustedProxy(policy, clientAddress);
  const raw = req.rawHeaders;
  const named = connectionTokens(req.connection);
  const out: string[] = [];
  let kept = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (underscores !== 'allow' && name.includes('_')) {
      if (underscores === 'reject') return undefined;
      continue;
    }
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    const replaced = REPLACED_ON_REQUEST.get(lower);
    if (replaced !== undefined) {
      if (!trusted || replaced <= Replaced.For) continue;
      kept |= replaced;
    }
    if (targetHost !== undefined && lower === 'host') continue;
    out.push(name, raw[i + 1]!);
  }
  if (targetHost !== undefined) out.push('host', targetHost);
  const host = targetHost ?? req.host;
  const prior = trusted ? req.forwardedFor : undefined;
  out.push('x-request-id', req.requestId);
  out.push('x-forwarded-for', prior ? `${prior}, ${clientAddress}` : clientAddress);
  if ((kept & Replaced.Proto) === 0) out.push('x-forwarded-proto', info.proto);
  if ((kept & Replaced.Host) === 0 && host !== undefined) out.push('x-forwarded-host', host);
  if ((kept & Replaced.Port) === 0) out.push('x-forwarded-port', String(info.port));
  if ((kept & Replaced.Forwarded) !== 0) out.push('forwarded', forwardedElement(clientAddress, info.proto, host));
  return out;
}

/** RFC 9110 tchar: a Forwarded value made only of these needs no quotes. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What a quoted-string escapes with a backslash. */
const QUOTED_SPECIALS = /["\\]/g;

/**
 * This hop's Forwarded element (RFC 7239 §4): `for=` the peer (an IPv6 address bracketed and quoted,
 * §6; `unknown` when the socket no longer knows it), `proto=`, and `host=` quoted unless it is a token
 * (a port's colon is not).
 */
export function forwardedElement(address: string, proto: string, host: string | undefined): string {
  const node = address === '' ? 'unknown' : address.includes(':') ? `"[${address}]"` : address;
  const element = `for=${node};proto=${proto}`;
  if (host === undefined) return element;
  return `${element};host=${TOKEN.test(host) ? host : `"${host.replace(QUOTED_SPECIALS, '\\$&')}"`}`;
}

/**
 * The upstream's raw response header fields (undici's [name, value, …] buffers) as a flat list for the
 * client: names with their case, repeated fields (Set-Cookie) as repeated pairs, and hop-by-hop fields
 * (and those the upstream's Connection names) dropped, and `server: switchyard` added when the pod sent
 * no Server field, and `x-request-id: requestId` when the pod sent no X-Request-Id (a pod that sets its
 * own keeps it: it may log under that id). Bytes pass through as latin1, the way Node writes header
 * strings back out.
 */
export function clientResponseHeaders(raw: readonly Buffer[], requestId: string): string[] {
  return endToEndFields(raw, requestId);
}

/** The upstream's raw trailer fields for the client: as clientResponseHeaders, without a Server field. */
export function clientTrailerFields(raw: readonly Buffer[]): string[] {
  return endToEndFields(raw, undefined);
}

/** `requestId`: a response head (a Server and an X-Request-Id field are added when missing); undefined: trailers. */
function endToEndFields(raw: readonly Buffer[], requestId: string | undefined): string[] {
  const out: string[] = [];
  let connection: string[] | undefined;
  let server = false;
  let hasRequestId = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') (connection ??= []).push(raw[i + 1]!.toString('latin1'));
      continue;
    }
    if (lower.length === 6 && lower === 'server') server = true;
    else if (lower.length === 12 && lower === 'x-request-id') hasRequestId = true;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  // The pod's own Server header when it sent one, else ours (the ingress-controller conformance suite checks for one).
  if (requestId !== undefined) {
    if (!server) out.push('server', SERVER_NAME);
    if (!hasRequestId) out.push('x-request-id', requestId);
  }
  const named = connectionTokens(connection?.length === 1 ? connection[0] : connection);
  if (named === undefined) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!named.has(out[i]!.toLowerCase())) kept.push(out[i]!, out[i + 1]!);
  // An X-Request-Id the pod's Connection names went with it: the client still gets the exchange's.
  if (requestId !== undefined && named.has('x-request-id')) kept.push('x-request-id', requestId);
  return kept;
}
