/**
 * The Gateway API status of Switchyard's objects, from what compile decided (gateway-attach.ts's report,
 * gateway-backends.ts's resolution, the route diagnostics), in the spec's conditions and reasons
 * (gateway.networking.k8s.io/v1):
 * - GatewayClass of ours: Accepted.
 * - Gateway of our classes: Accepted (`ListenersNotValid` when some listener is not served: True while
 *   another is, False when none is) and Programmed; per listener Accepted (`UnsupportedProtocol`…),
 *   Conflicted (`HostnameConflict`), ResolvedRefs (`InvalidRouteKinds`), Programmed, supportedKinds and
 *   attachedRoutes (routes its allowedRoutes admit among those whose parentRefs select it, hostnames
 *   aside, as the spec counts them).
 * - Route, per parentRef of ours: Accepted (`NoMatchingParent`, `NotAllowedByListeners`,
 *   `NoMatchingListenerHostname`, `UnsupportedValue` when no match of it is usable), ResolvedRefs
 *   (`BackendNotFound`, `InvalidKind`, `RefNotPermitted`) and, when some matches or filters are not
 *   served while the rest is, PartiallyInvalid (`UnsupportedValue`).
 * Pure: no clock (lastTransitionTime is the writer's), no I/O.
 */
import { GATEWAY_GROUP, type BackendRefRec, type GatewayListenerRec, type GatewayRec, type ReferenceGrantRec } from '../model/gateway-records.ts';
import type { Meta } from '../model/records.ts';
import type { StoreView } from '../model/store-view.ts';
import type { GatewayClassStatusView, GatewayStatusTable, GatewayStatusView, ListenerStatusView, RouteGroupKind, RouteParentStatusView, RouteStatusView, StatusCondition } from '../snapshot/gateway-status-types.ts';
import { gatewayConditions, statusCondition as condition } from '../snapshot/gateway-status.ts';
import type { Diagnostic, ServiceView } from '../snapshot/types.ts';
import type { AttachReport, ListenerProblem, ParentOutcome } from './gateway-attach.ts';
import { resolveBackendRef } from './gateway-backends.ts';

/** Route kinds a listener of protocol HTTP or HTTPS takes from Switchyard. */
const HTTP_KINDS: readonly RouteGroupKind[] = [
  { group: GATEWAY_GROUP, kind: 'HTTPRoute' },
  { group: GATEWAY_GROUP, kind: 'GRPCRoute' },
];

export interface GatewayStatusInput {
  readonly view: StoreView;
  readonly attach: AttachReport;
  readonly services: ReadonlyMap<string, ServiceView>;
  /** Every route diagnostic of this compile (unusable matches and filters are read from them). */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Listener outcomes decided elsewhere (ports, certificates): `Gateway/ns/name` → listener name → why it
   * is not served; they take precedence over the attach report's. Default none.
   */
  readonly listenerProblems?: ReadonlyMap<string, ReadonlyMap<string, ListenerProblem>>;
}


const byName = <T extends { namespace?: string; name: string }>(a: T, b: T): number => (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);

export function computeGatewayStatus(input: GatewayStatusInput): GatewayStatusTable {
  const { view, attach } = input;
  const classes: GatewayClassStatusView[] = [];
  for (const c of view.gatewayClasses?.values() ?? []) {
    if (!attach.classes.has(c.meta.name)) continue;
    classes.push({ name: c.meta.name, controllerName: c.controllerName, conditions: [condition('Accepted', 'True', 'Accepted', `handled by ${c.controllerName}`, c.meta)] });
  }
  const gateways: GatewayStatusView[] = [];
  for (const key of attach.gateways) {
    const gw = view.gateways?.get(key);
    if (gw) gateways.push(gatewayStatus(gw, input));
  }
  return { classes: classes.sort(byName), gateways: gateways.sort(byName), routes: routeStatuses(input).sort(byName) };
}

function gatewayStatus(gw: GatewayRec, input: GatewayStatusInput): GatewayStatusView {
  const key = `Gateway/${gw.meta.namespace}/${gw.meta.name}`;
  const attached = input.attach.attached.get(key);
  const problemOf = (l: GatewayListenerRec): ListenerProblem | undefined => input.listenerProblems?.get(key)?.get(l.name) ?? input.attach.listenerProblems.get(key)?.get(l.name);
  const listeners = gw.listeners.map((l) => listenerStatus(gw, l, problemOf(l), attached?.get(l.name)?.size ?? 0));
  return { namespace: gw.meta.namespace, name: gw.meta.name, gatewayClassName: gw.gatewayClassName, conditions: gatewayConditions(listeners, gw.meta.generation ?? 0), listeners };
}

function listenerStatus(gw: GatewayRec, l: GatewayListenerRec, problem: ListenerProblem | undefined, attachedRoutes: number): ListenerStatusView {
  const meta = gw.meta;
  const httpLike = l.protocol === 'HTTP' || l.protocol === 'HTTPS';
  const offered = httpLike ? HTTP_KINDS : [];
  const wanted = l.allowedKinds.length === 0 ? offered : l.allowedKinds;
  const supportedKinds = wanted.filter((k) => offered.some((o) => o.group === k.group && o.kind === k.kind));
  const unsupportedKinds = wanted.filter((k) => !supportedKinds.includes(k));
  const conditions: StatusCondition[] = [];
  conditions.push(problem?.condition === 'Accepted' ? condition('Accepted', 'False', problem.reason, problem.message, meta) : condition('Accepted', 'True', 'Accepted', 'accepted', meta));
  conditions.push(problem?.condition === 'Conflicted' ? condition('Conflicted', 'True', problem.reason, problem.message, meta) : condition('Conflicted', 'False', 'NoConflicts', 'no conflict', meta));
  if (problem?.condition === 'ResolvedRefs') conditions.push(condition('ResolvedRefs', 'False', problem.reason, problem.message, meta));
  else if (unsupportedKinds.length > 0 && httpLike) {
    const kinds = unsupportedKinds.map((k) => `${k.group}/${k.kind}`).join(', ');
    conditions.push(condition('ResolvedRefs', 'False', 'InvalidRouteKinds', `route kind(s) ${kinds} are not supported`, meta));
  } else conditions.push(condition('ResolvedRefs', 'True', 'ResolvedRefs', 'all references resolved', meta));
  conditions.push(problem === undefined ? condition('Programmed', 'True', 'Programmed', 'served', meta) : condition('Programmed', 'False', 'Invalid', problem.message, meta));
  return { name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname, supportedKinds, attachedRoutes, conditions };
}

interface RouteLike {
  readonly kind: string;
  readonly meta: Meta;
  readonly rules: readonly { readonly matches: readonly unknown[]; readonly backendRefs: readonly BackendRefRec[]; readonly filters: readonly ({ readonly type: string; readonly backendRef?: BackendRefRec })[] }[];
}

function routeStatuses(input: GatewayStatusInput): RouteStatusView[] {
  const byRoute = new Map<string, ParentOutcome[]>();
  for (const o of input.attach.parents) {
    const key = `${o.route.kind}/${o.route.meta.namespace}/${o.route.meta.name}`;
    const list = byRoute.get(key);
    if (list) list.push(o);
    else byRoute.set(key, [o]);
  }
  const grants = [...(input.view.referenceGrants?.values() ?? [])];
  // Indexed once: a scan of every diagnostic per route grows as routes × diagnostics.
  const unusable = new Map<string, Diagnostic[]>();
  for (const d of input.diagnostics) {
    if (!d.code.endsWith('_REGEX_INVALID') && !d.code.endsWith('_FILTER_UNSUPPORTED')) continue;
    const key = `${d.kind}/${d.namespace}/${d.name}`;
    unusable.set(key, [...(unusable.get(key) ?? []), d]);
  }
  const out: RouteStatusView[] = [];
  for (const [key, outcomes] of byRoute) {
    const route = routeOf(input.view, key);
    if (!route) continue;
    const refs = resolvedRefs(route, input.services, grants);
    const usability = usabilityOf(route, unusable.get(key) ?? []);
    const parents = outcomes.map((o): RouteParentStatusView => {
      const { meta } = route;
      const conditions: StatusCondition[] = [];
      if (o.reason !== 'Accepted') conditions.push(condition('Accepted', 'False', o.reason, o.message, meta));
      else if (usability.none) conditions.push(condition('Accepted', 'False', 'UnsupportedValue', usability.message, meta));
      else conditions.push(condition('Accepted', 'True', 'Accepted', o.message, meta));
      conditions.push(refs === undefined ? condition('ResolvedRefs', 'True', 'ResolvedRefs', 'all references resolved', meta) : condition('ResolvedRefs', 'False', refs.reason, refs.message, meta));
      if (o.reason === 'Accepted' && !usability.none && usability.message !== '') conditions.push(condition('PartiallyInvalid', 'True', 'UnsupportedValue', usability.message, meta));
      const { group, kind, namespace, name, sectionName, port } = o.ref;
      return { parentRef: { group, kind, namespace, name, sectionName, port }, ours: input.attach.gateways.has(`Gateway/${namespace}/${name}`), conditions };
    });
    out.push({ kind: route.kind, namespace: route.meta.namespace, name: route.meta.name, parents });
  }
  return out;
}

function routeOf(view: StoreView, key: string): RouteLike | undefined {
  const routes = (key.startsWith('GRPCRoute/') ? view.grpcRoutes : view.httpRoutes) as ReadonlyMap<string, RouteLike> | undefined;
  return routes?.get(key);
}

/** The first unresolved backendRef's reason, and every unresolved one in the message; undefined: all resolve. */
function resolvedRefs(route: RouteLike, services: ReadonlyMap<string, ServiceView>, grants: readonly ReferenceGrantRec[]): { reason: string; message: string } | undefined {
  let reason: string | undefined;
  const problems: string[] = [];
  route.rules.forEach((rule, ri) => {
    const refs: [string, BackendRefRec][] = rule.backendRefs.map((ref, i) => [`spec.rules[${ri}].backendRefs[${i}]`, ref]);
    rule.filters.forEach((f, fi) => {
      if (f.type === 'RequestMirror' && f.backendRef) refs.push([`spec.rules[${ri}].filters[${fi}].requestMirror.backendRef`, f.backendRef]);
    });
    for (const [field, ref] of refs) {
      const outcome = resolveBackendRef(route, ref, services, grants);
      if ('backend' in outcome) continue;
      reason ??= outcome.reason;
      problems.push(`${field} ${ref.namespace}/${ref.name}:${ref.port ?? '?'}: ${outcome.message}`);
    }
  });
  return reason === undefined ? undefined : { reason, message: problems.join('; ') };
}

/** Which matches and filters compile could not use (`mine`: the route's diagnostics saying so): none usable, or some. */
function usabilityOf(route: RouteLike, mine: readonly Diagnostic[]): { none: boolean; message: string } {
  const badMatches = mine.filter((d) => d.code.endsWith('_REGEX_INVALID'));
  const badFilters = mine.filter((d) => d.code.endsWith('_FILTER_UNSUPPORTED'));
  const matches = route.rules.reduce((n, r) => n + r.matches.length, 0);
  const message = [...badMatches, ...badFilters].map((d) => d.message).join('; ');
  return { none: matches > 0 && badMatches.length >= matches, message };
}
