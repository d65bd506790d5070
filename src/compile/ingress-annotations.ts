/**
 * The Ingress annotations users migrate with from ingress-nginx, compiled into the same RouteFilters an
 * HTTPRoute's filters become (gateway-filters.ts compileFilters does the compiling): each annotation is
 * read as the Gateway API filter it equals, so one data plane applies both.
 * - `rewrite-target` → URLRewrite: ReplacePrefixMatch on Prefix paths, ReplaceFullPath on Exact ones.
 *   Ingress paths are not regular expressions here, so there are no capture groups (`$1`): the matched
 *   prefix is replaced and the rest of the path kept (ingress-nginx's `/app(/|$)(.*)` with `/$2`).
 * - `request-headers`, `response-headers` → RequestHeaderModifier, ResponseHeaderModifier (HEADER_LINES).
 * - `permanent-redirect` (+ `permanent-redirect-code`) → RequestRedirect to that URL's scheme, host,
 *   port and path (ReplaceFullPath; the request's query is kept, as RequestRedirect keeps it).
 * - `canary` + `canary-weight` (+ `canary-weight-total`) + `canary-by-header` (+ `canary-by-header-value`):
 *   read here; ingress-canary.ts joins a canary Ingress's backend to the main Ingress's route.
 * Pure. A bad value is an ANNOTATION_INVALID warning naming the Ingress and annotation; that annotation
 * is ignored and the rest of the Ingress routes.
 */
import type { HttpRouteFilterRec } from '../model/gateway-records.ts';
import type { IngressRec } from '../model/records.ts';
import type { Diagnostic, RouteFilters } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';
import { compileFilters } from './gateway-filters.ts';
import { ANNOTATION_PREFIX, AnnotationReader } from './policy.ts';

/** The route annotations of an Ingress (beside routes.ts INGRESS_ANNOTATIONS, the redirect flags). */
export const ROUTE_ANNOTATIONS: ReadonlySet<string> = new Set([
  'rewrite-target',
  'request-headers',
  'response-headers',
  'permanent-redirect',
  'permanent-redirect-code',
  'canary',
  'canary-weight',
  'canary-weight-total',
  'canary-by-header',
  'canary-by-header-value',
]);

/** Of ROUTE_ANNOTATIONS, those a canary Ingress reads; it takes the others from its main Ingress. */
const CANARY_ANNOTATIONS: ReadonlySet<string> = new Set(['canary', 'canary-weight', 'canary-weight-total', 'canary-by-header', 'canary-by-header-value']);

/** What a canary Ingress asks for (ingress-nginx's canary annotations). */
export interface CanarySpec {
  /** `canary-weight`, 0 to `total`; default 0 (only the header sends requests to it). */
  readonly weight: number;
  /** `canary-weight-total`; default 100. */
  readonly total: number;
  /** `canary-by-header`, lower-cased; undefined: none. */
  readonly header: string | undefined;
  /** `canary-by-header-value`; undefined: the header's `always` and `never` decide. */
  readonly headerValue: string | undefined;
}

/** The filters of an Ingress's routes, by path type (a prefix rewrite of an Exact path replaces it whole). */
export interface IngressFilters {
  readonly prefix: RouteFilters | undefined;
  readonly exact: RouteFilters | undefined;
}

const NO_FILTERS: IngressFilters = { prefix: undefined, exact: undefined };

/** RFC 9110 token: a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Control characters other than tab end a header value (and could split it). */
const CONTROL = /[\0-\x08\x0a-\x1f\x7f]/;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
/** Framing and hop-by-hop fields are the proxy's: an edit of them could desynchronise the message. */
const RESERVED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** Whether `switchyard.dev/canary` is "true" (any case); a value neither true nor false is reported. */
export function isCanary(ing: IngressRec, diagnostics: Diagnostic[]): boolean {
  const v = ing.meta.annotations[`${ANNOTATION_PREFIX}canary`]?.trim().toLowerCase();
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  new AnnotationReader(ing, diagnostics).bad('canary', v, '"true" or "false"', 'false');
  return false;
}

/** The canary annotations of a canary Ingress; the route annotations it does not read are reported. */
export function canarySpec(ing: IngressRec, diagnostics: Diagnostic[]): CanarySpec {
  const a = new AnnotationReader(ing, diagnostics);
  for (const name of ROUTE_ANNOTATIONS) {
    if (!CANARY_ANNOTATIONS.has(name) && a.string(name) !== undefined) {
      diagnostics.push(diag('info', 'ANNOTATION_IGNORED', ing, `${ANNOTATION_PREFIX}${name} has no effect on a canary Ingress: its requests get the main Ingress's`));
    }
  }
  const total = a.integer('canary-weight-total', 100, 1, 1_000_000);
  const weight = a.integer('canary-weight', 0, 0, total);
  let header = a.string('canary-by-header');
  if (header !== undefined && !TOKEN.test(header)) {
    a.bad('canary-by-header', header, 'a header name');
    header = undefined;
  }
  let headerValue = a.string('canary-by-header-value');
  if (headerValue !== undefined && (headerValue === '' || CONTROL.test(headerValue))) {
    a.bad('canary-by-header-value', headerValue, 'a header value');
    headerValue = undefined;
  }
  if (headerValue !== undefined && header === undefined) {
    diagnostics.push(diag('warning', 'ANNOTATION_IGNORED', ing, `${ANNOTATION_PREFIX}canary-by-header-value needs ${ANNOTATION_PREFIX}canary-by-header; ignored`));
    headerValue = undefined;
  }
  return { weight, total, header: header?.toLowerCase(), headerValue };
}

/** The filters the route annotations of a main (not canary) Ingress ask for. */
export function ingressFilters(ing: IngressRec, diagnostics: Diagnostic[]): IngressFilters {
  // Most Ingresses have none of ours: nothing to read, nothing allocated.
  if (!Object.keys(ing.meta.annotations).some((k) => k.startsWith(ANNOTATION_PREFIX))) return NO_FILTERS;
  const a = new AnnotationReader(ing, diagnostics);
  for (const name of CANARY_ANNOTATIONS) {
    if (name !== 'canary' && a.string(name) !== undefined) {
      diagnostics.push(diag('info', 'ANNOTATION_IGNORED', ing, `${ANNOTATION_PREFIX}${name} has no effect without ${ANNOTATION_PREFIX}canary: "true"`));
    }
  }
  const redirect = redirectFilter(a);
  const rewrite = rewriteValue(a);
  const request = headerFilter(a, 'request-headers', 'RequestHeaderModifier');
  const response = headerFilter(a, 'response-headers', 'ResponseHeaderModifier');
  if (redirect !== undefined) {
    // A redirect answers by itself: nothing is forwarded to rewrite or edit.
    for (const [name, used] of [['rewrite-target', rewrite], ['request-headers', request], ['response-headers', response]] as const) {
      if (used !== undefined) diagnostics.push(diag('info', 'ANNOTATION_IGNORED', ing, `${ANNOTATION_PREFIX}${name} has no effect beside ${ANNOTATION_PREFIX}permanent-redirect`));
    }
    const filters = compileFilters([redirect]);
    return { prefix: filters, exact: filters };
  }
  const edits = [request, response].filter((f) => f !== undefined);
  if (rewrite === undefined && edits.length === 0) return NO_FILTERS;
  const withRewrite = (type: 'ReplacePrefixMatch' | 'ReplaceFullPath'): RouteFilters | undefined =>
    compileFilters(rewrite === undefined ? edits : [...edits, { type: 'URLRewrite', hostname: undefined, path: { type, value: rewrite } }]);
  return { prefix: withRewrite('ReplacePrefixMatch'), exact: withRewrite('ReplaceFullPath') };
}

function rewriteValue(a: AnnotationReader): string | undefined {
  const v = a.string('rewrite-target');
  if (v === undefined) return undefined;
  if (/\$\d/.test(v)) {
    a.bad('rewrite-target', v, 'a path without capture groups (Switchyard Ingress paths are not regular expressions: the matched prefix is replaced and the rest of the path kept, so "/$2" after "/app(/|$)(.*)" is written "/")');
    return undefined;
  }
  if (!v.startsWith('/') || /[\s?#]/.test(v) || CONTROL.test(v)) {
    a.bad('rewrite-target', v, 'an absolute path starting with "/" (no query, fragment or spaces)');
    return undefined;
  }
  return v;
}

/**
 * HEADER_LINES: one header per line, `Name: value` sets it (replacing what was there), `add Name: value`
 * appends it (keeping what was there), `remove Name` removes it; blank lines and `#` comments are
 * skipped. Any bad line and the whole annotation is ignored (a half-applied set of headers surprises).
 */
function headerFilter(a: AnnotationReader, name: string, type: 'RequestHeaderModifier' | 'ResponseHeaderModifier'): HttpRouteFilterRec | undefined {
  const v = a.string(name);
  if (v === undefined) return undefined;
  const set: { name: string; value: string }[] = [];
  const add: { name: string; value: string }[] = [];
  const remove: string[] = [];
  for (const raw of v.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const removed = /^remove\s+(\S+)$/.exec(line);
    if (removed !== null && TOKEN.test(removed[1]!) && !RESERVED_HEADERS.has(removed[1]!.toLowerCase())) {
      remove.push(removed[1]!);
      continue;
    }
    const m = /^(?:(add)\s+)?([^\s:]+)\s*:(.*)$/.exec(line);
    if (m === null || !TOKEN.test(m[2]!) || CONTROL.test(m[3]!) || RESERVED_HEADERS.has(m[2]!.toLowerCase()) || removed !== null) {
      a.bad(name, v, `lines of "Name: value", "add Name: value" or "remove Name", framing and hop-by-hop headers excepted (line ${JSON.stringify(line)})`);
      return undefined;
    }
    (m[1] === 'add' ? add : set).push({ name: m[2]!, value: m[3]!.trim() });
  }
  if (set.length + add.length + remove.length === 0) return undefined;
  return { type, headers: { set, add, remove } };
}

function redirectFilter(a: AnnotationReader): HttpRouteFilterRec | undefined {
  const v = a.string('permanent-redirect');
  const codeText = a.string('permanent-redirect-code');
  let statusCode = 301;
  if (codeText !== undefined) {
    const code = /^\d{3}$/.test(codeText) ? Number(codeText) : NaN;
    if (REDIRECT_CODES.has(code)) statusCode = code;
    else a.bad('permanent-redirect-code', codeText, 'one of 301, 302, 303, 307, 308', '301');
  }
  if (v === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    a.bad('permanent-redirect', v, 'an http or https URL without user, query or fragment, such as https://example.com/new');
    return undefined;
  }
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    type: 'RequestRedirect',
    scheme: url.protocol === 'https:' ? 'https' : 'http',
    hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: { type: 'ReplaceFullPath', value: url.pathname },
    statusCode,
  };
}
