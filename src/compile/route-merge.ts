/**
 * Adds HTTPRoute routes to the route table the Ingress compiler built: one table, one matcher.
 * - Same host and path key as an existing route: the routes form a chain (Route.next) in precedence
 *   order; a route with conditions comes before one without, an Ingress route before an HTTPRoute route
 *   of equal rank. A route after one without conditions can never match: reported, left out.
 * - Wildcard hostnames go to the one-label `wildcards` table (beside an Ingress's `*.suffix`) and to
 *   `deepWildcards`, which covers the deeper names Gateway API wildcards also match.
 * Tables the routes do not touch are shared with the Ingress table, not copied.
 */
import type { Diagnostic, HostRoutes, Route, RouteTable } from '../snapshot/types.ts';
import { compareRank, type RankedRoute } from './gateway-routes.ts';
import { compareRoutes, prefixKey } from './routes.ts';

interface Builder {
  readonly base: HostRoutes | undefined;
  readonly exact: Map<string, RankedRoute[]>;
  readonly prefix: Map<string, RankedRoute[]>;
  readonly regex: RankedRoute[];
}

const NO_RANK: RankedRoute['rank'] = [0, 0, 0];

export function mergeRoutes(table: RouteTable, ranked: readonly RankedRoute[], diagnostics: Diagnostic[]): RouteTable {
  if (ranked.length === 0) return table;
  const hosts = new Map<string, Builder>();
  const wildcards = new Map<string, Builder>();
  const deep = new Map<string, Builder>();
  let anyHost: Builder | undefined;
  const builder = (map: Map<string, Builder>, key: string, base: HostRoutes | undefined): Builder => {
    let b = map.get(key);
    if (!b) map.set(key, (b = { base, exact: new Map(), prefix: new Map(), regex: [] }));
    return b;
  };
  for (const r of ranked) {
    const host = r.route.host;
    const targets: Builder[] = [];
    if (host === '') targets.push((anyHost ??= builder(new Map(), '', table.anyHost)));
    else if (host.startsWith('*.')) {
      const suffix = host.slice(2);
      targets.push(builder(wildcards, suffix, table.wildcards.get(suffix)), builder(deep, suffix, table.deepWildcards?.get(suffix)));
    } else targets.push(builder(hosts, host, table.hosts.get(host)));
    for (const b of targets) add(b, r);
  }
  // A wildcard's routes are linked in two tables: each shadowed route is reported once.
  const shadowed: Diagnostic[] = [];
  const finish = (b: Builder): HostRoutes => finishHost(b, shadowed);
  const merged = (base: ReadonlyMap<string, HostRoutes>, built: Map<string, Builder>): ReadonlyMap<string, HostRoutes> => {
    if (built.size === 0) return base;
    const out = new Map(base);
    for (const [key, b] of built) out.set(key, finish(b));
    return out;
  };
  const deepTables = new Map(table.deepWildcards ?? []);
  for (const [key, b] of deep) deepTables.set(key, finish(b));
  const hostTables = merged(table.hosts, hosts);
  const wildcardTables = merged(table.wildcards, wildcards);
  const anyHostTable = anyHost ? finish(anyHost) : table.anyHost;
  const seen = new Set<string>();
  for (const d of shadowed) {
    const key = `${d.kind}|${d.namespace}|${d.name}|${d.message}`;
    if (!seen.has(key)) diagnostics.push(d);
    seen.add(key);
  }
  return {
    hosts: hostTables,
    wildcards: wildcardTables,
    anyHost: anyHostTable,
    ...(deepTables.size > 0 ? { deepWildcards: deepTables } : {}),
    defaultBackend: table.defaultBackend,
    list: [...table.list, ...ranked.map((r) => r.route)].sort(compareRoutes),
  };
}

function add(b: Builder, r: RankedRoute): void {
  const { route } = r;
  if (route.pathType === 'RegularExpression') {
    b.regex.push(r);
    return;
  }
  const exact = route.pathType === 'Exact';
  const map = exact ? b.exact : b.prefix;
  const key = exact ? route.path : prefixKey(route.path);
  let chain = map.get(key);
  if (!chain) {
    const existing = (exact ? b.base?.exact : b.base?.prefix)?.get(key);
    // An Ingress route (no conditions) already there leads the routes of its rank.
    map.set(key, (chain = existing ? [{ route: existing, rank: NO_RANK }] : []));
  }
  chain.push(r);
}

function finishHost(b: Builder, diagnostics: Diagnostic[]): HostRoutes {
  const exact = new Map(b.base?.exact ?? []);
  const prefix = new Map(b.base?.prefix ?? []);
  for (const [key, chain] of b.exact) exact.set(key, link(chain, diagnostics));
  for (const [key, chain] of b.prefix) prefix.set(key, link(chain, diagnostics));
  const regex = [...(b.base?.regex ?? []), ...b.regex.sort((x, y) => y.route.path.length - x.route.path.length || compareRank(x.rank, y.rank)).map((r) => r.route)];
  return { exact, prefix, ...(regex.length > 0 ? { regex } : {}) };
}

/** The head of a chain in precedence order (stable: equal ranks keep their order). */
function link(chain: RankedRoute[], diagnostics: Diagnostic[]): Route {
  const sorted = [...chain].sort((x, y) => compareRank(x.rank, y.rank));
  let cut = sorted.findIndex((r) => r.route.conditions === undefined);
  if (cut < 0) cut = sorted.length - 1;
  for (const r of sorted.slice(cut + 1)) {
    const winner = sorted[cut]!.route;
    const [namespace = '', name = ''] = r.route.ingress.split('/');
    diagnostics.push({
      severity: 'info',
      code: 'HTTPROUTE_MATCH_SHADOWED',
      kind: r.route.routeKind ?? 'Ingress',
      namespace,
      name,
      message: `host ${r.route.host || '*'} path ${r.route.path} (${r.route.pathType}): never matches, ${winner.routeKind ?? 'Ingress'} ${winner.ingress} takes every request there first`,
    });
  }
  // Built from the last kept to the first, each pointing at the next; the Ingress route, if any, is
  // never copied (it is last when kept, having no conditions).
  let next: Route | undefined;
  for (let i = cut; i >= 0; i--) {
    const route = sorted[i]!.route;
    next = next === undefined ? route : { ...route, next };
  }
  return next!;
}
