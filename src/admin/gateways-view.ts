/**
 * `/api/v1/gateways` and the Gateway API parts of `/api/v1/routes`: the status Switchyard computes for its
 * GatewayClasses, Gateways and routes (snapshot/gateway-status.ts), whatever the source. Plain functions.
 */
import type { ParentRefView, RouteStatusView, StatusCondition } from '../snapshot/gateway-status-types.ts';
import { gatewayStatusOf } from '../snapshot/gateway-status.ts';
import type { Route, Snapshot } from '../snapshot/types.ts';

/** A Gateway address as `status.addresses` gives it. */
export interface GatewayAddress {
  readonly type: 'IPAddress' | 'Hostname';
  readonly value: string;
}

const conditionsView = (conditions: readonly StatusCondition[]) =>
  conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, observedGeneration: c.observedGeneration }));

const parentRefView = (p: ParentRefView) => ({ group: p.group, kind: p.kind, namespace: p.namespace, name: p.name, sectionName: p.sectionName ?? null, port: p.port ?? null });

/**
 * Every Gateway of Switchyard's classes with its class, listeners, addresses (`addresses`: what
 * --gateway-status-address publishes; default none) and conditions; Gateways of other classes as not
 * served, with why; and Switchyard's GatewayClasses.
 */
export function gatewaysView(snapshot: Snapshot, addresses: readonly GatewayAddress[] = []) {
  const table = gatewayStatusOf(snapshot);
  const ignored = snapshot.diagnostics.filter((d) => d.code === 'GATEWAY_CLASS_IGNORED' && d.kind === 'Gateway');
  return {
    version: snapshot.version,
    gatewayClasses: table.classes.map((c) => ({ name: c.name, controllerName: c.controllerName, conditions: conditionsView(c.conditions) })),
    gateways: [
      ...table.gateways.map((gw) => ({
        namespace: gw.namespace,
        name: gw.name,
        gatewayClassName: gw.gatewayClassName,
        served: true,
        addresses,
        conditions: conditionsView(gw.conditions),
        listeners: gw.listeners.map((l) => ({
          name: l.name,
          port: l.port,
          protocol: l.protocol,
          hostname: l.hostname ?? null,
          attachedRoutes: l.attachedRoutes,
          supportedKinds: l.supportedKinds,
          conditions: conditionsView(l.conditions),
        })),
      })),
      ...ignored.map((d) => ({ namespace: d.namespace, name: d.name, served: false, reason: d.message })),
    ],
  };
}

/** `kind/namespace/name` → the route's parent statuses, for the routes view. */
export function routeParentsIndex(snapshot: Snapshot): ReadonlyMap<string, RouteStatusView> {
  return new Map(gatewayStatusOf(snapshot).routes.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
}

/**
 * Gateway API routes that have no row in the route table (attached to no listener: NoMatchingParent,
 * NotAllowedByListeners…), with their parents' conditions: without this their Accepted=False status,
 * the one a user needs, would be on no admin page.
 */
export function unattachedRoutes(snapshot: Snapshot, parents: ReadonlyMap<string, RouteStatusView>) {
  const rowed = new Set(snapshot.routes.list.flatMap((r) => (r.routeKind !== undefined ? [`${r.routeKind}/${r.ingress}`] : [])));
  return [...parents.entries()]
    .filter(([key]) => !rowed.has(key))
    .map(([, r]) => ({ kind: r.kind, name: `${r.namespace}/${r.name}`, parents: r.parents.map((p) => ({ parentRef: parentRefView(p.parentRef), gatewayExists: p.ours, conditions: conditionsView(p.conditions) })) }));
}

/** What `/api/v1/routes` adds to a route: its kind, `namespace/name`, its parents' conditions (Gateway API routes) and its backends' weights. */
export function routeExtras(snapshot: Snapshot, r: Route, parents: ReadonlyMap<string, RouteStatusView>) {
  const kind = r.routeKind ?? 'Ingress';
  const status = r.routeKind !== undefined ? parents.get(`${kind}/${r.ingress}`) : undefined;
  const targets = r.weighted ?? (r.backend !== undefined || r.problem !== undefined ? [{ ...r, weight: 1 }] : []);
  return {
    kind,
    name: r.ingress,
    ...(r.routeKind !== undefined ? { parents: (status?.parents ?? []).map((p) => ({ parentRef: parentRefView(p.parentRef), gatewayExists: p.ours, conditions: conditionsView(p.conditions) })) } : {}),
    backends: targets.map((t) => ({
      service: t.describe,
      backend: t.backend ?? null,
      weight: t.weight,
      problem: t.problem ?? null,
      readyEndpoints: t.backend === undefined ? 0 : (snapshot.backends.get(t.backend)?.ready.length ?? 0),
    })),
  };
}
