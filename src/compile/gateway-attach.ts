/**
 * Which Gateways are Switchyard's, which of their listeners it serves, and where each HTTPRoute attaches
 * (gateway.networking.k8s.io/v1):
 * - a Gateway is ours when its GatewayClass's `spec.controllerName` is --gateway-controller-name;
 * - which of their listeners are served (HTTP, HTTPS; conflicts across Gateways; certificates) is
 *   gateway-listeners.ts's plan;
 * - a parentRef attaches to the listeners of its Gateway that its `sectionName` and `port` select, that
 *   allow the route's namespace (Same, All, Selector over Namespace labels) and kind, and whose hostname
 *   intersects the route's hostnames;
 * - the hostnames a route serves through a listener are the intersection the spec defines: the more
 *   specific of the two where one covers the other (`*.example.com` covers `a.example.com` and
 *   `a.b.example.com`, never `example.com`).
 * Every route that does not attach, and why, is a diagnostic with the spec's reason in its message.
 */
import { DEFAULT_GATEWAY_CONTROLLER, GATEWAY_GROUP, type GatewayRec, type GrpcRouteRec, type HttpRouteRec, type LabelSelectorRec, type NamespaceRec, type ParentRefRec } from '../model/gateway-records.ts';
import type { Meta } from '../model/records.ts';
import type { StoreView } from '../model/store-view.ts';
import type { Diagnostic } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';
import { planListeners, type ServedListener } from './gateway-listeners.ts';

/** The label every Namespace carries with its own name (Kubernetes sets it), also for Namespaces not in the store. */
const NAME_LABEL = 'kubernetes.io/metadata.name';

/** One route's hostname served through listener ports: '' is every host. */
export interface Attachment<R extends HttpRouteRec | GrpcRouteRec = HttpRouteRec> {
  readonly route: R;
  /** Effective hostname → the listener ports it is served on. */
  readonly hosts: ReadonlyMap<string, readonly number[]>;
}


/** Why a parentRef attaches or not, in the spec's reasons (compile/gateway-status.ts turns it into conditions). */
export interface ParentOutcome {
  /** The route (HTTPRoute, GRPCRoute) whose parentRef it is. */
  readonly route: { readonly kind: string; readonly meta: Meta };
  readonly ref: ParentRefRec;
  readonly reason: 'Accepted' | 'NoMatchingParent' | 'NotAllowedByListeners' | 'NoMatchingListenerHostname';
  readonly message: string;
}

/** A listener of one of Switchyard's Gateways that is not served, and why (the spec's reason). */
export interface ListenerProblem {
  /** The condition it sets: Accepted False, Conflicted True or ResolvedRefs False (Programmed is False with each). */
  readonly condition: 'Accepted' | 'Conflicted' | 'ResolvedRefs';
  /** `UnsupportedProtocol`, `HostnameConflict`, `PortUnavailable`, `InvalidCertificateRef`… */
  readonly reason: string;
  readonly message: string;
}

/** What attachRoutes decided, for status: filled when passed in. */
export interface AttachReport {
  /** Names of the GatewayClasses that are Switchyard's. */
  readonly classes: Set<string>;
  /** Keys of the Gateways of those classes. */
  readonly gateways: Set<string>;
  /** `Gateway/ns/name` → listener name → why it is not served. */
  readonly listenerProblems: Map<string, Map<string, ListenerProblem>>;
  /** `Gateway/ns/name` → listener name → keys of the routes attached to it (selected and admitted; hostnames aside). */
  readonly attached: Map<string, Map<string, Set<string>>>;
  /** One per parentRef naming a Gateway of Switchyard's or one that does not exist, in route order. */
  readonly parents: ParentOutcome[];
}

/** An empty report to pass to attachRoutes. */
export function newAttachReport(): AttachReport {
  return { classes: new Set(), gateways: new Set(), listenerProblems: new Map(), attached: new Map(), parents: [] };
}

/**
 * The attachments of every HTTPRoute (or of the `routes` given: GRPCRoutes) to Switchyard's Gateways, and
 * the diagnostics of those that do not attach (`<KIND>_NOT_ATTACHED`).
 */
export function attachRoutes<R extends HttpRouteRec | GrpcRouteRec = HttpRouteRec>(
  view: StoreView,
  controllerName: string | undefined,
  diagnostics: Diagnostic[],
  report: AttachReport = newAttachReport(),
  routes: Iterable<R> = (view.httpRoutes?.values() ?? []) as Iterable<R>,
): Attachment<R>[] {
  const controller = controllerName ?? DEFAULT_GATEWAY_CONTROLLER;
  const ours = report.classes;
  for (const c of view.gatewayClasses?.values() ?? []) if (c.controllerName === controller) ours.add(c.meta.name);
  const served = new Map<string, ServedListener[]>();
  const foreign = new Set<string>();
  const mine: GatewayRec[] = [];
  for (const [key, gw] of view.gateways ?? []) {
    if (!ours.has(gw.gatewayClassName)) {
      foreign.add(key);
      const known = view.gatewayClasses?.get(`GatewayClass//${gw.gatewayClassName}`);
      const why = known ? `GatewayClass ${gw.gatewayClassName} has controllerName ${JSON.stringify(known.controllerName)}, not ${JSON.stringify(controller)}` : `no GatewayClass ${gw.gatewayClassName} exists`;
      diagnostics.push(diag(known ? 'info' : 'warning', 'GATEWAY_CLASS_IGNORED', gw, `not served: ${why}`));
      continue;
    }
    report.gateways.add(key);
    mine.push(gw);
  }
  // Conflicts are decided across every Gateway of ours (they share --gateway-address): gateway-listeners.ts.
  const plan = planListeners(view, mine);
  for (const [key, listeners] of plan.served) served.set(key, [...listeners]);
  for (const [key, problems] of plan.problems) report.listenerProblems.set(key, new Map(problems));
  // The plan is shared by every call of one compile (HTTPRoutes, GRPCRoutes): its diagnostics once.
  for (const d of plan.diagnostics) if (!diagnostics.includes(d)) diagnostics.push(d);
  const attachments: Attachment<R>[] = [];
  for (const route of routes) {
    const hosts = new Map<string, number[]>();
    for (const ref of route.parentRefs) {
      if (ref.group !== GATEWAY_GROUP || ref.kind !== 'Gateway') continue; // another implementation's parent (a mesh Service…)
      const key = `Gateway/${ref.namespace}/${ref.name}`;
      if (foreign.has(key)) continue; // another controller's Gateway: its business
      const listeners = served.get(key);
      const parent = `parentRef Gateway ${ref.namespace}/${ref.name}${ref.sectionName !== undefined ? ` sectionName ${ref.sectionName}` : ''}${ref.port !== undefined ? ` port ${ref.port}` : ''}`;
      const refuse = (reason: Exclude<ParentOutcome['reason'], 'Accepted'>, why: string): void => {
        diagnostics.push(diag('warning', `${route.kind.toUpperCase()}_NOT_ATTACHED`, route, `${parent}: ${why} (reason ${reason})`));
        report.parents.push({ route, ref, reason, message: why });
      };
      if (listeners === undefined) {
        refuse('NoMatchingParent', 'no such Gateway');
        continue;
      }
      const selected = listeners.filter((s) => (ref.sectionName === undefined || s.listener.name === ref.sectionName) && (ref.port === undefined || s.listener.port === ref.port));
      if (selected.length === 0) {
        refuse('NoMatchingParent', 'no served listener of that name and port');
        continue;
      }
      const allowed = selected.filter((s) => allowsRoute(s, route, view.namespaces));
      if (allowed.length === 0) {
        refuse('NotAllowedByListeners', `the listener's allowedRoutes do not admit ${route.kind}s of namespace ${route.meta.namespace}`);
        continue;
      }
      for (const s of allowed) countAttached(report, key, s.listener.name, `${route.kind}/${route.meta.namespace}/${route.meta.name}`);
      const matched: string[] = [];
      for (const s of allowed) {
        for (const host of intersectHostnames(s.listener.hostname, route.hostnames)) {
          if (!matched.includes(s.listener.name)) matched.push(s.listener.name);
          const ports = hosts.get(host) ?? [];
          if (!ports.includes(s.listener.port)) ports.push(s.listener.port);
          hosts.set(host, ports);
        }
      }
      if (matched.length === 0) {
        const listenerHosts = [...new Set(allowed.map((s) => s.listener.hostname ?? '*'))].join(', ');
        refuse('NoMatchingListenerHostname', `none of the route's hostnames (${route.hostnames.join(', ')}) is within the listener's hostname ${listenerHosts}`);
      } else {
        report.parents.push({ route, ref, reason: 'Accepted', message: `attached to listener(s) ${matched.join(', ')}` });
      }
    }
    if (hosts.size > 0) {
      for (const ports of hosts.values()) ports.sort((a, b) => a - b);
      attachments.push({ route, hosts });
    }
  }
  return attachments;
}

function countAttached(report: AttachReport, gateway: string, listener: string, route: string): void {
  let byListener = report.attached.get(gateway);
  if (!byListener) report.attached.set(gateway, (byListener = new Map()));
  let routes = byListener.get(listener);
  if (!routes) byListener.set(listener, (routes = new Set()));
  routes.add(route);
}

function allowsRoute(s: ServedListener, route: HttpRouteRec | GrpcRouteRec, namespaces: ReadonlyMap<string, NamespaceRec> | undefined): boolean {
  const l = s.listener;
  const kinds = l.allowedKinds;
  if (kinds.length > 0 && !kinds.some((k) => k.group === GATEWAY_GROUP && k.kind === route.kind)) return false;
  const ns = route.meta.namespace;
  switch (l.allowedNamespaces) {
    case 'All':
      return true;
    case 'Same':
      return ns === s.gateway.meta.namespace;
    case 'Selector': {
      const labels = namespaces?.get(`Namespace//${ns}`)?.meta.labels ?? {};
      return l.namespaceSelector !== undefined && selects(l.namespaceSelector, { ...labels, [NAME_LABEL]: ns });
    }
  }
}

/** metav1.LabelSelector semantics: every matchLabels pair and every expression must hold. */
export function selects(selector: LabelSelectorRec, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (e.operator === 'In' && (!has || !e.values.includes(value!))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(value!)) return false;
  }
  return true;
}

/** Whether wildcard `*.suffix` covers `host` (itself possibly a wildcard): any number of extra labels, at least one. */
function covers(wildcard: string, host: string): boolean {
  return wildcard.startsWith('*.') && host.length > wildcard.length - 1 && host.endsWith(wildcard.slice(1));
}

/**
 * The hostnames a route serves through a listener: the listener's when the route names none, the route's
 * when the listener has none, else for each pair the more specific where one covers the other. '' is
 * every host. Empty: no intersection (the route does not attach to that listener).
 */
export function intersectHostnames(listener: string | undefined, route: readonly string[]): string[] {
  if (route.length === 0) return [listener ?? ''];
  if (listener === undefined) return [...new Set(route)];
  const out = new Set<string>();
  for (const h of route) {
    if (h === listener || covers(listener, h)) out.add(h);
    else if (covers(h, listener)) out.add(listener);
  }
  return [...out];
}
