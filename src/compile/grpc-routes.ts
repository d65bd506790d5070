/**
 * GRPCRoutes attached to Switchyard's Gateways → routes of the same tables HTTPRoutes fill (one matcher).
 * A gRPC call is `POST /<service>/<method>` with content-type `application/grpc…`, so a match becomes a
 * path and conditions:
 * - service and method (Exact) → the Exact path `/service/method`;
 * - service only → the prefix `/service` (element-wise: every method of it);
 * - method only → the pattern `/[^/]+/method`; RegularExpression → `/(?:service)/(?:method)` (each
 *   defaulting to `[^/]+`), in the linear dialect of model/linear-regex.ts;
 * - no method match → the prefix `/`;
 * and every route requires method POST and content-type `application/grpc` (`+…`, `;…`) besides its
 * header matches, so a request that is not a gRPC call never takes a GRPCRoute: it goes on to the other
 * routes of its host (an HTTPRoute sharing the hostname), else is answered 404.
 *
 * Precedence, the spec's (GRPCRouteRule.matches): the host table decides the hostname; then more service
 * characters, then more method characters, then more header matches, then the older route, then
 * namespace/name, then rule and match order. The table tries an Exact path, then patterns, then
 * prefixes, which orders Exact service+method first and an empty match last; a method-only pattern would
 * come before a service-only prefix the spec ranks above it, so each such pair of one host gets the
 * Exact path `/service/method` of the service-only route, ranked below genuine Exact matches.
 * RegularExpression matches rank with the patterns (Switchyard's choice: the spec's character counts do
 * not say how to count a pattern).
 *
 * Backends (and RequestMirror targets): a GRPCRoute's pods are spoken to over HTTP/2 cleartext unless the
 * Service port says otherwise (appProtocol, `switchyard.dev/backend-protocol`): an HTTP/1.1-by-default
 * Service port gets a backend variant `<key>/h2c` (same endpoints and policy) that only GRPCRoutes use.
 */
import type { GrpcRouteMatchRec, GrpcRouteRec, ReferenceGrantRec } from '../model/gateway-records.ts';
import { serviceKey } from '../model/keys.ts';
import type { StoreView } from '../model/store-view.ts';
import type { Backend, Diagnostic, Route, RouteConditions, RouteFilters, RouteMirror, RouteTarget, ServiceView, ValueCondition } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';
import { attachRoutes, intersectHostnames, newAttachReport, type AttachReport, type Attachment } from './gateway-attach.ts';
import { resolveBackendRef, ruleTarget, type RuleTarget } from './gateway-backends.ts';
import { compileFilters, reportUnsupportedFilters } from './gateway-filters.ts';
import { patternProblem, valueMatchesProblem, type RankedRoute } from './gateway-routes.ts';
import { ANNOTATION_PREFIX } from './policy.ts';
import { compareByAge } from './routes.ts';

export interface CompiledGrpcRoutes {
  /** In precedence order, to be merged with the HTTPRoutes' (route-merge.ts). */
  readonly routes: RankedRoute[];
  /** The `/h2c` backend variants the routes use, to add to the snapshot's backends. */
  readonly backends: ReadonlyMap<string, Backend>;
  readonly diagnostics: Diagnostic[];
}

/** What makes a request a gRPC call (gRPC over HTTP/2, PROTOCOL-HTTP2.md), as a header condition. */
const GRPC_CONTENT_TYPE: ValueCondition = Object.freeze({ name: 'content-type', value: 'application/grpc([+;].*)?', regex: true });
const ANY_ELEMENT = '[^/]+';

/** How a match maps onto the route table. */
interface MatchPath {
  readonly path: string;
  readonly pathType: Route['pathType'];
  /** Exact service only (a prefix), Exact method only (a pattern), other. */
  readonly shape: 'service' | 'method' | 'other';
  readonly method: string | undefined;
}

/**
 * `report` is the AttachReport the HTTPRoutes filled (for status); `backends` the snapshot's, to which the
 * returned variants are added.
 */
export function compileGrpcRoutes(
  view: StoreView,
  services: ReadonlyMap<string, ServiceView>,
  backends: ReadonlyMap<string, Backend>,
  options: { readonly controllerName?: string },
  report: AttachReport = newAttachReport(),
): CompiledGrpcRoutes {
  if (view.grpcRoutes === undefined || view.grpcRoutes.size === 0) return { routes: [], backends: new Map(), diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const attachDiagnostics: Diagnostic[] = [];
  const attachments = attachRoutes(view, options.controllerName, attachDiagnostics, report, view.grpcRoutes.values()).sort((a, b) => compareByAge(a.route, b.route));
  // The Gateways' own diagnostics were reported with the HTTPRoutes.
  diagnostics.push(...attachDiagnostics.filter((d) => d.kind === 'GRPCRoute'));
  reportSharedHostnames(view, options.controllerName, attachments, diagnostics);
  const grants = [...(view.referenceGrants?.values() ?? [])];
  const variants = new Map<string, Backend>();
  const h2c = (key: string): string => h2cKey(key, view, services, backends, variants);
  const ranked: { r: RankedRoute; order: number; shape: MatchPath['shape']; m: MatchPath }[] = [];
  let order = 0;
  for (const { route, hosts } of attachments) {
    const ingress = serviceKey(route.meta.namespace, route.meta.name);
    route.rules.forEach((rule, ri) => {
      reportUnsupportedFilters(route, ri, rule.filters, diagnostics);
      const filters = ruleFilters(route, ri, grants, services, h2c, diagnostics);
      const target = withH2c(ruleTarget(route, ri, rule.backendRefs, services, grants, diagnostics), h2c);
      rule.matches.forEach((match, mi) => {
        const problem = matchProblem(match);
        if (problem !== undefined) {
          diagnostics.push(diag('warning', 'GRPCROUTE_REGEX_INVALID', route, `spec.rules[${ri}].matches[${mi}]: ${problem}; this match is not served`));
          return;
        }
        const m = matchPath(match);
        const conditions = conditionsOf(match);
        const rank = rankOf(match);
        for (const [host, listenerPorts] of hosts) {
          const r: Route = { host, path: m.path, pathType: m.pathType, redirectToHttps: false, ...target, ingress, routeKind: 'GRPCRoute', ...(filters !== undefined ? { filters } : {}), conditions, listenerPorts };
          ranked.push({ r: { route: r, rank }, order: order++, shape: m.shape, m });
        }
      });
    });
  }
  // The spec puts a service-only match above a method-only one: the pair's path goes to the service's route.
  const paired = new Set<string>();
  for (const s of ranked.filter((x) => x.shape === 'service')) {
    for (const m of ranked.filter((x) => x.shape === 'method' && x.r.route.host === s.r.route.host)) {
      const pair = `${s.order}|${m.m.method!}`;
      if (paired.has(pair)) continue;
      paired.add(pair);
      const route: Route = { ...s.r.route, path: `${s.r.route.path}/${m.m.method!}`, pathType: 'Exact' };
      ranked.push({ r: { route, rank: [0, s.r.rank[1], 0] }, order: s.order, shape: 'other', m: s.m });
    }
  }
  ranked.sort((a, b) => b.r.rank[0] - a.r.rank[0] || b.r.rank[1] - a.r.rank[1] || a.order - b.order);
  return { routes: ranked.map((x) => x.r), backends: variants, diagnostics };
}

function matchPath(match: GrpcRouteMatchRec): MatchPath {
  const mm = match.method;
  if (mm === undefined) return { path: '/', pathType: 'Prefix', shape: 'other', method: undefined };
  if (mm.type === 'RegularExpression') return { path: `/(?:${mm.service ?? ANY_ELEMENT})/(?:${mm.method ?? ANY_ELEMENT})`, pathType: 'RegularExpression', shape: 'other', method: undefined };
  // A fully-qualified name's leading dot (`.pkg.Service`) is not part of the `:path` a client sends.
  const service = mm.service?.replace(/^\./, '');
  if (service !== undefined && mm.method !== undefined) return { path: `/${service}/${mm.method}`, pathType: 'Exact', shape: 'other', method: mm.method };
  if (service !== undefined) return { path: `/${service}`, pathType: 'Prefix', shape: 'service', method: undefined };
  // Exact method names are [A-Za-z_][A-Za-z_0-9]* (the CRD's rule): nothing to escape.
  return { path: `/${ANY_ELEMENT}/${mm.method!}`, pathType: 'RegularExpression', shape: 'method', method: mm.method };
}

/**
 * Ordered as an HTTPRoute match of method POST with the content-type and the route's header conditions
 * (route-merge.ts compares HTTPRoute and GRPCRoute routes sharing a path key that way).
 */
function rankOf(match: GrpcRouteMatchRec): RankedRoute['rank'] {
  return [1, 1 + match.headers.length, 0];
}

function conditionsOf(match: GrpcRouteMatchRec): RouteConditions {
  const headers = match.headers.map((h): ValueCondition => ({ name: h.name, value: h.value, regex: h.type === 'RegularExpression' }));
  return { method: 'POST', headers: [GRPC_CONTENT_TYPE, ...headers], query: [] };
}

/** The first unusable pattern of a match, worded for the diagnostic. */
function matchProblem(match: GrpcRouteMatchRec): string | undefined {
  const mm = match.method;
  const method = mm?.type === 'RegularExpression' ? (patternProblem('service', mm.service) ?? patternProblem('method', mm.method) ?? patternProblem('service/method', matchPath(match).path)) : undefined;
  return method ?? valueMatchesProblem('header', match.headers);
}

/**
 * The backend key GRPCRoutes use for Service port backend `key`: its h2c variant (made on first use) when
 * the port is spoken to over HTTP/1.1 only by default, else `key` itself.
 */
function h2cKey(key: string, view: StoreView, services: ReadonlyMap<string, ServiceView>, backends: ReadonlyMap<string, Backend>, variants: Map<string, Backend>): string {
  const backend = backends.get(key);
  if (backend === undefined || backend.upstream.protocol !== 'http1') return key;
  const said = services.get(serviceKey(backend.namespace, backend.service))?.ports.find((p) => p.backend === key)?.appProtocol;
  const annotated = view.services.get(`Service/${backend.namespace}/${backend.service}`)?.meta.annotations[`${ANNOTATION_PREFIX}backend-protocol`];
  if (said !== undefined || annotated !== undefined) return key;
  const variant = `${key}/h2c`;
  if (!variants.has(variant)) variants.set(variant, { ...backend, key: variant, upstream: { protocol: 'h2c', caPem: undefined }, variantOf: key });
  return variant;
}

/** `target` with each backend replaced by the one GRPCRoutes use (h2cKey). */
function withH2c(target: RuleTarget, h2c: (key: string) => string): RuleTarget {
  const swap = <T extends Pick<RouteTarget, 'backend'>>(t: T): T => (t.backend === undefined ? t : { ...t, backend: h2c(t.backend) });
  const out = swap(target);
  return target.weighted === undefined ? out : { ...out, weighted: target.weighted.map(swap) };
}

/**
 * A rule's header modifiers and mirrors (RequestMirror as HTTPRoute's, its Service port spoken to as the
 * route's backends are); undefined when it has none. A mirror that does not resolve is left out, reported.
 */
function ruleFilters(route: GrpcRouteRec, ri: number, grants: readonly ReferenceGrantRec[], services: ReadonlyMap<string, ServiceView>, h2c: (key: string) => string, diagnostics: Diagnostic[]): RouteFilters | undefined {
  const filters = route.rules[ri]!.filters;
  const base = compileFilters(filters);
  const mirrors: RouteMirror[] = [];
  filters.forEach((f, i) => {
    if (f.type !== 'RequestMirror' || f.numerator === 0) return;
    const outcome = resolveBackendRef(route, f.backendRef, services, grants);
    if ('backend' in outcome) mirrors.push({ backend: h2c(outcome.backend), numerator: f.numerator, denominator: f.denominator });
    else {
      const describe = `${serviceKey(f.backendRef.namespace, f.backendRef.name)}:${f.backendRef.port ?? '?'}`;
      diagnostics.push(diag('warning', 'GRPCROUTE_BACKEND_UNRESOLVED', route, `spec.rules[${ri}].filters[${i}].requestMirror.backendRef ${describe}: ${outcome.message}; calls are not mirrored there (reason ${outcome.reason})`));
    }
  });
  if (mirrors.length === 0) return base;
  return { requestHeaders: base?.requestHeaders, responseHeaders: base?.responseHeaders, redirect: undefined, rewrite: undefined, mirrors };
}

/**
 * The spec lets an implementation refuse one of an HTTPRoute and a GRPCRoute sharing a hostname on a
 * listener (v1.1 said MUST, v1.6's guide MAY); Switchyard serves both, and says so: gRPC calls that a
 * GRPCRoute match takes go to it, every other request to the HTTPRoute.
 */
function reportSharedHostnames(view: StoreView, controllerName: string | undefined, grpc: readonly Attachment<GrpcRouteRec>[], diagnostics: Diagnostic[]): void {
  if (grpc.length === 0 || view.httpRoutes === undefined || view.httpRoutes.size === 0) return;
  const http = attachRoutes(view, controllerName, [], newAttachReport());
  const overlap = (a: string, b: string): boolean => a === '' || b === '' || intersectHostnames(a, [b]).length > 0;
  for (const g of grpc) {
    const shared = new Set<string>();
    for (const [host, ports] of g.hosts) {
      for (const h of http) {
        for (const [other, otherPorts] of h.hosts) {
          const port = ports.find((p) => otherPorts.includes(p));
          if (port !== undefined && overlap(host, other)) shared.add(`${host || '*'} (port ${port}) with HTTPRoute ${h.route.meta.namespace}/${h.route.meta.name}`);
        }
      }
    }
    for (const s of shared) {
      diagnostics.push(diag('info', 'GRPCROUTE_HOSTNAME_SHARED', g.route, `hostname ${s}: both are served; gRPC calls this GRPCRoute matches go to it, other requests to the HTTPRoute`));
    }
  }
}
