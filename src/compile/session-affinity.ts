/**
 * Cookie session affinity of routes → RouteTarget.sessionCookie (the data plane's affinity-cookie.ts
 * reads and sets the cookie):
 * - Ingress annotations (ingress-nginx's, under `switchyard.dev/`): `affinity: cookie` turns it on;
 *   `session-cookie-name` (default SWYAFFINITY), `session-cookie-max-age` (seconds; absent: a session
 *   cookie), `session-cookie-path` (default: the path of each rule).
 * - HTTPRoute rule `sessionPersistence` (GEP-1619): type Cookie, `sessionName` (default SWYAFFINITY),
 *   `cookieConfig.lifetimeType: Permanent` → Max-Age from `absoluteTimeout`; Session (the default) → a
 *   session cookie, whose `absoluteTimeout` Switchyard enforces; `idleTimeout` is enforced either way
 *   (dataplane/affinity-cookie.ts). The cookie's path is the match's path (`/` for a RegularExpression match).
 * What is not applied is a diagnostic naming the annotation or field, never a failure: type Header
 * (HTTPROUTE_SESSION_PERSISTENCE_UNSUPPORTED, the rule routes without affinity).
 */
import type { HttpRouteRec, SessionPersistenceRec } from '../model/gateway-records.ts';
import type { IngressRec } from '../model/records.ts';
import type { Diagnostic, SessionCookie } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';
import { ANNOTATION_PREFIX, AnnotationReader } from './policy.ts';

/** The affinity annotations of an Ingress (beside routes.ts INGRESS_ANNOTATIONS). */
export const AFFINITY_ANNOTATIONS: ReadonlySet<string> = new Set(['affinity', 'session-cookie-name', 'session-cookie-max-age', 'session-cookie-path']);

/** The cookie's name when none is given. */
export const DEFAULT_SESSION_COOKIE = 'SWYAFFINITY';

/** RFC 6265 cookie-name: an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A cookie Path attribute value: absolute, no `;`, controls or spaces (RFC 6265 §4.1.1 path-value). */
const COOKIE_PATH = /^\/[^;\0-\x20\x7f]*$/;
/** Most seconds a Max-Age is given (RFC 6265 §5.2.2 caps it at about 400 days in today's browsers; this is the int32 limit). */
const MAX_AGE_LIMIT = 2_147_483_647;

/** An Ingress's cookie affinity: the cookie of a rule's path; undefined when the Ingress has none. */
export function ingressSessionCookie(ing: IngressRec, diagnostics: Diagnostic[]): ((path: string) => SessionCookie) | undefined {
  const a = new AnnotationReader(ing, diagnostics);
  const mode = a.string('affinity');
  const others = ['session-cookie-name', 'session-cookie-max-age', 'session-cookie-path'].filter((n) => a.string(n) !== undefined);
  if (mode === undefined || mode.toLowerCase() !== 'cookie') {
    if (mode !== undefined && mode.toLowerCase() !== 'none') a.bad('affinity', mode, '"cookie" (or "none")');
    for (const n of others) diagnostics.push(diag('info', 'ANNOTATION_IGNORED', ing, `${ANNOTATION_PREFIX}${n} has no effect without ${ANNOTATION_PREFIX}affinity: cookie`));
    return undefined;
  }
  let name = a.string('session-cookie-name') ?? DEFAULT_SESSION_COOKIE;
  if (!TOKEN.test(name) || name.length > 128) {
    a.bad('session-cookie-name', name, 'a cookie name (letters, digits and !#$%&\'*+.^_`|~-, at most 128)', DEFAULT_SESSION_COOKIE);
    name = DEFAULT_SESSION_COOKIE;
  }
  let maxAgeSeconds: number | undefined;
  const maxAge = a.string('session-cookie-max-age');
  if (maxAge !== undefined) {
    const n = /^\d{1,10}$/.test(maxAge) ? Number(maxAge) : NaN;
    if (n >= 1 && n <= MAX_AGE_LIMIT) maxAgeSeconds = n;
    else a.bad('session-cookie-max-age', maxAge, `a whole number of seconds from 1 to ${MAX_AGE_LIMIT}`, 'a session cookie');
  }
  let path = a.string('session-cookie-path');
  if (path !== undefined && !COOKIE_PATH.test(path)) {
    a.bad('session-cookie-path', path, 'an absolute path without ";", spaces or control characters', "each rule's path");
    path = undefined;
  }
  return (rulePath) => ({ name, path: path ?? rulePath, maxAgeSeconds });
}

/**
 * An HTTPRoute rule's cookie affinity: the cookie of a match's path (`pathType` RegularExpression: `/`);
 * undefined when the rule has none or asks for what is not supported (reported).
 */
export function routeSessionCookie(route: HttpRouteRec, ruleIndex: number, p: SessionPersistenceRec | undefined, diagnostics: Diagnostic[]): ((path: string, pathType: string) => SessionCookie) | undefined {
  if (p === undefined) return undefined;
  const field = `spec.rules[${ruleIndex}].sessionPersistence`;
  if (p.type === 'Header') {
    diagnostics.push(diag('warning', 'HTTPROUTE_SESSION_PERSISTENCE_UNSUPPORTED', route, `${field}.type: Header is not supported (Cookie is); the rule routes without session persistence`));
    return undefined;
  }
  let name = p.sessionName ?? DEFAULT_SESSION_COOKIE;
  if (!TOKEN.test(name)) {
    diagnostics.push(diag('warning', 'HTTPROUTE_SESSION_PERSISTENCE_INVALID', route, `${field}.sessionName: ${JSON.stringify(name)} is not a cookie name (letters, digits and !#$%&'*+.^_\`|~-); using ${DEFAULT_SESSION_COOKIE}`));
    name = DEFAULT_SESSION_COOKIE;
  }
  // Whole seconds, at least one (the schema requires absoluteTimeout with Permanent; "0s" is still a duration).
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : Math.min(MAX_AGE_LIMIT, Math.max(1, Math.ceil(ms / 1000))));
  // Permanent: the browser ends the session (Max-Age); Session with absoluteTimeout: Switchyard does.
  const maxAgeSeconds = p.lifetimeType === 'Permanent' ? seconds(p.absoluteTimeoutMs) : undefined;
  const absoluteSeconds = p.lifetimeType === 'Permanent' ? undefined : seconds(p.absoluteTimeoutMs);
  const idleSeconds = seconds(p.idleTimeoutMs);
  const timing = { ...(absoluteSeconds !== undefined ? { absoluteSeconds } : {}), ...(idleSeconds !== undefined ? { idleSeconds } : {}) };
  return (path, pathType) => ({ name, path: pathType === 'RegularExpression' || !COOKIE_PATH.test(path) ? '/' : path, maxAgeSeconds, ...timing });
}
