/**
 * Request-target handling: origin-form (`/a/b?q`) is the common case and costs two indexOf and one
 * charCode pass; absolute-form (`http://host/a/b`) takes its host from the target, as RFC 9112 §3.2.2
 * requires. A path with `%`, `\`, `//` or `/.` in it is normalized (path-normalize.ts) before matching
 * and forwarding, so `/public/../admin` or `/%61dmin` cannot match a `/public` or `/` rule and reach
 * `/admin` upstream. The query is never touched.
 */
import { DEFAULT_EDGE_POLICY } from './edge-policy.ts';
import { isPlainPath, normalizePath, PATH_REJECTED, type PathPolicy } from './path-normalize.ts';

export { PATH_REJECTED } from './path-normalize.ts';

/** The scheme and authority of an absolute-form target (`http://host:port`); group 1 is the authority. */
export const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)/i;

export interface RequestTarget {
  /** Path only, as matched against routes. */
  readonly path: string;
  /** Path plus query, as sent upstream. */
  readonly pathAndQuery: string;
  /** Host from an absolute-form target, else undefined. */
  readonly host: string | undefined;
}

/**
 * Splits and normalizes a request target. Undefined: neither origin- nor absolute-form (`*`, an
 * authority); PATH_REJECTED: the path rules refuse it (answer 400 `bad-path`).
 * `policy` defaults to the flags' defaults (merge slashes, keep escaped slashes).
 */
export function parseTarget(url: string, policy: PathPolicy = DEFAULT_EDGE_POLICY): RequestTarget | typeof PATH_REJECTED | undefined {
  let host: string | undefined;
  let rest = url;
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    const m = ABSOLUTE_FORM.exec(url);
    if (!m) return undefined; // `*` (OPTIONS *) or garbage
    host = m[1]!;
    rest = url.slice(m[0].length) || '/';
    if (rest.charCodeAt(0) !== 47) rest = `/${rest}`;
  }
  const q = rest.indexOf('?');
  let path = q < 0 ? rest : rest.slice(0, q);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (isPlainPath(path)) return { path, pathAndQuery: rest, host };
  const normal = normalizePath(path, policy);
  if (normal === PATH_REJECTED) return PATH_REJECTED;
  if (normal.forward === path) return { path: normal.match, pathAndQuery: rest, host };
  return { path: normal.match, pathAndQuery: q < 0 ? normal.forward : normal.forward + rest.slice(q), host };
}
