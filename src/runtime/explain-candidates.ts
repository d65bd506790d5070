/**
 * The rules that did not win a request, and why, for `explain`. The winner is never chosen here (it is
 * what matchRoute returns); the losers are found by walking the route table and asking matchHost and
 * matchPath about each one alone, so "would it match" is answered by the router's own code.
 */
import { prefixKey } from '../compile/routes.ts';
import { holds, matchHost, matchPath, type MatchRequest } from '../dataplane/match.ts';
import { conditionText, explainConditions, failedConditions } from './explain-weighted.ts';
import type { Diagnostic, HostRoutes, Route, RouteTable, RouteTarget } from '../snapshot/types.ts';

/** A rule that could have answered the request and did not. */
export interface Loser {
  /** `host path (PathType)`, `host *.suffix`, `default backend`… */
  readonly rule: string;
  /** `namespace/name` of the Ingress (or route, see `kind`) behind it, when one is. */
  readonly ingress: string | null;
  /** The kind of that object when not an Ingress; absent: Ingress. */
  readonly kind?: 'HTTPRoute' | 'GRPCRoute';
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
const NO_REQUEST: MatchRequest = { method: '', rawHeaders: [] };

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

/**
 * The chosen host's paths that lost to `winner` (undefined: none of them matched), matching ones first.
 * Each route of a chain (routes of one path with conditions, in precedence order) is a rule of its own:
 * one whose path matches loses for its conditions (`asked`, `url`: the request as the matcher reads it),
 * or to the winner ranked above it, or to a more specific path.
 */
export function pathLosers(routes: HostRoutes, path: string, winner: RouteTarget | undefined, asked?: MatchRequest, url?: string): Loser[] {
  const matching: Loser[] = [];
  const others: Loser[] = [];
  const won = winner as Route | undefined;
  const first =
    won?.pathType === 'Exact'
      ? 'an Exact path equal to the request is chosen before any Prefix'
      : won?.pathType === 'RegularExpression'
        ? `the RegularExpression ${won.path} is tried before any Prefix`
        : `the longer Prefix ${won?.path} is chosen (longest prefix first)`;
  const chain = (head: Route, pathMatches: boolean, miss: (r: Route) => string): void => {
    let afterWinner = false;
    for (let r: Route | undefined = head; r !== undefined; r = r.next) {
      if (r === winner) afterWinner = true;
      else if (!pathMatches) others.push(loser(r, miss(r)));
      else if (afterWinner) matching.push(loser(r, `matches too, but the rule ranked above it for the same path matched first${r.routeKind === undefined ? '' : " (the spec's order: method, then headers, then query parameters, then age)"}`));
      else if (r.conditions !== undefined && !holds(r.conditions, asked, url)) matching.push(loser(r, `the path matches, but ${failedConditions(r, asked ?? NO_REQUEST, url ?? path)}`));
      else matching.push(loser(r, `matches too, but ${first}`));
    }
  };
  const bare = (r: Route): Route => ({ ...r, conditions: undefined, next: undefined });
  for (const [key, head] of routes.exact) chain(head, key === path, (r) => `Exact ${r.path} must equal the path ${path}`);
  for (const r of routes.regex ?? []) {
    chain(r, matchPath({ exact: NO_ROUTES, prefix: NO_ROUTES, regex: [bare(r)] }, path) !== undefined, () => `the pattern ${r.path} does not match ${path} whole`);
  }
  for (const [key, head] of routes.prefix) {
    const covers = matchPath({ exact: NO_ROUTES, prefix: new Map([[key, bare(head)]]) }, path) !== undefined;
    chain(head, covers, (r) => (key !== '' && path.startsWith(key) ? `Prefix compares whole path elements: ${path} is neither ${key} nor under ${key}/` : `${r.path} is not a prefix of ${path}`));
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
  const when = route.conditions === undefined ? '' : ` when ${(explainConditions(route, NO_REQUEST, '') ?? { list: [] }).list.map(conditionText).join(' and ')}`;
  return { rule: `${ruleName(route)}${when}`, ingress: route.ingress, ...(route.routeKind !== undefined ? { kind: route.routeKind } : {}), service: route.describe, reason };
}
