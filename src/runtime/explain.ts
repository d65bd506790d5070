/**
 * `explain`: the routing decision for one request, in words and as data. The winner is what the data
 * plane's matchRoute returns for the request's host and path; the losers, the backend's endpoints with
 * their state (the admin API's endpointView) and the next round-robin pick (RoundRobin#peek) are read
 * from the same snapshot, health registry and balancer the proxy uses. Nothing here decides anything
 * the router does not. A weighted route (HTTPRoute backendRefs, an Ingress canary) is explained through
 * the backend its next pick falls to (explain-weighted.ts), with the weights beside it.
 */
import { endpointView } from '../admin/views.ts';
import type { RoundRobin } from '../dataplane/balancer.ts';
import { skipsHttpsRedirect } from '../dataplane/https-redirect.ts';
import { matchPath, matchRoute } from '../dataplane/match.ts';
import type { EndpointHealth } from '../health/endpoint-health.ts';
import type { Backend, Route, RouteTarget, Snapshot } from '../snapshot/types.ts';
import { chooseHost, conflictLosers, hostLosers, pathLosers, type HostMatch, type Loser } from './explain-candidates.ts';
import type { ExplainRequest } from './explain-request.ts';
import { hintsFor } from './explain-hints.ts';
import { WeightedChoice } from '../dataplane/weighted.ts';
import { explainAffinity, explainConditions, explainWeighting, type ExplainedConditions, type Weighting } from './explain-weighted.ts';

export type { Loser } from './explain-candidates.ts';

export interface ExplainContext {
  readonly snapshot: Pick<Snapshot, 'routes' | 'backends' | 'diagnostics' | 'gatewayPorts'>;
  readonly health: EndpointHealth;
  /** The balancer whose next pick to tell (with several worker threads, one on their shared cursors). */
  readonly balancer: RoundRobin;
  /** False for `switchyard explain` over manifests: the balancer is a fresh one, as after start-up. */
  readonly live: boolean;
  /** Data-plane workers (--workers). */
  readonly workers: number;
  /** Whether a TLS listener is open (--listen-tls): only then are plain-HTTP requests redirected. */
  readonly tlsListener: boolean;
  /** The weighted choice whose next pick to tell (the data plane's; with workers, on their shared counters); default a fresh one (position 0). */
  readonly weighted?: WeightedChoice;
}

/**
 * What becomes of the request: forwarded to a pod, redirected to https, refused for its path (400), no
 * route (404), a route whose Service or port does not resolve (503), a weighted route whose next pick
 * falls to a backendRef that does not resolve, or to none (500), or no endpoint to send it to (503).
 */
export type Outcome = 'forward' | 'redirect' | 'bad-path' | 'no-route' | 'backend-unresolved' | 'backend-invalid' | 'no-endpoints';

export interface ExplainedRoute {
  /** `*` for a rule without a host; null for the default backend. */
  readonly host: string | null;
  readonly path: string | null;
  readonly pathType: string | null;
  readonly default: boolean;
  /** `namespace/name` of the object that defined it (kept under this name for older clients; also `name`). */
  readonly ingress: string;
  /** The kind of that object. */
  readonly kind: 'Ingress' | 'HTTPRoute' | 'GRPCRoute';
  /** `namespace/name` of that object. */
  readonly name: string;
  /** Method, header and query conditions and whether the request meets each; null: none. */
  readonly conditions: ExplainedConditions | null;
  /** `namespace/service:port` as the route wrote it (weighted: each with its weight). */
  readonly service: string;
  readonly backend: string | null;
  readonly problem: string | null;
  readonly reason: string;
}

export interface Explanation {
  readonly request: Omit<ExplainRequest, 'headers'>;
  /** True when a route (or the default backend) matched: exit 0. */
  readonly matched: boolean;
  readonly outcome: Outcome;
  /** The status the proxy answers itself; null when the pod answers. */
  readonly status: number | null;
  readonly summary: string;
  readonly host: { readonly match: HostMatch; readonly rule: string | null; readonly reason: string };
  readonly route: ExplainedRoute | null;
  readonly losers: readonly Loser[];
  /** Losers past MAX_LOSERS, not listed. */
  readonly losersOmitted: number;
  /** Ingresses not served at all (INGRESS_CLASS_IGNORED), with why. */
  readonly ignored: readonly { readonly ingress: string; readonly reason: string }[];
  readonly backend: { readonly key: string; readonly service: string; readonly port: number; readonly portName: string; readonly terminatingFallback: boolean } | null;
  readonly endpoints: readonly (ReturnType<typeof endpointView> & { readonly key: string; readonly inRotation: boolean })[];
  readonly balancing: Balancing | null;
  /** The weighted backends of the route and where the next pick falls; null: one backend. */
  readonly weighting: Weighting | null;
  /** Session affinity of the route and its backends, in words. */
  readonly affinity: readonly string[];
  /** What to change, when the answer is not a pod's. */
  readonly hints: readonly string[];
}

export interface Balancing {
  readonly policy: 'round-robin';
  readonly workers: number;
  /** The endpoint the next request goes to (whichever worker serves it: they share the cursor); null when there is none. */
  readonly next: string | null;
  /** True when every endpoint is ejected or failing its check and the pick ignores health. */
  readonly panic: boolean;
  /** The rotation order, unavailable endpoints skipped. */
  readonly rotation: readonly string[];
  readonly note: string;
}

/** Listed losers at most; a host with thousands of paths would otherwise bury the answer. */
export const MAX_LOSERS = 20;

/** Explains `request` against `ctx`. */
export function explain(request: ExplainRequest, ctx: ExplainContext): Explanation {
  const { backends, diagnostics } = ctx.snapshot;
  // A Gateway listener port answers only its own routes (HTTPRoutes); any other port, the Ingress routes.
  const table = (request.port !== undefined ? ctx.snapshot.gatewayPorts?.get(request.port)?.routes : undefined) ?? ctx.snapshot.routes;
  const { headers: _headers, ...req } = request;
  const ignored = diagnostics.filter((d) => d.code === 'INGRESS_CLASS_IGNORED').map((d) => ({ ingress: `${d.namespace}/${d.name}`, reason: d.message }));
  const choice = chooseHost(table, request.host);
  const host = { match: choice.match, rule: choice.rule, reason: hostReason(choice.match, choice.rule, request.host) };
  // Every key once, in the order a reader wants them: the returns below override values, not order.
  const base: Explanation = { request: req, matched: false, outcome: 'no-route', status: null, summary: '', host, route: null, losers: [], losersOmitted: 0, ignored, backend: null, endpoints: [], balancing: null, weighting: null, affinity: [], hints: [] };
  if (request.pathRejected) {
    const summary = `400: the path rules refuse the path ${request.path} before any routing`;
    return { ...base, matched: false, outcome: 'bad-path', status: 400, summary, route: null, losers: [], losersOmitted: 0, hints: hintsFor('bad-path', { request }) };
  }

  // Method, headers and query as the data plane reads them, for routes with conditions (HTTPRoute matches).
  const asked = { method: request.method, rawHeaders: request.headers.flat() };
  const winner = matchRoute(table, request.host, request.path, asked, request.url);
  const fromHost = choice.routes && matchPath(choice.routes, request.path, asked, request.url);
  const isDefault = winner !== undefined && fromHost === undefined;
  const losers = [...(choice.routes ? pathLosers(choice.routes, request.path, fromHost, asked, request.url) : []), ...hostLosers(table, request.host, choice, request.path)];
  if (winner !== undefined) losers.unshift(...conflictLosers(diagnostics, winner, isDefault));
  if (!isDefault && table.defaultBackend) losers.push({ rule: 'default backend', ingress: table.defaultBackend.ingress, service: table.defaultBackend.describe, reason: 'answers only requests no rule matches' });
  const listed = { losers: losers.slice(0, MAX_LOSERS), losersOmitted: Math.max(0, losers.length - MAX_LOSERS) };

  if (winner === undefined) {
    const summary = `404: no rule matches host ${request.host || '(none)'} and path ${request.path}, and there is no default backend`;
    return { ...base, ...listed, matched: false, outcome: 'no-route', status: 404, summary, route: null, hints: hintsFor('no-route', { request, choice }) };
  }
  const route = describeRoute(winner, isDefault, request.path, choice.rule, explainConditions(winner as Route, asked, request.url));
  const redirect = winner.redirectToHttps === true && request.scheme === 'http' && !skipsHttpsRedirect(request.path);
  // As the listener decides: a session cookie naming a pod of one of the backends, else the weighted pick, else the route's one backend.
  const sticky = explainAffinity(winner, backends, asked.rawHeaders);
  const weighed = explainWeighting(winner, ctx.weighted ?? new WeightedChoice(), ctx.live, ctx.workers);
  const chosen = sticky.target ?? (weighed === null ? winner : (weighed.next ?? winner));
  const backend = chosen.backend === undefined ? undefined : backends.get(chosen.backend);
  const matched = { ...base, ...listed, matched: true, route, weighting: weighed?.weighting ?? null, affinity: sticky.notes };
  if (redirect && ctx.tlsListener) {
    return { ...matched, outcome: 'redirect', status: 308, summary: `308 to https: ${route.ingress} serves this host over TLS`, hints: [] };
  }
  const redirectHint = redirect ? ['the route asks for https (a tls: entry or force-ssl-redirect), but no TLS listener is open (--listen-tls): plain HTTP is served'] : [];
  if (backend === undefined && winner.weighted !== undefined) {
    const why = weighed?.next === undefined ? 'the rule has no backendRef of weight above 0' : `the next request falls to ${chosen.describe} (weight ${(chosen as { weight?: number }).weight ?? '?'}), which does not resolve (${chosen.problem ?? 'unknown'})`;
    const summary = `500: ${why}; that share is answered 500 (x-switchyard-error: invalid-backend)${winner.routeKind === 'GRPCRoute' ? ', gRPC status UNAVAILABLE' : ''}`;
    return { ...matched, outcome: 'backend-invalid', status: 500, summary, hints: [...hintsFor('backend-unresolved', { request, winner: { ...chosen, routeKind: winner.routeKind }, diagnostics }), ...redirectHint] };
  }
  if (backend === undefined) {
    const summary = `503: the route's backend ${winner.describe} does not resolve (${winner.problem ?? 'unknown'})`;
    return { ...matched, outcome: 'backend-unresolved', status: 503, summary, hints: [...hintsFor('backend-unresolved', { request, winner, diagnostics }), ...redirectHint] };
  }
  const endpoints = backend.all.map((e) => ({ key: e.key, ...endpointView(e, backend, ctx.health), inRotation: backend.rotation.includes(e) }));
  const backendView = { key: backend.key, service: `${backend.namespace}/${backend.service}`, port: backend.port, portName: backend.portName, terminatingFallback: backend.terminatingFallback };
  if (backend.rotation.length === 0) {
    const summary = `503: ${backend.key} has no ready endpoint`;
    return { ...matched, backend: backendView, endpoints, outcome: 'no-endpoints', status: 503, summary, hints: [...hintsFor('no-endpoints', { request, backend }), ...redirectHint] };
  }
  const balancing = balancingOf(backend, ctx);
  const to = balancing.next ?? `one of ${balancing.rotation.length} endpoint${balancing.rotation.length === 1 ? '' : 's'}`;
  const by = isDefault ? `the default backend of Ingress ${winner.ingress}` : `${route.kind} ${winner.ingress}`;
  const share = weighed === null ? '' : `, its weighted pick for the next request`;
  const summary = `forwarded to ${backend.key} (${to}) by ${by}${share}`;
  const panicHint = balancing.panic ? ['every endpoint is ejected or failing its health check: the proxy spreads requests over all of them anyway (panic mode); see the endpoints below'] : [];
  return { ...matched, backend: backendView, endpoints, balancing, outcome: 'forward', status: null, summary, hints: [...panicHint, ...redirectHint] };
}

function hostReason(match: HostMatch, rule: string | null, host: string): string {
  const h = host === '' ? 'the request names no host' : `host ${host}`;
  switch (match) {
    case 'exact':
      return `an exact host rule equals ${h} (exact hosts are tried before wildcards and rules without a host)`;
    case 'wildcard':
      return `no exact host rule for ${host}; ${rule} covers it (one label before the suffix)`;
    case 'any-host':
      return `no exact or wildcard host rule matches ${h}; rules without a host apply to every host`;
    case 'none':
      return `no host rule matches ${h}, and no rule without a host exists`;
  }
}

function describeRoute(winner: RouteTarget, isDefault: boolean, path: string, hostRule: string | null, conditions: ExplainedConditions | null): ExplainedRoute {
  const kind: ExplainedRoute['kind'] = winner.routeKind ?? 'Ingress';
  const common = { ingress: winner.ingress, kind, name: winner.ingress, conditions, service: winner.describe, backend: winner.backend ?? null, problem: winner.problem ?? null };
  if (isDefault) {
    const why = hostRule === null ? 'no host rule matches' : `no path of host ${hostRule} matches ${path} (rules of other hosts are not consulted once a host is chosen)`;
    return { host: null, path: null, pathType: null, default: true, ...common, reason: `${why}: the default backend (spec.defaultBackend of Ingress ${winner.ingress}) answers` };
  }
  const r = winner as Route;
  const how =
    r.pathType === 'Exact' ? `Exact ${r.path} equals the path (Exact is chosen before Prefix)` : r.pathType === 'RegularExpression' ? `the pattern ${r.path} matches the whole path` : `${r.path} is the longest Prefix covering ${path} element by element`;
  const reason = conditions === null ? how : `${how}, and its conditions hold`;
  return { host: r.host === '' ? '*' : r.host, path: r.path, pathType: r.pathType, default: false, ...common, reason };
}

function balancingOf(backend: Backend, ctx: ExplainContext): Balancing {
  const rotation = backend.rotation.filter((e) => ctx.health.available(e.key)).map((e) => e.key);
  const order = rotation.length > 0 ? rotation : backend.rotation.map((e) => e.key);
  const fallback = backend.terminatingFallback ? ' (no endpoint is ready: the terminating ones that still serve take the traffic)' : '';
  const { endpoint, panic } = ctx.balancer.peek(backend, ctx.health);
  // The rotation from the next pick on: the order the following requests take.
  const at = endpoint === undefined ? -1 : order.indexOf(endpoint.key);
  const turns = at <= 0 ? order : [...order.slice(at), ...order.slice(0, at)];
  const first = ctx.live ? `the next request goes to ${endpoint?.key ?? 'none'}` : `a proxy that just started sends its first request to ${endpoint?.key ?? 'none'}`;
  return { policy: 'round-robin', workers: ctx.workers, next: endpoint?.key ?? null, panic, rotation: order, note: `${first}; requests take turns over ${turns.join(', ')}${fallback}` };
}
