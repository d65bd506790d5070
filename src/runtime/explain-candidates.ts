/**
 * The rules that did not win a request, and why, for `explain`. The winner is never chosen here (it is
 * what matchRoute returns); the losers are found by walking the route table and asking matchHost and
 * matchPath about each one alone, so "would it match" is answered by the router's own code.
 */
import { prefixKey } from '../compile/routes.ts';
import { matchHost, matchPath } from '../dataplane/match.ts';
import type { Diagnostic, HostRoutes, Route, RouteTable, RouteTarget } from '../snapshot/types.ts';

/** A rule that could have answered the request and did not. */
export interface Loser {
  /** `host path (PathType)`, `host *.suffix`, `default backend`… */
  readonly rule: string;
  /** `namespace/name` of the Ingress behind it, when one is. */
  readonly ingress: string | null;
  readonly service: string | null;
  readonly reason: string;
}

export type HostMatch = 'exact' | 'wildcard' | 'any-host' | 'none';

export interface HostChoice {
  readonly match: HostMatch;
  /** The host rule as written (`demo.localhost`, `*.example.com`, `*` for rules without a host); null for none. */
  readonly rule: string | null;
  readonly routes: HostRoutes | undefined;
}

const NO_ROUTES: ReadonlyMap<string, Route> = new Map();

/** Which host rule matchHost chose, told apart by identity with the table's maps. */
export function chooseHost(table: RouteTable, host: string): HostChoice {
  const routes = matchHost(table, host);
  if (routes === undefined) return { match: 'none', rule: null, routes };
  if (routes === table.hosts.get(host)) return { match: 'exact', rule: host, routes };
  if (routes === table.anyHost) return { match: 'any-host', rule: '*', routes };
  return { match: 'wildcard', rule: `*.${host.slice(host.indexOf('.') + 1)}`, routes };
}

/** `host path (PathType)`; `*` for a rule without a host. */
export function ruleName(route: Route): string {
  return `${route.host === '' ? '*' : route.host} ${route.path} (${route.pathType})`;
}

/** Host rules that were not chosen: a wildcard behind an exact host, rules without a host, wildcards one label off. */
export function hostLosers(table: RouteTable, host: string, choice: HostChoice, path: string): Loser[] {
  const losers: Loser[] = [];
  const would = (routes: HostRoutes): string => {
    const hit = matchPath(routes, path) as Route | undefined;
    return hit ? `; its rule ${hit.path} (${hit.pathType}) would have matched the path, but the host is chosen first` : '';
  };
  const dot = host.indexOf('.');
  const ownSuffix = dot > 0 ? host.slice(dot + 1) : undefined;
  for (const [suffix, routes] of table.wildcards) {
    if (routes === choice.routes) continue;
    let reason: string | undefined;
    if (suffix === ownSuffix) reason = `an exact host rule is chosen before a wildcard${would(routes)}`;
    else if (host === suffix) reason = `*.${suffix} covers one more label, not ${suffix} itself`;
    else if (host.endsWith(`.${suffix}`)) reason = `*.${suffix} covers exactly one label before ${suffix}; ${host} has more`;
    if (reason !== undefined) losers.push({ rule: `host *.${suffix}`, ingress: null, service: null, reason });
  }
  if (table.anyHost !== undefined && choice.match !== 'any-host' && choice.match !== 'none') {
    losers.push({ rule: 'rules without a host (*)', ingress: null, service: null, reason: `they apply only to hosts no rule names; host rule ${choice.rule} matched${would(table.anyHost)}` });
  }
  return losers;
}

/** The chosen host's paths that lost to `winner` (undefined: none of them matched), matching ones first. */
export function pathLosers(routes: HostRoutes, path: string, winner: RouteTarget | undefined): Loser[] {
  const matching: Loser[] = [];
  const others: Loser[] = [];
  const exactWon = winner !== undefined && (winner as Route).pathType === 'Exact';
  for (const route of routes.exact.values()) {
    if (route === winner) continue;
    others.push(loser(route, `Exact ${route.path} must equal the path ${path}`));
  }
  for (const [key, route] of routes.prefix) {
    if (route === winner) continue;
    const alone: HostRoutes = { exact: NO_ROUTES, prefix: new Map([[key, route]]) };
    if (matchPath(alone, path) === route) {
      const why = exactWon ? 'an Exact path equal to the request is chosen before any Prefix' : `the longer Prefix ${(winner as Route).path} is chosen (longest prefix first)`;
      matching.push(loser(route, `matches too, but ${why}`));
    } else if (key !== '' && path.startsWith(key)) {
      others.push(loser(route, `Prefix compares whole path elements: ${path} is neither ${key} nor under ${key}/`));
    } else {
      others.push(loser(route, `${route.path} is not a prefix of ${path}`));
    }
  }
  return [...matching, ...others];
}

/**
 * Rules for the same host, path and type that an older Ingress already claimed (INGRESS_RULE_CONFLICT),
 * or default backends behind the oldest one (INGRESS_DEFAULT_BACKEND_CONFLICT).
 */
export function conflictLosers(diagnostics: readonly Diagnostic[], winner: RouteTarget, isDefault: boolean): Loser[] {
  const losers: Loser[] = [];
  const route = isDefault ? undefined : (winner as Route);
  for (const d of diagnostics) {
    const ingress = `${d.namespace}/${d.name}`;
    if (isDefault && d.code === 'INGRESS_DEFAULT_BACKEND_CONFLICT') {
      losers.push({ rule: 'default backend', ingress, service: null, reason: d.message });
    } else if (route !== undefined && d.code === 'INGRESS_RULE_CONFLICT') {
      const m = /^host (".*?") path (".*?") \((\w+)\) ignored: (.*)$/.exec(d.message);
      if (!m || JSON.parse(m[1]!) !== (route.host || '*') || m[3] !== route.pathType) continue;
      const p = JSON.parse(m[2]!) as string;
      if (route.pathType === 'Exact' ? p !== route.path : prefixKey(p) !== prefixKey(route.path)) continue;
      losers.push({ rule: `${route.host || '*'} ${p} (${route.pathType})`, ingress, service: null, reason: `the same rule, ignored: ${m[4]} (the oldest Ingress keeps it)` });
    }
  }
  return losers;
}

function loser(route: Route, reason: string): Loser {
  return { rule: ruleName(route), ingress: route.ingress, service: route.describe, reason };
}
