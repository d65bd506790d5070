/**
 * The suite's status assertions (conformance/utils/kubernetes/helpers.go) checked against Switchyard's admin
 * API instead of the objects' `status`: `/api/v1/routes` (each Gateway API route's parents and their
 * conditions) and `/api/v1/gateways` (listeners with attachedRoutes). Each check is polled until it holds,
 * as the suite polls the API server. The rules are the suite's: a condition matches on type, and on status
 * and reason when given; a parent is the route's parentRef of the Gateway's name (and namespace, when set).
 */

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

export interface ExpectedCondition {
  readonly type: string;
  /** '' matches any status. */
  readonly status: string;
  /** '' matches any reason. */
  readonly reason: string;
}

export type StatusCheck =
  | { readonly kind: 'routeCondition'; readonly call: string; readonly route: NamespacedName; readonly gateway: NamespacedName; readonly condition: ExpectedCondition }
  | { readonly kind: 'routeNoAcceptedParents'; readonly call: string; readonly route: NamespacedName }
  | { readonly kind: 'gatewayZeroRoutes'; readonly call: string; readonly gateway: NamespacedName };

interface ConditionView {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
}

interface ParentView {
  readonly parentRef: { readonly namespace: string | null; readonly name: string };
  readonly conditions: readonly ConditionView[];
}

interface RouteView {
  readonly kind: string;
  readonly name: string;
  readonly parents?: readonly ParentView[];
}

interface GatewayView {
  readonly namespace: string;
  readonly name: string;
  readonly listeners?: readonly { readonly name: string; readonly attachedRoutes: number }[];
}

/** What the admin API says, fetched once per poll. */
export interface AdminStatus {
  readonly routes: readonly RouteView[];
  readonly gateways: readonly GatewayView[];
}

/** Reads `/api/v1/routes` and `/api/v1/gateways` from the admin listener at `base` (`http://host:port`). */
export async function fetchStatus(base: string): Promise<AdminStatus> {
  const get = async (path: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${base}${path}`);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const [routes, gateways] = await Promise.all([get('/api/v1/routes'), get('/api/v1/gateways')]);
  // `unattached`: the routes attached to no listener, which have no row in `routes`.
  return { routes: [...((routes['routes'] ?? []) as RouteView[]), ...((routes['unattached'] ?? []) as RouteView[])], gateways: (gateways['gateways'] ?? []) as GatewayView[] };
}

/**
 * The parents of one HTTPRoute: /api/v1/routes has a row per host and path of a route, each with the route's
 * parents, and the routes attached nowhere in `unattached`. Undefined when the route is in neither.
 */
function parentsOf(status: AdminStatus, route: NamespacedName): readonly ParentView[] | undefined {
  return status.routes.find((r) => r.kind === 'HTTPRoute' && r.name === `${route.namespace}/${route.name}`)?.parents;
}

const conditionText = (c: readonly ConditionView[]): string => JSON.stringify(c.map((x) => `${x.type}=${x.status}/${x.reason}`));

/** The first way `check` does not hold in `status`, or undefined when it holds. */
export function checkStatus(check: StatusCheck, status: AdminStatus): string | undefined {
  switch (check.kind) {
    case 'routeCondition': {
      const { route, gateway, condition } = check;
      const parents = parentsOf(status, route);
      if (parents === undefined) return `HTTPRoute ${route.namespace}/${route.name} is not in /api/v1/routes (no status)`;
      const mine = parents.filter((p) => p.parentRef.name === gateway.name && (p.parentRef.namespace === null || p.parentRef.namespace === gateway.namespace));
      if (mine.length === 0) return `HTTPRoute ${route.namespace}/${route.name} has no parent status for Gateway ${gateway.namespace}/${gateway.name}`;
      const ok = mine.some((p) => p.conditions.some((c) => c.type === condition.type && (condition.status === '' || c.status === condition.status) && (condition.reason === '' || c.reason === condition.reason)));
      if (ok) return undefined;
      return `HTTPRoute ${route.namespace}/${route.name} parent ${gateway.name}: expected ${condition.type}=${condition.status || '*'}/${condition.reason || '*'}, got ${mine.map((p) => conditionText(p.conditions)).join(' ')}`;
    }
    case 'routeNoAcceptedParents': {
      const parents = parentsOf(status, check.route) ?? [];
      if (parents.length === 0) return undefined;
      if (parents.length > 1) return `HTTPRoute ${check.route.namespace}/${check.route.name}: expected at most one parent, got ${parents.length}`;
      const accepted = parents[0]!.conditions.find((c) => c.type === 'Accepted');
      return accepted?.status === 'False' ? undefined : `HTTPRoute ${check.route.namespace}/${check.route.name}: expected its parent Accepted=False, got ${conditionText(parents[0]!.conditions)}`;
    }
    case 'gatewayZeroRoutes': {
      const gw = status.gateways.find((g) => g.namespace === check.gateway.namespace && g.name === check.gateway.name);
      if (gw === undefined) return `Gateway ${check.gateway.namespace}/${check.gateway.name} is not in /api/v1/gateways`;
      const listeners = gw.listeners ?? [];
      if (listeners.length === 0 || (listeners.length === 1 && listeners[0]!.attachedRoutes === 0)) return undefined;
      return `Gateway ${check.gateway.namespace}/${check.gateway.name}: expected no listeners or one with 0 attached routes, got ${JSON.stringify(listeners.map((l) => [l.name, l.attachedRoutes]))}`;
    }
  }
}

/** Polls until `check` holds (undefined) or `timeoutMs` passes (the last difference). */
export async function awaitStatus(base: string, check: StatusCheck, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    try {
      last = checkStatus(check, await fetchStatus(base));
    } catch (err) {
      last = `admin API: ${(err as Error).message}`;
    }
    if (last === undefined || Date.now() >= deadline) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
}
