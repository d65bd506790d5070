/**
 * `explain`: the routing decision for one request, in words and as data. The winner is what the data
 * plane's matchRoute returns for the request's host and path; the losers, the backend's endpoints with
 * their state (the admin API's endpointView) and the next round-robin pick (RoundRobin#peek) are read
 * from the same snapshot, health registry and balancer the proxy uses. Nothing here decides anything
 * the router does not.
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
}

/**
 * What becomes of the request: forwarded to a pod, redirected to https, refused for its path (400), no
 * route (404), a route whose Service or port does not resolve (503), or no endpoint to send it to (503).
 */
export type Outcome = 'forward' | 'redirect' | 'bad-path' | 'no-route' | 'backend-unresolved' | 'no-endpoints';

export interface ExplainedRoute {
  /** `*` for a rule without a host; null for the default backend. */
  readonly host: string | null;
  readonly path: string | null;
  readonly pathType: string | null;
  readonly default: boolean;
  readonly ingress: string;
  /** `namespace/service:port` as the Ingress wrote it. */
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
  const base: Explanation = { request: req, matched: false, outcome: 'no-route', status: null, summary: '', host, route: null, losers: [], losersOmitted: 0, ignored, backend: null, endpoints: [], balancing: null, hints: [] };
  if (request.pathRejected) {
    const summary = `400: the path rules refuse the path ${request.path} before any routing`;
    return { ...base, matched: false, outcome: 'bad-path', status: 400, summary, route: null, losers: [], losersOmitted: 0, hints: hintsFor('bad-path', { request }) };
  }

  // Method, headers and query as the data plane reads them, for routes with conditions (HTTPRoute matches).
  const asked = { method: request.method, rawHeaders: request.headers.flat() };
  const winner = matchRoute(table, request.host, request.path, asked, request.url);
  const fromHost = choice.routes && matchPath(choice.routes, request.path, asked, request.url);
  const isDefault = winner !== undefined && fromHost === undefined;
  const losers = [...(choice.routes ? pathLosers(choice.routes, request.path, fromHost) : []), ...hostLosers(table, request.host, choice, request.path)];
  if (winner !== undefined) losers.unshift(...conflictLosers(diagnostics, winner, isDefault));
  if (!isDefault && table.defaultBackend) losers.push({ rule: 'default backend', ingress: table.defaultBackend.ingress, service: table.defaultBackend.describe, reason: 'answers only requests no rule matches' });
  const listed = { losers: losers.slice(0, MAX_LOSERS), losersOmitted: Math.max(0, losers.length - MAX_LOSERS) };

  if (winner === undefined) {
    const summary = `404: no rule matches host ${request.host || '(none)'} and path ${request.path}, and there is no default backend`;
    return { ...base, ...listed, matched: false, outcome: 'no-route', status: 404, summary, route: null, hints: hintsFor('no-route', { request, choice }) };
  }
  const route = describeRoute(winner, isDefault, request.path, choice.rule);
  const redirect = winner.redirectToHttps === true && request.scheme === 'http' && !skipsHttpsRedirect(request.path);
  const backend = winner.backend === undefined ? undefined : backends.get(winner.backend);
  const matched = { ...base, ...listed, matched: true, route };
  if (redirect && ctx.tlsListener) {
    return { ...matched, outcome: 'redirect', status: 308, summary: `308 to https: ${route.ingress} serves this host over TLS`, hints: [] };
  }
  const redirectHint = redirect ? ['the route asks for https (a tls: entry or force-ssl-redirect), but no TLS listener is open (--listen-tls): plain HTTP is served'] : [];
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
  const summary = `forwarded to ${backend.key} (${to}) by ${isDefault ? `the default backend of Ingress ${winner.ingress}` : `Ingress ${winner.ingress}`}`;
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

function describeRoute(winner: RouteTarget, isDefault: boolean, path: string, hostRule: string | null): ExplainedRoute {
  const common = { ingress: winner.ingress, service: winner.describe, backend: winner.backend ?? null, problem: winner.problem ?? null };
  if (isDefault) {
    const why = hostRule === null ? 'no host rule matches' : `no path of host ${hostRule} matches ${path} (rules of other hosts are not consulted once a host is chosen)`;
    return { host: null, path: null, pathType: null, default: true, ...common, reason: `${why}: the default backend (spec.defaultBackend of Ingress ${winner.ingress}) answers` };
  }
  const r = winner as Route;
  const reason = r.pathType === 'Exact' ? `Exact ${r.path} equals the path (Exact is chosen before Prefix)` : `${r.path} is the longest Prefix covering ${path} element by element`;
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
