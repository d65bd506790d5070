/**
 * The access log's lines, as pure functions of an ended exchange: JSON (one object a line, fixed field
 * order) or nginx's `combined`. Everything a client sent (method, host, path, User-Agent, Referer, the
 * request id it chose) is escaped: JSON.stringify for JSON, nginx's `\xHH` for combined, so no client
 * can forge a line or a field.
 *
 * Cost, per request: one string built by concatenation, a scan of the client's header names for the
 * User-Agent, and a date string rebuilt once per millisecond (JSON) or second (combined), not per line.
 *
 * JSON fields, in this order (stable; new fields are only ever appended):
 * - `time`: end of the exchange, ISO 8601 UTC with milliseconds
 * - `listener`: `ingress`, `ingress-tls` or `service`
 * - `clientAddress`, `clientPort`: the TCP peer (or the source a PROXY protocol header gave)
 * - `method`, `scheme` (`http`|`https`), `host` (Host or `:authority`; "" when absent), `path` (target as sent, query included)
 * - `protocol`: `http/1.1` or `h2`
 * - `status`: the status sent to the client; 0 when nothing was sent
 * - `finished`: false when the response was cut or abandoned before its end
 * - `bytesReceived`, `bytesSent`: request and response body bytes
 * - `durationMs`: from the request head to the end, ms with 3 decimals
 * - `upstream`: `address:port` of the last attempt's pod ("" when none was picked)
 * - `upstreamStatus`: the pod's status (0: no answer); `upstreamMs`: to the pod's response head (null: none)
 * - `retries`: attempts after the first
 * - `namespace`, `ingress`, `service`: the route taken ("" when nothing matched; `ingress` "" on the service listener)
 * - `error`: the `x-switchyard-error` reason when Switchyard answered or cut the request itself, else ""
 * - `requestId`: the X-Request-Id the pod and client saw
 * - `userAgent`: the first User-Agent field ("" when absent)
 *
 * Client strings are logged as the HTTP parsers deliver them, one Latin-1 character per byte: a byte
 * ≥ 0x80 shows as that character (lossless: encode the value as Latin-1 to get the bytes back).
 */
import type { HttpExchange } from '../dataplane/exchange.ts';
import type { RouteLabels } from '../dataplane/exchange-trace.ts';

/** Formats one line (with its trailing newline). `durationMs`: the exchange's; `wallMs`: `Date.now()` at its end. */
export type AccessLineFormatter = (listener: string, exchange: HttpExchange, finished: boolean, durationMs: number, wallMs: number) => string;

/** The formatter of `--access-log-format`. */
export function accessLineFormatter(format: 'json' | 'combined'): AccessLineFormatter {
  return format === 'json' ? formatJsonLine : formatCombinedLine;
}

/** Any char JSON must escape, and every non-ASCII one (left to JSON.stringify too, so lone surrogates are escaped). */
const NEEDS_JSON_ESCAPE = /[\u0000-\u001f"\\\u007f-\uffff]/;

/** A JSON string literal: most values need no escaping, and quoting them is 2–3× cheaper than JSON.stringify. */
function q(s: string): string {
  return NEEDS_JSON_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** One JSON object and '\n'. */
export function formatJsonLine(listener: string, exchange: HttpExchange, finished: boolean, durationMs: number, wallMs: number): string {
  const t = exchange.trace;
  return (
    `{"time":"${isoTime(wallMs)}","listener":${q(listener)},"clientAddress":${q(exchange.remoteAddress)},"clientPort":${t.remotePort}` +
    `,"method":${q(exchange.method)},"scheme":"${exchange.scheme}","host":${q(exchange.host ?? '')},"path":${q(exchange.url)}` +
    `,"protocol":"${exchange.protocol}","status":${exchange.headersSent ? exchange.statusCode : 0},"finished":${finished}` +
    `,"bytesReceived":${t.bytesIn},"bytesSent":${t.bytesOut},"durationMs":${ms3(durationMs)}` +
    `,"upstream":${q(t.upstream)},"upstreamStatus":${t.upstreamStatus},"upstreamMs":${t.upstreamMs < 0 ? 'null' : ms3(t.upstreamMs)},"retries":${t.retries}` +
    `${routeFields(t.route)},"error":${q(t.error)}` +
    `,"requestId":${q(exchange.requestId)},"userAgent":${q(headerValue(exchange.rawHeaders, 'user-agent') ?? '')}}\n`
  );
}

/**
 * nginx's `combined`: `$remote_addr - - [$time_local] "$request" $status $body_bytes_sent "$http_referer"
 * "$http_user_agent"`, with nginx's conventions: a missing value is `-`, `$time_local` in the process's
 * time zone, HTTP/2 requests as `HTTP/2.0`, and `"`, `\`, control and non-ASCII bytes as `\xHH`.
 */
export function formatCombinedLine(_listener: string, exchange: HttpExchange, _finished: boolean, _durationMs: number, wallMs: number): string {
  const referer = headerValue(exchange.rawHeaders, 'referer');
  const agent = headerValue(exchange.rawHeaders, 'user-agent');
  return (
    `${escapeNginx(exchange.remoteAddress)} - - [${localTime(wallMs)}] "${escapeNginx(exchange.method)} ${escapeNginx(exchange.url)} ${exchange.protocol === 'h2' ? 'HTTP/2.0' : 'HTTP/1.1'}" ` +
    `${exchange.headersSent ? exchange.statusCode : 0} ${exchange.trace.bytesOut} "${referer ? escapeNginx(referer) : '-'}" "${agent ? escapeNginx(agent) : '-'}"\n`
  );
}

/** Formats the line of a request refused before it became an exchange (with its trailing newline). */
export type RefusedLineFormatter = (listener: string, address: string, port: number, status: number, reason: string, wallMs: number) => string;

/** The refused-request formatter of `--access-log-format`. */
export function refusedLineFormatter(format: 'json' | 'combined'): RefusedLineFormatter {
  return format === 'json' ? formatRefusedJsonLine : formatRefusedCombinedLine;
}

/**
 * The JSON line of a request refused before routing (malformed or oversized head, smuggling-shaped framing,
 * a slow client): the same fields in the same order, with what the refusal leaves unknown empty (method,
 * host, path, user agent, request id), no route and no upstream; `error` says why.
 */
export function formatRefusedJsonLine(listener: string, address: string, port: number, status: number, reason: string, wallMs: number): string {
  return (
    `{"time":"${isoTime(wallMs)}","listener":${q(listener)},"clientAddress":${q(address)},"clientPort":${port}` +
    `,"method":"","scheme":"","host":"","path":"","protocol":"http/1.1","status":${status},"finished":true` +
    `,"bytesReceived":0,"bytesSent":0,"durationMs":0,"upstream":"","upstreamStatus":0,"upstreamMs":null,"retries":0` +
    `,"namespace":"","ingress":"","service":"","error":${q(reason)},"requestId":"","userAgent":""}\n`
  );
}

/** nginx's `combined` for a refused request: the request line unknown (`"-"`), as nginx logs a 400 it could not parse. */
export function formatRefusedCombinedLine(_listener: string, address: string, _port: number, status: number, _reason: string, wallMs: number): string {
  return `${escapeNginx(address)} - - [${localTime(wallMs)}] "-" ${status} 0 "-" "-"\n`;
}

/** The route labels' fields, built once per route (a RouteLabels object lives as long as its route). */
const ROUTE_FIELDS = new WeakMap<RouteLabels, string>();

function routeFields(route: RouteLabels): string {
  let fields = ROUTE_FIELDS.get(route);
  if (fields === undefined) ROUTE_FIELDS.set(route, (fields = `,"namespace":${q(route.namespace)},"ingress":${q(route.ingress)},"service":${q(route.service)}`));
  return fields;
}

/** `ms` with exactly 3 decimals, by integer arithmetic: ~10× cheaper than formatting a fractional double. */
function ms3(ms: number): string {
  const us = Math.round(ms * 1000);
  const frac = us % 1000;
  return `${(us - frac) / 1000}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}

/** The first field named `lowerName` (case-insensitively) in a [name, value, …] list; read only when a line is written. */
export function headerValue(raw: readonly string[], lowerName: string): string | undefined {
  const n = lowerName.length;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === n && (name === lowerName || name.toLowerCase() === lowerName)) return raw[i + 1];
  }
  return undefined;
}

const HEX = '0123456789ABCDEF';

/**
 * nginx's default log escaping (ngx_http_log_escape): `"`, `\`, bytes below 0x20 and from 0x7F up become
 * `\xHH`. HTTP/1.1 fields arrive as Latin-1 (one char per byte), so a char up to 0xFF is the byte the
 * client sent; a wider char (a string decoded as UTF-8) is escaped byte by byte of its UTF-8 form.
 */
export function escapeNginx(s: string): string {
  let i = 0;
  for (; i < s.length; i++) if (needsEscape(s.charCodeAt(i))) break;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!needsEscape(c)) out += s[i];
    else if (c <= 0xff) out += hexByte(c);
    else {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += hexByte(b);
    }
  }
  return out;
}

function needsEscape(c: number): boolean {
  return c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c;
}

function hexByte(b: number): string {
  return `\\x${HEX[b >> 4]}${HEX[b & 15]}`;
}

let isoMs = -1;
let isoText = '';

/** `Date#toISOString()`, rebuilt only when the millisecond changed (many lines share one under load). */
export function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let localSecond = -1;
let localText = '';

/** nginx's `$time_local`, `04/Dec/2026:22:37:07 +0000`, rebuilt once per second. */
export function localTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== localSecond) {
    localSecond = second;
    const d = new Date(second * 1000);
    const offset = -d.getTimezoneOffset();
    const abs = Math.abs(offset);
    localText =
      `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ` +
      `${offset < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
  }
  return localText;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
