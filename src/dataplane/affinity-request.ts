/**
 * What one request brings to session affinity: the route's cookie and the endpoint it names (cookie
 * affinity), and the client's address (a backend with `sessionAffinity: ClientIP`). Made only for routes
 * and backends that have affinity: a request to any other pays a property check and no allocation.
 * The balancer applies it (balancer.ts pickAffine); the proxy sets the cookie on the pod's response.
 */
import type { Backend, EndpointView, RouteTarget, SessionCookie } from '../snapshot/types.ts';
import { endpointOfCookie, isTimed, requestCookie, timedSession, type TimedSession } from './affinity-cookie.ts';
import type { EdgePolicy } from './edge-policy.ts';
import { isTrustedProxy } from './trusted-proxies.ts';

export class Affinity {
  /** The route's cookie; undefined: no cookie affinity. */
  readonly cookie: SessionCookie | undefined;
  /** Of a route with several backends, the one whose endpoint the cookie names; undefined: the weighted choice decides. */
  readonly target: RouteTarget | undefined;
  /** The endpoint the request's cookie names, in the rotation of the backend it will go to; undefined: none. */
  readonly named: EndpointView | undefined;
  /** A timed session's start, seconds since 1970 (affinity-cookie.ts); 0: none. */
  began = 0;
  /** A timed session's cookie is set again on this response (its idle time is renewed). */
  renew = false;
  /** ClientIP affinity: the client's address; undefined: none. */
  client: string | undefined = undefined;
  /** ClientIP affinity timeout, seconds. */
  clientSeconds = 0;
  /** ClientIP affinity: when the request started, ms since 1970 (the affinity table's clock). */
  at = 0;

  constructor(cookie: SessionCookie | undefined, target: RouteTarget | undefined, named: EndpointView | undefined) {
    this.cookie = cookie;
    this.target = target;
    this.named = named;
  }
}

/**
 * The cookie affinity of a request to `route` (which has a `sessionCookie`): the endpoint its cookie
 * names, when that endpoint is still in the rotation of the route's backend (or of one of its weighted
 * backends, then that one is the `target`).
 */
export function cookieAffinity(route: RouteTarget, rawHeaders: readonly string[], backends: ReadonlyMap<string, Backend>): Affinity {
  const cookie = route.sessionCookie!;
  let value = requestCookie(rawHeaders, cookie.name);
  let session: TimedSession | undefined;
  if (value !== undefined && isTimed(cookie)) {
    session = timedSession(cookie, value, Math.floor(Date.now() / 1000));
    value = session?.hash;
  }
  if (value !== undefined) {
    if (route.weighted === undefined) {
      const backend = route.backend === undefined ? undefined : backends.get(route.backend);
      const named = backend === undefined ? undefined : endpointOfCookie(backend, value);
      if (named !== undefined) return timed(new Affinity(cookie, undefined, named), session);
    } else {
      for (const target of route.weighted) {
        const backend = target.backend === undefined ? undefined : backends.get(target.backend);
        const named = backend === undefined ? undefined : endpointOfCookie(backend, value);
        if (named !== undefined) return timed(new Affinity(cookie, target, named), session);
      }
    }
  }
  return new Affinity(cookie, undefined, undefined);
}

function timed(affinity: Affinity, session: TimedSession | undefined): Affinity {
  if (session !== undefined) {
    affinity.began = session.began;
    affinity.renew = session.renew;
  }
  return affinity;
}

/**
 * `affinity` with the client's address added when `backend` has ClientIP affinity (a new Affinity when
 * `affinity` is undefined); `affinity` as it is otherwise.
 */
export function withClientAffinity(affinity: Affinity | undefined, backend: Backend, client: AffinityClientSource, policy: EdgePolicy): Affinity | undefined {
  const seconds = backend.clientAffinitySeconds;
  if (seconds === undefined) return affinity;
  const a = affinity ?? new Affinity(undefined, undefined, undefined);
  a.client = affinityClient(client.remoteAddress, client.forwardedFor, policy);
  a.clientSeconds = seconds;
  // The request's start, already read: a clock read per request costs more than the rest of the lookup.
  a.at = TIME_ORIGIN + client.trace.startedAt;
  return a;
}

/** What withClientAffinity reads of an exchange. */
export interface AffinityClientSource {
  readonly remoteAddress: string;
  readonly forwardedFor: string | undefined;
  /** `startedAt`: performance.now() when the request started. */
  readonly trace: { readonly startedAt: number };
}

/** This thread's performance.now() origin, ms since 1970: with it, every thread's times are comparable. */
const TIME_ORIGIN = performance.timeOrigin;

/**
 * The client address affinity keys on: the peer's (or the PROXY protocol source's); when that peer is a
 * trusted proxy (`--trusted-proxies`) and sent X-Forwarded-For, the last address of that list that is not
 * a trusted proxy itself (nginx's `real_ip_recursive`), or its first when all of them are.
 */
export function affinityClient(peer: string, forwardedFor: string | undefined, policy: EdgePolicy): string {
  if (forwardedFor === undefined || !isTrustedProxy(policy, peer)) return peer;
  let end = forwardedFor.length;
  let last = peer;
  while (end > 0) {
    const comma = forwardedFor.lastIndexOf(',', end - 1);
    const entry = forwardedFor.slice(comma + 1, end).trim();
    if (entry !== '') {
      if (!isTrustedProxy(policy, entry)) return entry;
      last = entry;
    }
    if (comma < 0) break;
    end = comma;
  }
  return last;
}
