/**
 * What `switchyard explain` and `GET /api/v1/explain` are asked about: a URL, a method and headers,
 * checked and read the way the edge listener reads a request (parseTarget, normalizeHost), so the host
 * and path explained are the ones the router would see. Bad input is an error naming it, with a code.
 *
 * The URL is read as curl sends it: the path and query become the request target and the authority the
 * Host header, unless a Host header is given (`curl -H 'Host: demo.localhost' http://127.0.0.1:8080/`).
 */
import { normalizeHost } from '../dataplane/match.ts';
import { ABSOLUTE_FORM, parseTarget, PATH_REJECTED } from '../dataplane/path.ts';
import type { PathPolicy } from '../dataplane/path-normalize.ts';
import { ErrorCode } from '../errors.ts';

/** What was asked, as given. */
export interface ExplainInput {
  readonly url: string;
  /** Default GET. */
  readonly method?: string;
  /** Each `Name: value`. */
  readonly headers?: readonly string[];
}

/** The request as the router sees it. */
export interface ExplainRequest {
  readonly url: string;
  /** Upper-cased. */
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /** As matched: lower-cased, without port or trailing dot; '' when the request names none. */
  readonly host: string;
  readonly hostFrom: 'url' | 'host-header' | 'none';
  /** The port the URL (else the Host header) names; undefined: none named. A Gateway listener port selects that port's routes. */
  readonly port?: number;
  /** As matched (normalized); the URL's own path when the path rules refuse it. */
  readonly path: string;
  /** True when the path rules refuse the path: the listener answers 400 without routing. */
  readonly pathRejected: boolean;
  readonly headers: readonly (readonly [string, string])[];
}

export interface ExplainInputError {
  readonly code: ErrorCode;
  /** Which input is bad: `url`, `method` or `header`. */
  readonly input: 'url' | 'method' | 'header';
  readonly value: string;
  readonly message: string;
}

export type ParsedExplainInput = { readonly ok: true; readonly request: ExplainRequest } | { readonly ok: false; readonly error: ExplainInputError };

// Not imported: an ESM import of node:http loads Node's bundled undici in every process (see architecture test).
const KNOWN_METHODS = new Set(process.getBuiltinModule('node:http').METHODS);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Space, controls and DEL cannot appear in a request target: curl would have to encode them.
const BAD_URL_CHAR = /[\x00-\x20\x7f]/;
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Checks and reads `input` under the path rules `policy` (the flags' --merge-slashes, --escaped-slashes). */
export function parseExplainInput(input: ExplainInput, policy: PathPolicy): ParsedExplainInput {
  const method = (input.method ?? 'GET').toUpperCase();
  if (!KNOWN_METHODS.has(method)) {
    return fail(ErrorCode.EXPLAIN_BAD_METHOD, 'method', input.method ?? '', `method ${JSON.stringify(input.method)} is not one the HTTP parser accepts (GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, …)`);
  }
  const headers: (readonly [string, string])[] = [];
  let hostHeader: string | undefined;
  for (const raw of input.headers ?? []) {
    const colon = raw.indexOf(':');
    if (colon < 0) return fail(ErrorCode.EXPLAIN_BAD_HEADER, 'header', raw, `header ${JSON.stringify(raw)} has no colon: write it as 'Name: value'`);
    const name = raw.slice(0, colon).trim();
    const value = raw.slice(colon + 1).trim();
    if (!TOKEN.test(name)) return fail(ErrorCode.EXPLAIN_BAD_HEADER, 'header', raw, `header ${JSON.stringify(raw)}: ${JSON.stringify(name)} is not a header name`);
    if (BAD_VALUE_CHAR.test(value)) return fail(ErrorCode.EXPLAIN_BAD_HEADER, 'header', raw, `header ${JSON.stringify(raw)}: the value holds a control character`);
    if (name.toLowerCase() === 'host') {
      // The listener refuses a second Host field with 400 before any routing.
      if (hostHeader !== undefined) return fail(ErrorCode.EXPLAIN_BAD_HEADER, 'header', raw, 'a request has one Host header; two were given');
      if (value !== '' && !validAuthority(value)) return fail(ErrorCode.EXPLAIN_BAD_HEADER, 'header', raw, `header ${JSON.stringify(raw)}: ${JSON.stringify(value)} is not a host[:port]`);
      hostHeader = value;
    }
    headers.push([name, value]);
  }

  const url = input.url;
  const usage = 'expected http://HOST[:PORT]/PATH, https://HOST[:PORT]/PATH or /PATH';
  if (url === '') return fail(ErrorCode.EXPLAIN_BAD_URL, 'url', url, `the URL is empty: ${usage}`);
  if (BAD_URL_CHAR.test(url)) return fail(ErrorCode.EXPLAIN_BAD_URL, 'url', url, `URL ${JSON.stringify(url)} does not parse: it holds a space or control character (percent-encode it)`);
  const target = parseTarget(url, policy);
  if (target === undefined) return fail(ErrorCode.EXPLAIN_BAD_URL, 'url', url, `URL ${JSON.stringify(url)} does not parse: ${usage}`);
  const absolute = url.charCodeAt(0) !== 47; /* '/' */
  const authority = absolute ? ABSOLUTE_FORM.exec(url)![1]! : undefined;
  if (authority !== undefined && !validAuthority(authority)) {
    return fail(ErrorCode.EXPLAIN_BAD_URL, 'url', url, `URL ${JSON.stringify(url)} does not parse: ${JSON.stringify(authority)} is not a host[:port]`);
  }
  const scheme = absolute && url.slice(0, 5).toLowerCase() === 'https' ? 'https' : 'http';
  const rawHost = hostHeader ?? authority;
  const hostFrom = hostHeader !== undefined ? 'host-header' : authority !== undefined ? 'url' : 'none';
  const path = target === PATH_REJECTED ? pathOf(url) : target.path;
  const port = /:(\d+)$/.exec(authority ?? hostHeader ?? '')?.[1];
  return {
    ok: true,
    request: { url, method, scheme, host: normalizeHost(rawHost), hostFrom, ...(port !== undefined ? { port: Number(port) } : {}), path, pathRejected: target === PATH_REJECTED, headers },
  };
}

/** host[:port] as a client may send it: a DNS name or IPv4, or an IPv6 literal in brackets; no user info. */
function validAuthority(authority: string): boolean {
  if (authority === '' || authority.includes('@')) return false;
  return URL.canParse(`http://${authority}/`);
}

function pathOf(url: string): string {
  const rest = url.charCodeAt(0) === 47 ? url : url.replace(ABSOLUTE_FORM, '') || '/';
  const end = rest.search(/[?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

function fail(code: ErrorCode, input: ExplainInputError['input'], value: string, message: string): ParsedExplainInput {
  return { ok: false, error: { code, input, value, message } };
}
