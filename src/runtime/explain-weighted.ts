/**
 * What `explain` says of a route beyond host and path: its kind, its conditions (HTTPRoute matches, an
 * Ingress canary's header) and whether the request meets each, its weighted backends and which one the
 * next request falls to, and its session affinity. Every answer comes from the data plane's own code:
 * `holds` (match.ts) for conditions, the weighted choice's `peek` (weighted.ts) over the same counter the
 * proxy moves, `cookieAffinity` (affinity-request.ts) for a session cookie.
 */
import { cookieAffinity } from '../dataplane/affinity-request.ts';
import { holds, type MatchRequest } from '../dataplane/match.ts';
import type { WeightedChoice } from '../dataplane/weighted.ts';
import type { Backend, Route, RouteConditions, RouteTarget, ValueCondition } from '../snapshot/types.ts';

/** One condition and whether the explained request meets it. */
export interface ExplainedCondition {
  /** `method`, `header` or `query`. */
  readonly on: 'method' | 'header' | 'query';
  readonly name: string | null;
  readonly value: string;
  readonly regex: boolean;
  readonly satisfied: boolean;
}

export interface ExplainedConditions {
  /** All of them hold (they are ANDed). */
  readonly satisfied: boolean;
  readonly list: readonly ExplainedCondition[];
}

const NONE: readonly ValueCondition[] = [];

/** `route`'s conditions, each checked alone by the matcher's `holds`; null: none. */
export function explainConditions(route: Route, asked: MatchRequest, url: string): ExplainedConditions | null {
  const c = route.conditions;
  if (c === undefined) return null;
  const one = (only: RouteConditions): boolean => holds(only, asked, url);
  const list: ExplainedCondition[] = [];
  if (c.method !== undefined) list.push({ on: 'method', name: null, value: c.method, regex: false, satisfied: one({ method: c.method, headers: NONE, query: NONE }) });
  for (const h of c.headers) list.push({ on: 'header', name: h.name, value: h.value, regex: h.regex, satisfied: one({ method: undefined, headers: [h], query: NONE }) });
  for (const q of c.query) list.push({ on: 'query', name: q.name, value: q.value, regex: q.regex, satisfied: one({ method: undefined, headers: NONE, query: [q] }) });
  return { satisfied: holds(c, asked, url), list };
}

/** `method GET`, `header x-canary = "always"`, `query v ~ /2|3/`. */
export function conditionText(c: ExplainedCondition): string {
  const value = c.regex ? `~ /${c.value}/` : `= ${JSON.stringify(c.value)}`;
  return c.on === 'method' ? `method ${c.value}` : `${c.on} ${c.name} ${value}`;
}

/** The conditions that fail, as a clause: `header x-canary = "always" does not hold`. */
export function failedConditions(route: Route, asked: MatchRequest, url: string): string {
  const failed = (explainConditions(route, asked, url)?.list ?? []).filter((c) => !c.satisfied).map(conditionText);
  return failed.length === 0 ? 'its conditions hold' : `${failed.join(' and ')} ${failed.length === 1 ? 'does' : 'do'} not hold for this request`;
}

export interface WeightedBackend {
  /** `namespace/service:port` as the route wrote it. */
  readonly service: string;
  readonly backend: string | null;
  readonly problem: string | null;
  readonly weight: number;
  /** Its share of the requests, percent. */
  readonly share: number;
  /** The next request (no session cookie naming another) falls to it. */
  readonly next: boolean;
}

export interface Weighting {
  readonly policy: 'smooth-weighted-round-robin';
  readonly backends: readonly WeightedBackend[];
  /** Where the next pick is in the rule's sequence (0-based) and the sequence's length. */
  readonly position: number | null;
  readonly period: number | null;
  readonly note: string;
}

/** The route's weighted backends and where the next pick falls (`choice.peek`, the counter the proxy moves); null: not weighted. */
export function explainWeighting(route: RouteTarget, choice: WeightedChoice, live: boolean, workers: number): { weighting: Weighting; next: RouteTarget | undefined } | null {
  const weighted = route.weighted;
  if (weighted === undefined) return null;
  const total = weighted.reduce((n, t) => n + t.weight, 0);
  const peek = choice.peek(weighted, route.weightKey);
  const next = peek?.target;
  const backends = weighted.map((t) => ({ service: t.describe, backend: t.backend ?? null, problem: t.problem ?? null, weight: t.weight, share: total === 0 ? 0 : Math.round((t.weight / total) * 10_000) / 100, next: t === next }));
  const split = weighted.map((t) => `${t.describe} ${t.weight}`).join(', ');
  const shared = workers > 1 ? `, one sequence for all ${workers} worker threads` : '';
  const when = live ? 'the next request falls to' : 'a proxy that just started sends its first request to';
  const note =
    peek === undefined
      ? 'no backendRef has a weight above 0: every request is answered 500'
      : `weights ${split}: smooth weighted round-robin over a sequence of ${peek.length}${shared}; ${when} ${next!.describe} (position ${peek.position})`;
  return { weighting: { policy: 'smooth-weighted-round-robin', backends, position: peek?.position ?? null, period: peek?.length ?? null, note }, next };
}

/** Session affinity of the route and of its backend, in words; the target a session cookie chooses, when it names a pod. */
export function explainAffinity(route: RouteTarget, backends: ReadonlyMap<string, Backend>, rawHeaders: readonly string[]): { notes: string[]; target: RouteTarget | undefined; named: string | undefined } {
  const notes: string[] = [];
  let target: RouteTarget | undefined;
  let named: string | undefined;
  const cookie = route.sessionCookie;
  if (cookie !== undefined) {
    const sticky = cookieAffinity(route, rawHeaders, backends);
    target = sticky.target;
    named = sticky.named?.key;
    const age = cookie.maxAgeSeconds === undefined ? 'a session cookie' : `max-age ${cookie.maxAgeSeconds} s`;
    const chosen = named === undefined ? 'the request carries no cookie naming a pod in rotation: the pick below decides, and the response sets the cookie' : `the request's cookie names ${named}: it goes there while that pod stays in rotation`;
    notes.push(`cookie affinity: cookie ${cookie.name} (path ${cookie.path}, ${age}); ${chosen}`);
  }
  for (const key of new Set([route.backend, ...(route.weighted ?? []).map((t) => t.backend)])) {
    const b = key === undefined ? undefined : backends.get(key);
    if (b?.clientAffinitySeconds !== undefined) notes.push(`ClientIP affinity: Service ${b.namespace}/${b.service} keeps a client address on one pod for ${b.clientAffinitySeconds} s while it stays ready, across worker threads`);
  }
  return { notes, target, named };
}
