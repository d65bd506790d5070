/**
 * Request path normalization (RFC 3986 §6.2.2), so the router and the pod judge the same path:
 * percent-encoded unreserved characters are decoded (`/%61dmin` is `/admin`), the hex of the other
 * escapes is uppercased, adjacent slashes are merged (`--merge-slashes`) and dot segments are removed
 * (§5.2.4), encoded ones included (`/x/%2e%2e/admin` is `/admin`). A malformed escape (`%zz`, `%4`)
 * is refused: a server that reads it differently could route it elsewhere.
 *
 * Encoded slashes (`%2F`, `%5C`) follow `--escaped-slashes`: `reject` refuses them; `unescape`
 * decodes them to `/` and `\` (Envoy's UNESCAPE_AND_FORWARD); `keep` forwards them as spelled.
 *
 * Why, with `keep`, `%2F`, `%5C` and a literal `\` still separate segments for routing and dot removal:
 * a pod may or may not decode them (Node's WHATWG URL even reads `\` as `/`), and the router cannot
 * know which. So it judges by the finest reading, in which each of them is a `/`: that reading never
 * matches a shorter Prefix rule than a coarser one, so every rule some pod's reading could fall under
 * is the rule applied (`/admin%2F` takes the `/admin` rule, as with nginx, which decodes `%2F`). Dot
 * segments are removed on that same reading (`/x/..%2Fadmin` is `/admin`) and merging treats them as
 * slashes too, so no `..` that a decoding pod would resolve survives in what is forwarded, and the
 * forwarded path equals the routed one but for the spelling of the separators the client encoded.
 * An application that carries `/` as data in a segment (`%2F` inside an id) keeps it, unless the id
 * is itself a dot segment or holds adjacent slashes (then `--merge-slashes false` keeps those).
 */
import type { EdgePolicy } from './edge-policy.ts';

/** The two flags that shape paths. */
export type PathPolicy = Pick<EdgePolicy, 'mergeSlashes' | 'escapedSlashes'>;

/** Marks a path refused by the path rules: the listener answers 400 `bad-path`. */
export const PATH_REJECTED: unique symbol = Symbol('path-rejected');

export interface NormalizedPath {
  /** As matched against routes: every separator written `/`. */
  readonly match: string;
  /** As sent upstream: the same segments, each separator spelled as the client spelled it. */
  readonly forward: string;
}

const HEX = '0123456789ABCDEF';

/** Hex digit value of a char code, -1 when it is none (NaN past the end included). */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(c: number): boolean {
  const lower = c | 0x20;
  return (lower >= 97 && lower <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126;
}

/**
 * True when `path` needs no work: no `%`, no `\`, no `//` and no `/.`. One pass, no allocation:
 * the plaintext hot path pays only this.
 */
export function isPlainPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \ */) return false;
    if (c === 47 /* / */) {
      const next = path.charCodeAt(i + 1);
      if (next === 47 || next === 46 /* . */) return false;
    }
  }
  return true;
}

interface Segment {
  /** The separator before the segment, as it will be forwarded: `/`, `\`, `%2F` or `%5C`. */
  readonly sep: string;
  readonly text: string;
}

/**
 * Normalizes an absolute path (starting with `/`, without query or fragment) under `policy` (no
 * defaults here: parseTarget passes the edge policy, whose defaults are merge and keep).
 */
export function normalizePath(path: string, policy: PathPolicy): NormalizedPath | typeof PATH_REJECTED {
  const segments = splitSegments(path, policy.escapedSlashes);
  if (segments === PATH_REJECTED) return PATH_REJECTED;
  const out = resolveSegments(segments, policy.mergeSlashes);
  let forward = '';
  let match = '';
  for (const s of out) {
    forward += s.sep + s.text;
    match += `/${s.text}`;
  }
  return { match, forward };
}

/** Decodes and splits at every separator, remembering each separator's spelling. */
function splitSegments(path: string, escapedSlashes: PathPolicy['escapedSlashes']): Segment[] | typeof PATH_REJECTED {
  const segments: Segment[] = [];
  let sep = '/';
  let text = '';
  let run = 1; // start of the current run of characters copied as they are
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    let next: string;
    if (c === 37 /* % */) {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return PATH_REJECTED;
      text += path.slice(run, i);
      const octet = hi * 16 + lo;
      run = i + 3;
      if (isUnreserved(octet)) {
        text += String.fromCharCode(octet);
        i += 2;
        continue;
      }
      if (octet !== 0x2f && octet !== 0x5c) {
        text += `%${HEX[hi]}${HEX[lo]}`;
        i += 2;
        continue;
      }
      if (escapedSlashes === 'reject') return PATH_REJECTED;
      if (escapedSlashes === 'unescape') next = octet === 0x2f ? '/' : '\\';
      else next = octet === 0x2f ? '%2F' : '%5C';
      i += 2;
    } else if (c === 47 /* / */ || c === 92 /* \ */) {
      text += path.slice(run, i);
      run = i + 1;
      next = c === 47 ? '/' : '\\';
    } else {
      continue;
    }
    segments.push({ sep, text });
    sep = next;
    text = '';
  }
  segments.push({ sep, text: text + path.slice(run) });
  return segments;
}

/**
 * Merges empty segments (when asked) and removes dot segments as RFC 3986 §5.2.4 does. Where two
 * separators become one, the first one's spelling stays: the path still starts with a literal `/`.
 */
function resolveSegments(segments: readonly Segment[], mergeSlashes: boolean): Segment[] {
  const out: Segment[] = [];
  let carry: string | undefined; // the separator a removed segment leaves to the next one
  for (let k = 0; k < segments.length; k++) {
    const { sep, text } = segments[k]!;
    const last = k === segments.length - 1;
    const here = carry ?? sep;
    // nginx merges before it resolves dots: `/a//../b` is `/b` with merging, `/a/b` (RFC) without.
    if (text === '' && !last && mergeSlashes) {
      carry = here;
    } else if (text === '.') {
      if (last) out.push({ sep: here, text: '' });
      else carry = here;
    } else if (text === '..') {
      const up = out.pop()?.sep ?? here;
      if (last) out.push({ sep: up, text: '' });
      else carry = up;
    } else {
      out.push(carry === undefined ? segments[k]! : { sep: here, text });
      carry = undefined;
    }
  }
  return out;
}
