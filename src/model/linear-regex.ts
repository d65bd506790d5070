/**
 * Switchyard's regular expression dialect for route matches (HTTPRoute RegularExpression paths, headers
 * and query parameters): JavaScript syntax, run by V8's linear-time engine (the `l` flag), so matching
 * costs time proportional to the input whatever the pattern (no catastrophic backtracking, RE2's
 * guarantee). Patterns the linear engine cannot run — backreferences, lookahead and lookbehind — are
 * refused, like RE2 refuses them. A pattern matches the whole value (as Envoy's RE2 full match does):
 * `/v[0-9]+` matches `/v2`, not `/v2/x`.
 *
 * Used by compile (validation, no matching) and by the data plane (matching), which both share the cache.
 */
import { setFlagsFromString } from 'node:v8';

// The linear engine is behind a V8 flag: set once per process (flags are process-wide, worker threads
// included) before any pattern is built. Setting it late is harmless to patterns built before.
setFlagsFromString('--enable-experimental-regexp-engine');

const cache = new Map<string, RegExp>();
/** Distinct patterns kept; past it the cache starts over (patterns come from configuration, not requests). */
const CACHE_LIMIT = 10_000;

/** Why `pattern` is not usable, or undefined when it is. */
export function regexProblem(pattern: string): string | undefined {
  try {
    linearRegex(pattern);
    return undefined;
  } catch (err) {
    const message = (err as Error).message;
    return message.includes('linear time')
      ? 'backreferences, lookahead and lookbehind are not supported (patterns must run in linear time)'
      : message.replace(`Invalid regular expression: /${pattern}/l: `, '');
  }
}

/**
 * The compiled pattern, anchored to match whole values, built once per distinct pattern. Throws a
 * SyntaxError for a pattern regexProblem refuses (compile only lets valid ones into a snapshot).
 */
export function linearRegex(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re === undefined) {
    // Checked alone first: `a)|(b` is invalid alone but valid inside the anchoring group, unanchored.
    new RegExp(pattern, 'l');
    re = new RegExp(`^(?:${pattern})$`, 'l');
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}
