/**
 * The listener plan and the attached routes → one view per Gateway port: the socket the data plane opens
 * on --gateway-address, the route table its requests are matched against (only the routes attached
 * through a listener on that port: the same matcher, another table), and for HTTPS the certificates
 * its listeners' hostnames select by SNI. Ingress listeners never see these routes.
 */
import type { StoreView } from '../model/store-view.ts';
import type { Diagnostic, GatewayListenerState, GatewayPortView, ListenerHostIndex, RouteTable, TlsCertificate } from '../snapshot/types.ts';
import { ourGateways, planListeners, type ListenerPlan, type ServedListener } from './gateway-listeners.ts';
import type { RankedRoute } from './gateway-routes.ts';
import { mergeRoutes } from './route-merge.ts';
import { compareRoutes } from './routes.ts';

/**
 * The listener plan of Switchyard's Gateways, certificates checked at `now`. Called before the routes
 * are attached, so attachRoutes finds it made (planListeners is memoised per store view).
 */
export function planGatewayListeners(view: StoreView, controllerName: string | undefined, now: number | undefined): ListenerPlan {
  return planListeners(view, ourGateways(view, controllerName), now);
}

export interface CompiledGatewayPorts {
  readonly ports: ReadonlyMap<number, GatewayPortView>;
  readonly listeners: readonly GatewayListenerState[];
  /** Digests of the certificates served (Secret key → digest): feeds the snapshot hash without the keys. */
  readonly fingerprints: readonly (readonly [string, string])[];
}

const EMPTY_TABLE: RouteTable = { hosts: new Map(), wildcards: new Map(), anyHost: undefined, defaultBackend: undefined, list: [] };

/**
 * `ranked`: every Gateway API route (HTTPRoute, GRPCRoute) in precedence order, each with the
 * `listenerPorts` it attached through. Diagnostics of the tables (shadowed routes) are added once.
 */
export function compileGatewayPorts(plan: ListenerPlan, ranked: readonly RankedRoute[], diagnostics: Diagnostic[]): CompiledGatewayPorts {
  const byPort = new Map<number, ServedListener[]>();
  for (const listeners of plan.served.values()) {
    for (const s of listeners) byPort.set(s.listener.port, [...(byPort.get(s.listener.port) ?? []), s]);
  }
  const ports = new Map<number, GatewayPortView>();
  const fingerprints = new Map<string, string>();
  const seen = new Set<string>();
  for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
    const listeners = byPort.get(port)!;
    const protocol = listeners[0]!.listener.protocol === 'HTTPS' ? 'HTTPS' : 'HTTP';
    const local: Diagnostic[] = [];
    const routes = mergeRoutes(EMPTY_TABLE, ranked.filter((r) => r.route.listenerPorts?.includes(port)), local);
    // A route attached on several ports is shadowed on each: reported once.
    for (const d of local) {
      const key = `${d.code}|${d.kind}|${d.namespace}|${d.name}|${d.message}`;
      if (!seen.has(key)) diagnostics.push(d);
      seen.add(key);
    }
    const tls = protocol === 'HTTPS' ? tlsTable(listeners, fingerprints) : undefined;
    const names = listeners.map((s) => `${s.gateway.meta.namespace}/${s.gateway.meta.name}/${s.listener.name}`);
    ports.set(port, { port, protocol, routes, tls, listeners: names, ...(protocol === 'HTTPS' ? { listenerHosts: listenerHosts(listeners) } : {}) });
  }
  return { ports, listeners: plan.states, fingerprints: [...fingerprints].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/**
 * The certificates of one HTTPS port: each listener's hostname selects its certificate (exact, or
 * `*.suffix` for a wildcard); the default (clients without SNI, names no listener has) is the first
 * listener without a hostname's, else the oldest listener's.
 */
function tlsTable(listeners: readonly ServedListener[], fingerprints: Map<string, string>): GatewayPortView['tls'] {
  const certificates = new Map<string, TlsCertificate>();
  const hosts = new Map<string, string>();
  const wildcards = new Map<string, string>();
  let defaultKey: string | undefined;
  for (const s of listeners) {
    const cert = s.cert;
    if (cert === undefined) continue;
    const key = cert.certificate.secret;
    certificates.set(key, cert.certificate);
    fingerprints.set(key, cert.fingerprint);
    const host = s.listener.hostname;
    if (host === undefined) defaultKey ??= key;
    else if (host.startsWith('*.')) {
      if (!wildcards.has(host.slice(2))) wildcards.set(host.slice(2), key);
    } else if (!hosts.has(host)) hosts.set(host, key);
  }
  defaultKey ??= listeners.find((s) => s.cert !== undefined)?.cert!.certificate.secret ?? '';
  return { certificates, hosts, wildcards, defaultKey, uses: [] };
}

/** Which of an HTTPS port's listeners each host name selects (indices into its listeners), for the 421 check. */
function listenerHosts(listeners: readonly ServedListener[]): ListenerHostIndex {
  const exact = new Map<string, number>();
  const wildcards = new Map<string, number>();
  let fallback = -1;
  listeners.forEach((s, i) => {
    const host = s.listener.hostname;
    if (host === undefined) fallback = fallback < 0 ? i : fallback;
    else if (host.startsWith('*.')) {
      if (!wildcards.has(host.slice(2))) wildcards.set(host.slice(2), i);
    } else if (!exact.has(host)) exact.set(host, i);
  });
  return { exact, wildcards, fallback };
}

/**
 * The Ingress table with the Gateway API routes added to its `list` only: the admin API, `check` and the
 * metrics list every route, while the Ingress listeners' maps keep none of them.
 */
export function listGatewayRoutes(table: RouteTable, ranked: readonly RankedRoute[]): RouteTable {
  if (ranked.length === 0) return table;
  return { ...table, list: [...table.list, ...ranked.map((r) => r.route)].sort(compareRoutes) };
}
