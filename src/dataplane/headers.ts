/**
 * Header rewriting between client and upstream. Hop-by-hop fields (RFC 9110 §7.6.1: Connection,
 * Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade, and every field the Connection
 * header names) are connection-scoped and never forwarded. `Host` passes as the client sent it.
 */
import type { IncomingMessage } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade']);

/**
 * Request fields Switchyard sets itself (X-Forwarded-*), plus `expect`: the 100-continue exchange is
 * answered by Switchyard's own server, and forwarding it would make the upstream client wait for a
 * second one.
 */
const REPLACED_ON_REQUEST = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'expect']);

/**
 * Field names listed in a Connection header, lower-cased; undefined when it names nothing beyond the
 * hop-by-hop fields already dropped. `keep-alive` and `close` — nearly every request — cost no allocation.
 */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close') return undefined;
  const tokens = new Set<string>();
  for (const part of Array.isArray(value) ? value : [value]) {
    for (const t of part.split(',')) {
      const token = t.trim().toLowerCase();
      if (token) tokens.add(token);
    }
  }
  return tokens;
}

export interface ForwardedInfo {
  readonly proto: 'http' | 'https';
  /** The listener's port, as the client addressed it. */
  readonly port: number;
}

/**
 * Upstream request headers as a flat [name, value, …] list, from the client's raw headers: hop-by-hop
 * fields dropped, X-Forwarded-For appended with the client address, X-Forwarded-Proto/Host/Port set.
 * `targetHost` is the authority of an absolute-form request target: RFC 9112 §3.2.2 makes it replace
 * the Host header.
 */
export function upstreamRequestHeaders(req: IncomingMessage, info: ForwardedInfo, targetHost?: string): string[] {
  const raw = req.rawHeaders;
  const named = connectionTokens(req.headers.connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || REPLACED_ON_REQUEST.has(lower) || named?.has(lower)) continue;
    if (targetHost !== undefined && lower === 'host') continue;
    out.push(name, raw[i + 1]!);
  }
  if (targetHost !== undefined) out.push('host', targetHost);
  const host = targetHost ?? req.headers.host;
  const clientAddress = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  out.push('x-forwarded-for', prior ? `${prior}, ${clientAddress}` : clientAddress);
  out.push('x-forwarded-proto', info.proto);
  if (host !== undefined) out.push('x-forwarded-host', host);
  out.push('x-forwarded-port', String(info.port));
  return out;
}

/**
 * The upstream's raw response header fields (undici's [name, value, …] buffers) as a flat list for the
 * client: names with their case, repeated fields (Set-Cookie) as repeated pairs, and hop-by-hop fields
 * (and those the upstream's Connection names) dropped. Bytes pass through as latin1, the way Node writes
 * header strings back out.
 */
export function clientResponseHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  let connection: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') (connection ??= []).push(raw[i + 1]!.toString('latin1'));
      continue;
    }
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  const named = connectionTokens(connection?.length === 1 ? connection[0] : connection);
  if (named === undefined) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!named.has(out[i]!.toLowerCase())) kept.push(out[i]!, out[i + 1]!);
  return kept;
}
