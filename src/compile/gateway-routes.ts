/**
 * HTTPRoutes attached to Switchyard's Gateways → routes of the one route table, in the precedence the
 * spec orders (HTTPRouteRule docs, gateway.networking.k8s.io/v1): within a hostname, an Exact path before
 * any prefix, a longer prefix before a shorter one (the table's maps give those two), then a method
 * match, then more header matches, then more query parameter matches; ties go to the older route
 * (creationTimestamp), then to `namespace/name` alphabetically, then to the rule and match listed first.
 *
 * Switchyard's choices where the spec leaves them to implementations: a RegularExpression path ranks after
 * Exact and before PathPrefix (longer patterns first), as Envoy Gateway orders them; its dialect is
 * model/linear-regex.ts's. One route per match, hostname and (for wildcards) table.
 */
import type { HttpRouteMatchRec, HttpRouteRec, HttpValueMatchRec } from '../model/gateway-records.ts';
import { regexProblem } from '../model/linear-regex.ts';
import type { StoreView } from '../model/store-view.ts';
import { serviceKey } from '../model/keys.ts';
import type { Diagnostic, Route, RouteConditions, ServiceView } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';
import { attachRoutes, newAttachReport, type AttachReport } from './gateway-attach.ts';
import { ruleTarget } from './gateway-backends.ts';
import { compileRuleFilters, reportUnsupportedFilters } from './gateway-filters.ts';
import { compareByAge } from './routes.ts';
import { routeSessionCookie } from './session-affinity.ts';

/** A route with what orders it against routes of the same host and path. */
export interface RankedRoute {
  readonly route: Route;
  readonly rank: readonly [method: number, headers: number, query: number];
}

export interface CompiledGatewayRoutes {
  /** In precedence order, for route-merge.ts. */
  readonly routes: RankedRoute[];
  readonly diagnostics: Diagnostic[];
  /** Where each route attached or why not, for status (compile/gateway-status.ts). */
  readonly attach: AttachReport;
}

export interface GatewayRouteOptions {
  /** --gateway-controller-name; default `switchyard.dev/gateway-controller`. */
  readonly controllerName?: string;
}

const NO_CONDITIONS = undefined;
const NO_BACKEND = { backend: undefined, problem: undefined, describe: '(redirect)' } as const;

export function compileGatewayRoutes(view: StoreView, services: ReadonlyMap<string, ServiceView>, options: GatewayRouteOptions): CompiledGatewayRoutes {
  const diagnostics: Diagnostic[] = [];
  const attach = newAttachReport();
  const attachments = attachRoutes(view, options.controllerName, diagnostics, attach).sort((a, b) => compareByAge(a.route, b.route));
  const grants = [...(view.referenceGrants?.values() ?? [])];
  const ranked: { r: RankedRoute; order: number }[] = [];
  let order = 0;
  for (const { route, hosts } of attachments) {
    const ingress = serviceKey(route.meta.namespace, route.meta.name);
    route.rules.forEach((rule, ri) => {
      reportUnsupportedFilters(route, ri, rule.filters, diagnostics);
      const filters = compileRuleFilters(route, ri, rule, services, grants, diagnostics);
      // A redirect answers by itself: its rule needs no backend.
      const target = filters?.redirect !== undefined && rule.backendRefs.length === 0 ? NO_BACKEND : ruleTarget(route, ri, rule.backendRefs, services, grants, diagnostics);
      const sessionCookie = routeSessionCookie(route, ri, rule.sessionPersistence, diagnostics);
      rule.matches.forEach((m, mi) => {
        const problem = matchProblem(m);
        if (problem !== undefined) {
          diagnostics.push(diag('warning', 'HTTPROUTE_REGEX_INVALID', route, `spec.rules[${ri}].matches[${mi}]: ${problem}; this match is not served`));
          return;
        }
        const conditions = conditionsOf(m);
        for (const [host, listenerPorts] of hosts) {
          const r: Route = {
            host,
            path: m.path.value,
            pathType: m.path.type === 'PathPrefix' ? 'Prefix' : m.path.type,
            redirectToHttps: false,
            ...target,
            ingress,
            routeKind: 'HTTPRoute',
            ...(filters !== undefined ? { filters } : {}),
            ...(conditions !== NO_CONDITIONS ? { conditions } : {}),
            ...(sessionCookie !== undefined ? { sessionCookie: sessionCookie(m.path.value, m.path.type) } : {}),
            listenerPorts,
          };
          ranked.push({ r: { route: r, rank: [m.method !== undefined ? 1 : 0, m.headers.length, m.queryParams.length] }, order: order++ });
        }
      });
    });
  }
  // Attachments are oldest first and rules, matches in their order: `order` is the spec's tie-break.
  ranked.sort((a, b) => compareRank(a.r.rank, b.r.rank) || a.order - b.order);
  return { routes: ranked.map((x) => x.r), diagnostics, attach };
}

/** Higher rank first: method, then header count, then query parameter count. */
export function compareRank(a: RankedRoute['rank'], b: RankedRoute['rank']): number {
  return b[0] - a[0] || b[1] - a[1] || b[2] - a[2];
}

function conditionsOf(m: HttpRouteMatchRec): RouteConditions | undefined {
  if (m.method === undefined && m.headers.length === 0 && m.queryParams.length === 0) return NO_CONDITIONS;
  const cond = (v: HttpRouteMatchRec['headers'][number]) => ({ name: v.name, value: v.value, regex: v.type === 'RegularExpression' });
  return { method: m.method, headers: m.headers.map(cond), query: m.queryParams.map(cond) };
}

/** The first invalid pattern of a match, worded for the diagnostic. */
function matchProblem(m: HttpRouteMatchRec): string | undefined {
  return (m.path.type === 'RegularExpression' ? patternProblem('path', m.path.value) : undefined) ?? valueMatchesProblem('header', m.headers) ?? valueMatchesProblem('query parameter', m.queryParams);
}

/**
 * Why `pattern` (a match's RegularExpression, named `what` in the diagnostic) is not usable; undefined:
 * usable, or no pattern. Compiling it also fills the cache the data plane reads (in this thread).
 */
export function patternProblem(what: string, pattern: string | undefined): string | undefined {
  const problem = pattern === undefined ? undefined : regexProblem(pattern);
  return problem === undefined ? undefined : `${what} ${JSON.stringify(pattern)} is not a usable regular expression: ${problem}`;
}

/** The first unusable RegularExpression among header (`what` = 'header') or query parameter matches. */
export function valueMatchesProblem(what: string, matches: readonly HttpValueMatchRec[]): string | undefined {
  for (const v of matches) {
    const p = v.type === 'RegularExpression' ? patternProblem(`${what} ${v.name}`, v.value) : undefined;
    if (p !== undefined) return p;
  }
  return undefined;
}

