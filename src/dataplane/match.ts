/**
 * Route lookup: exact host, then wildcard by the suffix after the first label, then (Gateway API
 * wildcards, which cover deeper names) by longer suffixes, then host-less rules; within the chosen host,
 * an Exact path, then RegularExpression paths, then the longest matching prefix. Only Map lookups for
 * hosts, exact paths and prefixes: the cost does not grow with the number of routes.
 *
 * A route may carry conditions (HTTPRoute and GRPCRoute matches: method, headers, query parameters; an
 * Ingress canary's header). Where it does and they do not hold, the next route of the same path key is
 * tried (Route.next, in precedence order), then shorter prefixes. Routes without conditions — every other
 * Ingress route — are returned as found: the Ingress hot path pays one property read, no allocation and no
 * regular expression.
 *
 * Once a host is chosen, its paths are the only candidates (as with Envoy virtual hosts and nginx
 * server blocks): a request for a known host whose path matches nothing gets the default backend.
 */
import { linearRegex } from '../model/linear-regex.ts';
import type { HostRoutes, Route, RouteConditions, RouteTable, RouteTarget, ValueCondition } from '../snapshot/types.ts';

/** What route conditions read of a request; an HttpExchange is one. */
export interface MatchRequest {
  readonly method: string;
  /** [name, value, …] as the client sent them. */
  readonly rawHeaders: readonly string[];
}

/** Lower-cases the Host header and drops the port and a trailing dot. '' when absent. */
export function normalizeHost(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  let end = hostHeader.length;
  if (hostHeader.charCodeAt(0) === 91 /* '[' */) {
    const close = hostHeader.indexOf(']');
    end = close < 0 ? end : close + 1;
  } else {
    const colon = hostHeader.indexOf(':');
    if (colon >= 0) end = colon;
  }
  if (end > 0 && hostHeader.charCodeAt(end - 1) === 46 /* '.' */) end--;
  return hostHeader.slice(0, end).toLowerCase();
}

export function matchHost(table: RouteTable, host: string): HostRoutes | undefined {
  const exact = table.hosts.get(host);
  if (exact) return exact;
  if (table.wildcards.size > 0) {
    const dot = host.indexOf('.');
    // `*.example.com` of an Ingress covers exactly one more label: `a.example.com`, not `example.com` or `a.b.example.com`.
    if (dot > 0) {
      const wild = table.wildcards.get(host.slice(dot + 1));
      if (wild) return wild;
    }
  }
  const deep = table.deepWildcards;
  if (deep !== undefined && deep.size > 0) {
    // Gateway API wildcards cover any number of labels: the longest suffix (most specific) first.
    for (let at = host.indexOf('.'); at > 0; at = host.indexOf('.', at + 1)) {
      const wild = deep.get(host.slice(at + 1));
      if (wild) return wild;
    }
  }
  return table.anyHost;
}

/**
 * The route for `path` among one host's routes. `request` and `pathAndQuery` (the target as forwarded,
 * query included) are read only by routes with conditions; without them such routes do not match.
 */
export function matchPath(routes: HostRoutes, path: string, request?: MatchRequest, pathAndQuery?: string): RouteTarget | undefined {
  const exact = routes.exact.get(path);
  if (exact) {
    const hit = exact.conditions === undefined ? exact : firstHolding(exact, request, pathAndQuery);
    if (hit) return hit;
  }
  const regex = routes.regex;
  if (regex !== undefined) {
    for (const r of regex) {
      if (linearRegex(r.path).test(path) && (r.conditions === undefined || holds(r.conditions, request, pathAndQuery))) return r;
    }
  }
  if (routes.prefix.size === 0) return undefined;
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* '/' */) end--;
  // Element-wise prefix match: try the whole path, then cut at each '/', longest first.
  for (;;) {
    const found = routes.prefix.get(end === path.length ? path : path.slice(0, end));
    if (found) {
      const hit = found.conditions === undefined ? found : firstHolding(found, request, pathAndQuery);
      if (hit) return hit;
    }
    if (end === 0) return undefined;
    end = path.lastIndexOf('/', end - 1);
    if (end < 0) return undefined;
  }
}

/** The route for a request, or the default backend, or undefined (404). */
export function matchRoute(table: RouteTable, host: string, path: string, request?: MatchRequest, pathAndQuery?: string): RouteTarget | undefined {
  const routes = matchHost(table, host);
  return (routes && matchPath(routes, path, request, pathAndQuery)) || table.defaultBackend;
}

/** The first route of the chain whose conditions hold. */
function firstHolding(route: Route, request: MatchRequest | undefined, pathAndQuery: string | undefined): Route | undefined {
  for (let r: Route | undefined = route; r !== undefined; r = r.next) {
    if (r.conditions === undefined || holds(r.conditions, request, pathAndQuery)) return r;
  }
  return undefined;
}

/** Whether the request meets every condition (HTTPRoute match semantics: all of them, ANDed). */
export function holds(c: RouteConditions, request: MatchRequest | undefined, pathAndQuery: string | undefined): boolean {
  if (c.method !== undefined && request?.method !== c.method) return false;
  for (const h of c.headers) {
    const value = request === undefined ? undefined : headerValue(request.rawHeaders, h.name);
    if (value === undefined || !valueHolds(h, value)) return false;
  }
  if (c.query.length > 0) {
    const q = pathAndQuery === undefined ? -1 : pathAndQuery.indexOf('?');
    if (q < 0) return false;
    for (const p of c.query) if (!queryHolds(pathAndQuery!, q + 1, p)) return false;
  }
  return true;
}

function valueHolds(c: ValueCondition, value: string): boolean {
  return c.regex ? linearRegex(c.value).test(value) : value === c.value;
}

/** The first field named `lower` (lower-case), compared case-insensitively without allocating. */
function headerValue(raw: readonly string[], lower: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lower.length && sameLowerCase(name, lower)) return raw[i + 1];
  }
  return undefined;
}

function sameLowerCase(name: string, lower: string): boolean {
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The first parameter named `c.name` in the query starting at `from` meets the condition. Names and
 * values compare as sent, except that a percent-encoded or `+` one is decoded first (only then is a
 * string built). A parameter without `=` has the value ''.
 */
function queryHolds(target: string, from: number, c: ValueCondition): boolean {
  let start = from;
  const hash = target.indexOf('#', from);
  const stop = hash < 0 ? target.length : hash;
  while (start <= stop) {
    let end = target.indexOf('&', start);
    if (end < 0 || end > stop) end = stop;
    let eq = target.indexOf('=', start);
    if (eq < 0 || eq > end) eq = end;
    if (nameIs(target, start, eq, c.name)) {
      const valueStart = eq < end ? eq + 1 : end;
      if (!c.regex && !hasEscapes(target, valueStart, end)) return end - valueStart === c.value.length && target.startsWith(c.value, valueStart);
      return valueHolds(c, decode(target.slice(valueStart, end)));
    }
    start = end + 1;
  }
  return false;
}

function nameIs(target: string, start: number, end: number, name: string): boolean {
  if (!hasEscapes(target, start, end)) return end - start === name.length && target.startsWith(name, start);
  return decode(target.slice(start, end)) === name;
}

function hasEscapes(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ || c === 43 /* + */) return true;
  }
  return false;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return s; // malformed escapes compare as sent
  }
}
