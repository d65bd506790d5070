/**
 * Cookie session affinity: the cookie's value names the endpoint that served the client, so any worker
 * thread (or any Switchyard replica with the same configuration) sends the next request to the same pod
 * without shared state.
 *
 * The value is the first 64 bits of SHA-256 over `backend key | endpoint address:port`, in hex: opaque,
 * so a response does not show the pod's address at a glance, and different for each backend. It is not a
 * secret: someone who knows the Service and guesses the pod network can confirm a guess offline. Nothing
 * depends on it being one: a forged value names no endpoint (or one the client could reach by chance
 * anyway) and is answered as no cookie.
 *
 * Values are computed once per backend of a snapshot, on its first request with a cookie route, and
 * looked up in a Map: nothing is hashed per request.
 *
 * A session Switchyard ends by time (SessionCookie absoluteSeconds, idleSeconds) carries its times in
 * the value: `HASH.BEGAN.LAST`, seconds since 1970 in base 36. A client could alter them, but all it could
 * gain is staying on its own pod longer, which keeping the cookie does anyway. With an idle limit the
 * cookie is set again when its last request time is stale by a second or an eighth of the limit.
 */
import { createHash } from 'node:crypto';
import type { Backend, EndpointView, SessionCookie } from '../snapshot/types.ts';

interface CookieIndex {
  /** Cookie value of each endpoint of the rotation, same order. */
  readonly values: readonly string[];
  readonly byValue: ReadonlyMap<string, EndpointView>;
}

/** By backend object: a snapshot's backends are immutable, and dropped with it. */
const indexes = new WeakMap<Backend, CookieIndex>();

function indexOf(backend: Backend): CookieIndex {
  let index = indexes.get(backend);
  if (index === undefined) {
    const values = backend.rotation.map((e) => endpointCookieValue(backend.key, e.key));
    const byValue = new Map<string, EndpointView>();
    values.forEach((v, i) => byValue.set(v, backend.rotation[i]!));
    index = { values, byValue };
    indexes.set(backend, index);
  }
  return index;
}

/** The cookie value naming endpoint `endpointKey` of backend `backendKey`. */
export function endpointCookieValue(backendKey: string, endpointKey: string): string {
  return createHash('sha256').update(`${backendKey}|${endpointKey}`).digest('hex').slice(0, 16);
}

/** The endpoint of `backend`'s rotation that `value` names; undefined: none (gone, not ready, or never one). */
export function endpointOfCookie(backend: Backend, value: string): EndpointView | undefined {
  return indexOf(backend).byValue.get(value);
}

/**
 * The Set-Cookie field value naming `endpoint` of `backend`: HttpOnly, Path, Max-Age when set, Secure over
 * TLS. `began`, `last`: a timed session's times (seconds since 1970), ignored for an untimed cookie.
 */
export function setCookieValue(cookie: SessionCookie, backend: Backend, endpoint: EndpointView, secure: boolean, began = 0, last = 0): string {
  const i = backend.rotation.indexOf(endpoint);
  const hash = i >= 0 ? indexOf(backend).values[i]! : endpointCookieValue(backend.key, endpoint.key);
  const value = isTimed(cookie) ? `${hash}.${began.toString(36)}.${last.toString(36)}` : hash;
  const maxAge = cookie.maxAgeSeconds === undefined ? '' : `; Max-Age=${cookie.maxAgeSeconds}`;
  return `${cookie.name}=${value}; Path=${cookie.path}${maxAge}; HttpOnly${secure ? '; Secure' : ''}`;
}

/** Whether Switchyard ends the cookie's sessions by time (its value then carries their times). */
export function isTimed(cookie: SessionCookie): boolean {
  return cookie.absoluteSeconds !== undefined || cookie.idleSeconds !== undefined;
}

/** A timed session read from its cookie value. */
export interface TimedSession {
  /** The endpoint part of the value. */
  readonly hash: string;
  /** When it began, seconds since 1970. */
  readonly began: number;
  /** Its last request is stale enough that the cookie is set again with this one's time. */
  readonly renew: boolean;
}

/** The session `value` holds if it is still alive at `now` (seconds since 1970); undefined: ended, or not a timed value. */
export function timedSession(cookie: SessionCookie, value: string, now: number): TimedSession | undefined {
  const dot = value.indexOf('.');
  const dot2 = dot < 0 ? -1 : value.indexOf('.', dot + 1);
  if (dot2 < 0) return undefined;
  const began = parseInt(value.slice(dot + 1, dot2), 36);
  const last = parseInt(value.slice(dot2 + 1), 36);
  if (!(began <= last && last <= now + 60)) return undefined; // garbled, or from a clock far ahead
  if (cookie.absoluteSeconds !== undefined && now - began >= cookie.absoluteSeconds) return undefined;
  const idle = cookie.idleSeconds;
  if (idle !== undefined && now - last >= idle) return undefined;
  return { hash: value.slice(0, dot), began, renew: idle !== undefined && now - last >= Math.max(1, Math.floor(idle / 8)) };
}

/**
 * The value of cookie `name` in the request's Cookie fields (HTTP/2 clients may send several), the first
 * one given; undefined when absent.
 */
export function requestCookie(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const field = rawHeaders[i]!;
    if (field.length !== 6 || field.toLowerCase() !== 'cookie') continue;
    const found = cookieIn(rawHeaders[i + 1]!, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `name`'s value in one Cookie field (`a=1; b=2`, RFC 6265 §4.2.1), spaces around pairs ignored. */
function cookieIn(header: string, name: string): string | undefined {
  let at = 0;
  while (at < header.length) {
    while (at < header.length && (header.charCodeAt(at) === 32 || header.charCodeAt(at) === 9)) at++;
    let end = header.indexOf(';', at);
    if (end < 0) end = header.length;
    if (end - at > name.length && header.charCodeAt(at + name.length) === 61 /* = */ && header.startsWith(name, at)) {
      let value = header.slice(at + name.length + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    at = end + 1;
  }
  return undefined;
}

/**
 * The response head for the client with the session cookie added when the request did not already name
 * `endpoint` (a first request, an ended session, or its pod went away and it moved), or when its idle
 * session's cookie is renewed; `head` as it is otherwise.
 */
export function withSessionCookie(head: string[], cookie: SessionCookie, session: { readonly named: EndpointView | undefined; readonly began: number; readonly renew: boolean }, backend: Backend, endpoint: EndpointView, secure: boolean): string[] {
  const kept = session.named === endpoint;
  if (kept && !session.renew) return head;
  const now = isTimed(cookie) ? Math.floor(Date.now() / 1000) : 0;
  head.push('set-cookie', setCookieValue(cookie, backend, endpoint, secure, kept ? session.began : now, now));
  return head;
}
