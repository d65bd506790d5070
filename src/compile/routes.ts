/**
 * Ingresses → the route table, with networking.k8s.io/v1 semantics:
 * - served as model/ingress-class.ts decides (IngressClass of our controller, the legacy annotation, the
 *   default class); the others get INGRESS_CLASS_IGNORED saying why;
 * - hosts exact or `*.suffix` (one extra label), compared lower-case;
 * - Exact paths compare whole; Prefix paths compare element-wise with trailing slashes ignored;
 *   ImplementationSpecific is treated as Prefix here;
 * - rules of several Ingresses merge by host; a host+path+type claimed twice goes to the oldest
 *   Ingress (creationTimestamp, then namespace/name) and the loser gets a diagnostic;
 * - a route is redirected to https (Route.redirectToHttps) when its host is named by a `tls:` entry of any
 *   served Ingress and its own Ingress does not say `switchyard.dev/ssl-redirect: "false"`, or when its
 *   own Ingress says `switchyard.dev/force-ssl-redirect: "true"` (TLS ended by a load balancer in front);
 * - the route annotations (rewrite-target, request/response headers, permanent-redirect) become the
 *   route's filters and a canary Ingress joins the main Ingress's route (ingress-annotations.ts,
 *   ingress-canary.ts).
 */
import { ingressClassProblem, type IngressClassIndex } from '../model/ingress-class.ts';
import { serviceKey } from '../model/keys.ts';
import type { IngressBackendRec, IngressPathRec, IngressRec, Meta, PathType } from '../model/records.ts';
import type { Diagnostic, HostRoutes, Route, RouteTable, RouteTarget, ServiceView } from '../snapshot/types.ts';
import { BackendProblems, describePorts, type BackendUse } from './backend-problems.ts';
import { coveredByTls, type TlsHosts } from './certificates.ts';
import { diag } from './diagnostics.ts';
import { ingressFilters, isCanary, ROUTE_ANNOTATIONS, type IngressFilters } from './ingress-annotations.ts';
import { chainRoutes, joinCanaries, type CanarySlot } from './ingress-canary.ts';
import { ANNOTATION_PREFIX } from './policy.ts';
import { AFFINITY_ANNOTATIONS, ingressSessionCookie } from './session-affinity.ts';

export interface RouteOptions {
  /** Which Ingresses are served (model/ingress-class.ts ingressClassIndex of the store's IngressClasses). */
  readonly classes: IngressClassIndex;
  /** Hosts named by `tls:` entries of served Ingresses (certificates.ts tlsHostsOf); default none. */
  readonly tlsHosts?: TlsHosts;
  /** The `ssl-redirect` default of Ingresses that do not set it (--ssl-redirect); default true. */
  readonly sslRedirect?: boolean;
}

/**
 * Every `switchyard.dev/*` annotation an Ingress may carry, with its default; any other is reported
 * (ANNOTATION_UNKNOWN), a bad value too (ANNOTATION_INVALID, the default applies):
 * - `ssl-redirect` ("true" | "false", default "true", or --ssl-redirect): plain-HTTP requests to hosts of
 *   this Ingress that a `tls:` entry names get 308 to https;
 * - `force-ssl-redirect` ("true" | "false", default "false"): redirect this Ingress's hosts even without
 *   a `tls:` entry.
 * The route annotations (rewrite-target, canary…) are ingress-annotations.ts ROUTE_ANNOTATIONS.
 */
export const INGRESS_ANNOTATIONS = { 'ssl-redirect': 'true', 'force-ssl-redirect': 'false' } as const;

export interface CompiledRoutes {
  readonly routes: RouteTable;
  readonly diagnostics: Diagnostic[];
}

/** Prefix paths are keyed without trailing slashes, so `/foo/` and `/foo` are one key and `/` is ''. */
export function prefixKey(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* '/' */) end--;
  return path.slice(0, end);
}

/**
 * Oldest first; an object without a timestamp sorts after every dated one; ties by namespace/name. The
 * order both Ingress rules and HTTPRoute rules are ranked by (Gateway API: creation time, then name).
 */
export function compareByAge(a: { readonly meta: Meta }, b: { readonly meta: Meta }): number {
  const ta = timestampOf(a);
  const tb = timestampOf(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = serviceKey(a.meta.namespace, a.meta.name);
  const kb = serviceKey(b.meta.namespace, b.meta.name);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** An unparseable timestamp counts as none, so the order stays total and independent of input order. */
function timestampOf(object: { readonly meta: Meta }): number {
  const t = object.meta.creationTimestamp === undefined ? NaN : Date.parse(object.meta.creationTimestamp);
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** A host's maps are made on first use: most hosts have paths of one type only. */
interface MutableHostRoutes {
  exact: Map<string, Route> | undefined;
  prefix: Map<string, Route> | undefined;
}

/**
 * The one map of a host's absent path type. An empty Map costs ~180 bytes: shared, 10,000 single-type
 * hosts save ~2 MB per process (a structured clone to the workers keeps the sharing).
 */
const NO_ROUTES: ReadonlyMap<string, Route> = new Map();

export function compileRoutes(
  ingresses: Iterable<IngressRec>,
  services: ReadonlyMap<string, ServiceView>,
  options: RouteOptions,
): CompiledRoutes {
  const diagnostics: Diagnostic[] = [];
  const hosts = new Map<string, MutableHostRoutes>();
  const wildcards = new Map<string, MutableHostRoutes>();
  let anyHost: MutableHostRoutes | undefined;
  let defaultBackend: RouteTarget | undefined;
  let defaultOwner: IngressRec | undefined;
  const list: Route[] = [];

  const served = [...ingresses].filter((ing) => {
    const problem = ingressClassProblem(ing, options.classes);
    if (problem === undefined) return true;
    diagnostics.push(diag('info', 'INGRESS_CLASS_IGNORED', ing, `not served: ${problem}`));
    return false;
  });
  served.sort(compareByAge);

  const tlsHosts = options.tlsHosts ?? NO_TLS_HOSTS;
  const problems = new BackendProblems(diagnostics);
  const canaries: IngressRec[] = [];
  for (const ing of served) {
    const redirect = redirectPolicy(ing, diagnostics, options.sslRedirect ?? true);
    if (isCanary(ing, diagnostics)) {
      canaries.push(ing);
      continue;
    }
    const filters = ingressFilters(ing, diagnostics);
    const sessionCookie = ingressSessionCookie(ing, diagnostics);
    if (ing.defaultBackend) {
      const target = resolveTarget(ing, ing.defaultBackend, services, problems, 'defaultBackend');
      if (defaultBackend === undefined) {
        defaultBackend = target;
        defaultOwner = ing;
      } else {
        diagnostics.push(diag('warning', 'INGRESS_DEFAULT_BACKEND_CONFLICT', ing, `spec.defaultBackend ignored: Ingress ${serviceKey(defaultOwner!.meta.namespace, defaultOwner!.meta.name)} is older and defines one`));
      }
    }
    for (const rule of ing.rules) {
      const host = rule.host ?? '';
      const table = host === '' ? (anyHost ??= newHostRoutes()) : hostTable(host, hosts, wildcards);
      for (const p of rule.paths) {
        const map = p.pathType === 'Exact' ? (table.exact ??= new Map()) : (table.prefix ??= new Map());
        const key = p.pathType === 'Exact' ? p.path : prefixKey(p.path);
        const existing = map.get(key);
        if (existing) {
          diagnostics.push(
            diag('warning', 'INGRESS_RULE_CONFLICT', ing, `host ${JSON.stringify(host || '*')} path ${JSON.stringify(p.path)} (${p.pathType}) ignored: already routed by Ingress ${existing.ingress}`),
          );
          continue;
        }
        const redirectToHttps = redirect.force || (redirect.ssl && coveredByTls(host, tlsHosts));
        const route: Route = { host, path: p.path, pathType: p.pathType, redirectToHttps, ...resolveTarget(ing, p.backend, services, problems, { host, path: p.path, pathType: p.pathType }), ...filtersFor(filters, p.pathType), ...(sessionCookie === undefined ? {} : { sessionCookie: sessionCookie(p.path) }) };
        map.set(key, route);
        list.push(route);
      }
    }
  }
  joinCanaries(canaries, canarySlot(hosts, wildcards, anyHost, list), (ing, backend, use) => resolveTarget(ing, backend, services, problems, use), diagnostics);
  problems.finish();

  return {
    routes: { hosts: finished(hosts), wildcards: finished(wildcards), anyHost: anyHost && finish(anyHost), defaultBackend, list: list.sort(compareRoutes) },
    diagnostics: dedupe(diagnostics),
  };
}

const NO_TLS_HOSTS: TlsHosts = { exact: new Set(), wildcards: new Set() };

function filtersFor(filters: IngressFilters, pathType: PathType): Pick<Route, 'filters'> {
  const f = pathType === 'Exact' ? filters.exact : filters.prefix;
  return f === undefined ? {} : { filters: f };
}

/** The route a canary path joins, found without creating a table (ingress-canary.ts CanarySlot). */
function canarySlot(hosts: ReadonlyMap<string, MutableHostRoutes>, wildcards: ReadonlyMap<string, MutableHostRoutes>, anyHost: MutableHostRoutes | undefined, list: Route[]) {
  return (host: string, p: IngressPathRec): CanarySlot | undefined => {
    const table = host === '' ? anyHost : host.startsWith('*.') ? wildcards.get(host.slice(2)) : hosts.get(host);
    const map = p.pathType === 'Exact' ? table?.exact : table?.prefix;
    const key = p.pathType === 'Exact' ? p.path : prefixKey(p.path);
    const route = map?.get(key);
    if (route === undefined) return undefined;
    return {
      route,
      replace: (head) => {
        map!.set(key, head);
        list.splice(list.indexOf(route), 1, ...chainRoutes(head));
      },
    };
  };
}

/** The Ingress's redirect annotations (see INGRESS_ANNOTATIONS); unknown or bad ones are reported. */
function redirectPolicy(ing: IngressRec, diagnostics: Diagnostic[], sslRedirect: boolean): { readonly ssl: boolean; readonly force: boolean } {
  const annotations = ing.meta.annotations;
  for (const key of Object.keys(annotations)) {
    const name = key.slice(ANNOTATION_PREFIX.length);
    if (key.startsWith(ANNOTATION_PREFIX) && !Object.hasOwn(INGRESS_ANNOTATIONS, name) && !ROUTE_ANNOTATIONS.has(name) && !AFFINITY_ANNOTATIONS.has(name)) {
      diagnostics.push(diag('warning', 'ANNOTATION_UNKNOWN', ing, `unknown annotation ${key} ignored`));
    }
  }
  const flag = (name: keyof typeof INGRESS_ANNOTATIONS): boolean => {
    const fallback = name === 'ssl-redirect' ? sslRedirect : (INGRESS_ANNOTATIONS[name] as string) === 'true';
    const value = annotations[ANNOTATION_PREFIX + name];
    if (value === undefined) return fallback;
    const v = value.trim().toLowerCase();
    if (v === 'true' || v === 'false') return v === 'true';
    diagnostics.push(diag('warning', 'ANNOTATION_INVALID', ing, `${ANNOTATION_PREFIX}${name}: ${JSON.stringify(value)} is not "true" or "false"; using the default ${fallback}`));
    return fallback;
  };
  return { ssl: flag('ssl-redirect'), force: flag('force-ssl-redirect') };
}

function newHostRoutes(): MutableHostRoutes {
  return { exact: undefined, prefix: undefined };
}

function finish(table: MutableHostRoutes): HostRoutes {
  return { exact: table.exact ?? NO_ROUTES, prefix: table.prefix ?? NO_ROUTES };
}

function finished(tables: ReadonlyMap<string, MutableHostRoutes>): Map<string, HostRoutes> {
  const out = new Map<string, HostRoutes>();
  for (const [key, table] of tables) out.set(key, finish(table));
  return out;
}

function hostTable(host: string, hosts: Map<string, MutableHostRoutes>, wildcards: Map<string, MutableHostRoutes>): MutableHostRoutes {
  const wildcard = host.startsWith('*.');
  const map = wildcard ? wildcards : hosts;
  const key = wildcard ? host.slice(2) : host;
  let table = map.get(key);
  if (!table) map.set(key, (table = newHostRoutes()));
  return table;
}

function resolveTarget(ing: IngressRec, backend: IngressBackendRec, services: ReadonlyMap<string, ServiceView>, problems: BackendProblems, use: BackendUse): RouteTarget {
  const ingress = serviceKey(ing.meta.namespace, ing.meta.name);
  if (!backend.service) {
    const r = backend.resource!;
    problems.add(ing, 'INGRESS_RESOURCE_BACKEND_UNSUPPORTED', use, `resource ${r.kind}/${r.name}`, 'resource backends are not supported');
    return { backend: undefined, problem: 'unsupported-backend', describe: `${r.kind}/${r.name}`, ingress };
  }
  const { name, portNumber, portName } = backend.service;
  const sKey = serviceKey(ing.meta.namespace, name);
  const describe = `${sKey}:${portNumber ?? portName}`;
  const target = `Service ${name} port ${portNumber ?? JSON.stringify(portName)}`;
  const svc = services.get(sKey);
  if (!svc) {
    problems.add(ing, 'INGRESS_BACKEND_SERVICE_MISSING', use, target, `no such Service in namespace ${ing.meta.namespace}`);
    return { backend: undefined, problem: 'unknown-service', describe, ingress };
  }
  if (svc.type === 'ExternalName') {
    problems.add(ing, 'INGRESS_BACKEND_EXTERNALNAME', use, target, `Service ${sKey} is of type ExternalName, which is not proxied`);
    return { backend: undefined, problem: 'unsupported-backend', describe, ingress };
  }
  // HTTP rides on TCP: a port number also served over UDP resolves to its TCP entry.
  const port = svc.ports.find((p) => p.protocol === 'TCP' && (portNumber !== undefined ? p.port === portNumber : p.name === portName));
  if (!port) {
    const wanted = portNumber !== undefined ? `TCP port ${portNumber}` : `TCP port named ${JSON.stringify(portName)}`;
    problems.add(ing, 'INGRESS_BACKEND_PORT_MISSING', use, target, `Service ${sKey} has no ${wanted} (${describePorts(svc)})`);
    return { backend: undefined, problem: 'unknown-port', describe, ingress };
  }
  return { backend: port.backend, problem: undefined, describe, ingress };
}

const PATH_TYPE_ORDER: Record<Route['pathType'], number> = { Exact: 0, RegularExpression: 1, Prefix: 2, ImplementationSpecific: 3 };

/** The order of RouteTable.list: by host, longer paths first, Exact before the others. */
export function compareRoutes(a: Route, b: Route): number {
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return PATH_TYPE_ORDER[a.pathType] - PATH_TYPE_ORDER[b.pathType];
}

/** The same problem found twice (e.g. one bad annotation read for two rules) is reported once; backend problems are merged by BackendProblems. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}|${d.kind}|${d.namespace}|${d.name}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
