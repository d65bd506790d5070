/**
 * Request-target handling: origin-form (`/a/b?q`) is the common case and costs one indexOf;
 * absolute-form (`http://host/a/b`) takes its host from the target, as RFC 9112 §3.2.2 requires.
 * Dot segments are removed (RFC 3986 §5.2.4) before matching and forwarding, so `/public/../admin`
 * cannot match a `/public` rule and reach `/admin` upstream.
 */

export interface RequestTarget {
  /** Path only, as matched against routes. */
  readonly path: string;
  /** Path plus query, as sent upstream. */
  readonly pathAndQuery: string;
  /** Host from an absolute-form target, else undefined. */
  readonly host: string | undefined;
}

export function parseTarget(url: string): RequestTarget | undefined {
  let host: string | undefined;
  let rest = url;
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    const m = /^https?:\/\/([^/?#]*)/i.exec(url);
    if (!m) return undefined; // `*` (OPTIONS *) or garbage
    host = m[1]!;
    rest = url.slice(m[0].length) || '/';
    if (rest.charCodeAt(0) !== 47) rest = `/${rest}`;
  }
  const q = rest.indexOf('?');
  let path = q < 0 ? rest : rest.slice(0, q);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (path.includes('/.')) {
    const clean = removeDotSegments(path);
    if (clean !== path) return { path: clean, pathAndQuery: q < 0 ? clean : clean + rest.slice(q), host };
  }
  return { path, pathAndQuery: rest, host };
}

/** RFC 3986 §5.2.4 for an absolute path. */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(s);
    }
  }
  return `/${out.join('/')}`;
}
