/**
 * Route filters, applied where the listener builds the upstream request and where the proxy builds
 * the client's response (one place each): header edits (RequestHeaderModifier, ResponseHeaderModifier),
 * path and Host rewrites (URLRewrite) and redirects (RequestRedirect). HTTPRoute and GRPCRoute filters,
 * and the Ingress annotations that compile into them (compile/ingress-annotations.ts); only routes with
 * filters get here.
 */
import type { HeaderEdits, PathRewrite, RouteFilters } from '../snapshot/types.ts';
import type { HttpExchange } from './exchange.ts';

/**
 * `fields` ([name, value, …]) with the edits applied: fields named in `remove` or `set` dropped, then
 * `set` and `add` appended. Names compare case-insensitively. A new list; `fields` is not changed.
 */
export function editHeaders(fields: readonly string[], edits: HeaderEdits): string[] {
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    const lower = fields[i]!.toLowerCase();
    if (edits.remove.includes(lower) || setsName(edits.set, lower)) continue;
    out.push(fields[i]!, fields[i + 1]!);
  }
  for (const value of edits.set) out.push(value);
  for (const value of edits.add) out.push(value);
  return out;
}

function setsName(set: readonly string[], lower: string): boolean {
  for (let i = 0; i < set.length; i += 2) if (set[i] === lower) return true;
  return false;
}

/**
 * The path `rewrite` makes of `path`: the whole of it, or (ReplacePrefixMatch) the element-wise prefix
 * `matched` (the route's PathPrefix) replaced, as the spec's examples do it: prefix /foo with /xyz makes
 * /foo/bar /xyz/bar and /foo /xyz; with / it makes /foo/bar /bar and /foo /.
 */
export function rewritePath(path: string, matched: string, rewrite: PathRewrite): string {
  if (rewrite.type === 'ReplaceFullPath') return rewrite.value;
  const rest = path.slice(prefixLength(matched));
  const replacement = rewrite.value.slice(0, prefixLength(rewrite.value));
  const out = replacement + rest;
  return out === '' ? '/' : out.charCodeAt(0) === 47 /* '/' */ ? out : `/${out}`;
}

/** `pathAndQuery` with its path part rewritten (the query kept), or as it is without a path rewrite. */
export function rewriteTarget(pathAndQuery: string, matchedPath: string, routePath: string, rewrite: PathRewrite | undefined): string {
  if (rewrite === undefined) return pathAndQuery;
  const q = pathAndQuery.indexOf('?');
  return rewritePath(matchedPath, routePath, rewrite) + (q < 0 ? '' : pathAndQuery.slice(q));
}

/** Length of `path` without its trailing slashes: a prefix compares element-wise, `/foo/` as `/foo`. */
function prefixLength(path: string): number {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* '/' */) end--;
  return end;
}

/** A host that would smuggle another URL part into Location is not echoed back. */
const UNSAFE_HOST = /[\s/?#@\\]/;

const BODY = Buffer.from('redirecting\n');
const BODY_LENGTH = String(BODY.length);

/**
 * Answers a RequestRedirect. Unset parts come from the request: the scheme it came by, the host it named
 * (without its port), its path and query. The port: the one given; else with a scheme given, none (its
 * well-known port); else the listener's. A well-known port (80 for http, 443 for https) is left out of
 * Location, as the spec asks.
 */
export function sendRouteRedirect(exchange: HttpExchange, redirect: NonNullable<RouteFilters['redirect']>, host: string, matchedPath: string, routePath: string, pathAndQuery: string): void {
  const scheme = redirect.scheme ?? exchange.scheme;
  const port = redirect.port ?? (redirect.scheme !== undefined ? undefined : exchange.localPort);
  const name = redirect.hostname ?? host;
  if (name === '' || UNSAFE_HOST.test(name)) {
    const body = Buffer.from('bad request: no usable host\n');
    exchange.writeHead(400, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(body.length), 'server', 'switchyard']);
    exchange.write(body);
    exchange.end();
    return;
  }
  const wellKnown = port === undefined || (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
  const authority = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
  const location = `${scheme}://${authority}${wellKnown ? '' : `:${port}`}${rewriteTarget(pathAndQuery, matchedPath, routePath, redirect.path)}`;
  exchange.writeHead(redirect.statusCode, ['location', location, 'content-type', 'text/plain; charset=utf-8', 'content-length', BODY_LENGTH, 'server', 'switchyard']);
  exchange.write(BODY);
  exchange.end();
}
