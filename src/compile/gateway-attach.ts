/**
 * Which Gateways are Switchyard's, which of their listeners it serves, and where each HTTPRoute attaches
 * (gateway.networking.k8s.io/v1):
 * - a Gateway is ours when its GatewayClass's `spec.controllerName` is --gateway-controller-name;
 * - listeners of protocol HTTP are served; the others are reported (HTTPS is a later step); listeners of
 *   one Gateway with the same port and hostname conflict and neither is served;
 * - a parentRef attaches to the listeners of its Gateway that its `sectionName` and `port` select, that
 *   allow the route's namespace (Same, All, Selector over Namespace labels) and kind, and whose hostname
 *   intersects the route's hostnames;
 * - the hostnames a route serves through a listener are the intersection the spec defines: the more
 *   specific of the two where one covers the other (`*.example.com` covers `a.example.com` and
 *   `a.b.example.com`, never `example.com`).
 * Every route that does not attach, and why, is a diagnostic with the spec's reason in its message.
 */
import { DEFAULT_GATEWAY_CONTROLLER, GATEWAY_GROUP, type GatewayListenerRec, type GatewayRec, type HttpRouteRec, type LabelSelectorRec, type NamespaceRec } from '../model/gateway-records.ts';
import type { StoreView } from '../model/store-view.ts';
import type { Diagnostic } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';

/** The label every Namespace carries with its own name (Kubernetes sets it), also for Namespaces not in the store. */
const NAME_LABEL = 'kubernetes.io/metadata.name';

/** One route's hostname served through listener ports: '' is every host. */
export interface Attachment {
  readonly route: HttpRouteRec;
  /** Effective hostname → the listener ports it is served on. */
  readonly hosts: ReadonlyMap<string, readonly number[]>;
}

interface ServedListener {
  readonly gateway: GatewayRec;
  readonly listener: GatewayListenerRec;
}

/** The attachments of every HTTPRoute to Switchyard's Gateways, and the diagnostics of those that do not attach. */
export function attachRoutes(view: StoreView, controllerName: string | undefined, diagnostics: Diagnostic[]): Attachment[] {
  const controller = controllerName ?? DEFAULT_GATEWAY_CONTROLLER;
  const ours = new Set<string>();
  for (const c of view.gatewayClasses?.values() ?? []) if (c.controllerName === controller) ours.add(c.meta.name);
  const served = new Map<string, ServedListener[]>();
  const foreign = new Set<string>();
  for (const [key, gw] of view.gateways ?? []) {
    if (!ours.has(gw.gatewayClassName)) {
      foreign.add(key);
      const known = view.gatewayClasses?.get(`GatewayClass//${gw.gatewayClassName}`);
      const why = known ? `GatewayClass ${gw.gatewayClassName} has controllerName ${JSON.stringify(known.controllerName)}, not ${JSON.stringify(controller)}` : `no GatewayClass ${gw.gatewayClassName} exists`;
      diagnostics.push(diag(known ? 'info' : 'warning', 'GATEWAY_CLASS_IGNORED', gw, `not served: ${why}`));
      continue;
    }
    served.set(key, servedListeners(gw, diagnostics));
  }
  const attachments: Attachment[] = [];
  for (const route of view.httpRoutes?.values() ?? []) {
    const hosts = new Map<string, number[]>();
    for (const ref of route.parentRefs) {
      if (ref.group !== GATEWAY_GROUP || ref.kind !== 'Gateway') continue; // another implementation's parent (a mesh Service…)
      const key = `Gateway/${ref.namespace}/${ref.name}`;
      if (foreign.has(key)) continue; // another controller's Gateway: its business
      const listeners = served.get(key);
      const parent = `parentRef Gateway ${ref.namespace}/${ref.name}${ref.sectionName !== undefined ? ` sectionName ${ref.sectionName}` : ''}${ref.port !== undefined ? ` port ${ref.port}` : ''}`;
      if (listeners === undefined) {
        diagnostics.push(diag('warning', 'HTTPROUTE_NOT_ATTACHED', route, `${parent}: no such Gateway (reason NoMatchingParent)`));
        continue;
      }
      const selected = listeners.filter((s) => (ref.sectionName === undefined || s.listener.name === ref.sectionName) && (ref.port === undefined || s.listener.port === ref.port));
      if (selected.length === 0) {
        diagnostics.push(diag('warning', 'HTTPROUTE_NOT_ATTACHED', route, `${parent}: no served listener of that name and port (reason NoMatchingParent)`));
        continue;
      }
      const allowed = selected.filter((s) => allowsRoute(s, route, view.namespaces));
      if (allowed.length === 0) {
        diagnostics.push(diag('warning', 'HTTPROUTE_NOT_ATTACHED', route, `${parent}: the listener's allowedRoutes do not admit HTTPRoutes of namespace ${route.meta.namespace} (reason NotAllowedByListeners)`));
        continue;
      }
      let matched = false;
      for (const s of allowed) {
        for (const host of intersectHostnames(s.listener.hostname, route.hostnames)) {
          matched = true;
          const ports = hosts.get(host) ?? [];
          if (!ports.includes(s.listener.port)) ports.push(s.listener.port);
          hosts.set(host, ports);
        }
      }
      if (!matched) {
        const listenerHosts = [...new Set(allowed.map((s) => s.listener.hostname ?? '*'))].join(', ');
        diagnostics.push(diag('warning', 'HTTPROUTE_NOT_ATTACHED', route, `${parent}: none of the route's hostnames (${route.hostnames.join(', ')}) is within the listener's hostname ${listenerHosts} (reason NoMatchingListenerHostname)`));
      }
    }
    if (hosts.size > 0) {
      for (const ports of hosts.values()) ports.sort((a, b) => a - b);
      attachments.push({ route, hosts });
    }
  }
  return attachments;
}

/** The listeners of `gw` Switchyard serves: HTTP, not in conflict. */
function servedListeners(gw: GatewayRec, diagnostics: Diagnostic[]): ServedListener[] {
  const out: ServedListener[] = [];
  const byPortHost = new Map<string, GatewayListenerRec[]>();
  for (const l of gw.listeners) {
    if (l.protocol !== 'HTTP') {
      diagnostics.push(diag('warning', 'GATEWAY_LISTENER_UNSUPPORTED', gw, `listener ${l.name}: protocol ${l.protocol} is not served (only HTTP so far; reason UnsupportedProtocol)`));
      continue;
    }
    const key = `${l.port}|${l.hostname ?? ''}`;
    byPortHost.set(key, [...(byPortHost.get(key) ?? []), l]);
  }
  for (const group of byPortHost.values()) {
    if (group.length > 1) {
      const names = group.map((l) => l.name).join(', ');
      diagnostics.push(diag('warning', 'GATEWAY_LISTENER_CONFLICT', gw, `listeners ${names}: same port ${group[0]!.port} and hostname ${group[0]!.hostname ?? '(none)'}; none of them is served (reason HostnameConflict)`));
      continue;
    }
    out.push({ gateway: gw, listener: group[0]! });
  }
  return out;
}

function allowsRoute(s: ServedListener, route: HttpRouteRec, namespaces: ReadonlyMap<string, NamespaceRec> | undefined): boolean {
  const l = s.listener;
  const kinds = l.allowedKinds;
  if (kinds.length > 0 && !kinds.some((k) => k.group === GATEWAY_GROUP && k.kind === 'HTTPRoute')) return false;
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
