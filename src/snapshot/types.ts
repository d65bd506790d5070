/**
 * The compiled, immutable routing state. Built whole by compile(), swapped in by one reference
 * assignment, read once per request. Plain data (Maps, arrays, strings, numbers) so it can be
 * structured-cloned to another process.
 */
import type { PathType, Protocol } from '../model/records.ts';

export type Severity = 'error' | 'warning' | 'info';

/** A problem with one object: reported, never fatal to the rest of the configuration. */
export interface Diagnostic {
  readonly severity: Severity;
  /** Stable code, e.g. `INGRESS_BACKEND_SERVICE_MISSING`. */
  readonly code: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly message: string;
}

export interface EndpointView {
  /** `address:port`, unique across the snapshot; the key of health state and upstream pools. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly hostname: string | undefined;
  readonly nodeName: string | undefined;
  readonly targetRef: string | undefined;
}

export interface HealthCheckPolicy {
  readonly path: string;
  /** Port to probe; 0 means the endpoint's own port. */
  readonly port: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** Inclusive status ranges that count as healthy. */
  readonly expectedStatuses: readonly (readonly [number, number])[];
}

export interface OutlierPolicy {
  readonly consecutive5xx: number;
  /** Refused or reset connections and timeouts in a row that eject. */
  readonly consecutiveConnectFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
}

/** Per-Service traffic policy, from `switchyard.dev/*` annotations (see compile/policy.ts). */
export interface BackendPolicy {
  readonly retries: number;
  readonly retryBudgetPercent: number;
  /** Undefined: the listener's default (from flags). */
  readonly connectTimeoutMs: number | undefined;
  readonly responseTimeoutMs: number | undefined;
  readonly idleTimeoutMs: number | undefined;
  /** Undefined when outlier detection is off. */
  readonly outlier: OutlierPolicy | undefined;
  /** Undefined when no active check is configured. */
  readonly healthCheck: HealthCheckPolicy | undefined;
}

/** One Service port and the endpoints behind it. */
export interface Backend {
  /** `namespace/name:port`. */
  readonly key: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
  readonly portName: string;
  readonly protocol: Protocol;
  /** Ready endpoints, in a stable order (address, then port): the round-robin rotation. */
  readonly ready: readonly EndpointView[];
  /** Every endpoint, ready or not, same order. */
  readonly all: readonly EndpointView[];
  /**
   * What traffic is balanced over: the ready endpoints; when there are none, the serving-and-terminating
   * ones (the fallback kube-proxy implements, so a Service whose pods are all shutting down still answers).
   */
  readonly rotation: readonly EndpointView[];
  /** True when `rotation` is the terminating fallback. */
  readonly terminatingFallback: boolean;
  readonly policy: BackendPolicy;
}

export interface ServicePortView {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number | string | undefined;
  readonly protocol: Protocol;
  readonly appProtocol: string | undefined;
  /** Key into Snapshot.backends. */
  readonly backend: string;
}

/** One pod address of a Service, whatever its ports: what DNS answers for headless Services. */
export interface ServiceAddress {
  readonly address: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly hostname: string | undefined;
}

export interface ServiceView {
  readonly namespace: string;
  readonly name: string;
  readonly type: string;
  readonly clusterIPs: readonly string[];
  readonly headless: boolean;
  readonly externalName: string | undefined;
  /** Registry names, most specific first. */
  readonly names: readonly string[];
  readonly ports: readonly ServicePortView[];
  /** Every distinct endpoint address of the Service (also when it has no ports), sorted. */
  readonly addresses: readonly ServiceAddress[];
}

/** Why a route cannot be served, when it cannot: answered as 503 by the data plane. */
export type RouteProblem = 'unknown-service' | 'unknown-port' | 'unsupported-backend';

export interface RouteTarget {
  /** Key into Snapshot.backends when the backend resolved. */
  readonly backend: string | undefined;
  readonly problem: RouteProblem | undefined;
  /** `namespace/service:port-as-written`, for the admin API and messages. */
  readonly describe: string;
  /** `namespace/name` of the Ingress that defined it. */
  readonly ingress: string;
}

export interface Route extends RouteTarget {
  /** Lower-cased host, `*.suffix` for a wildcard, '' for a rule that matches every host. */
  readonly host: string;
  readonly path: string;
  readonly pathType: PathType;
}

/** Paths of one host. Prefix keys have their trailing slashes removed ('/' becomes ''). */
export interface HostRoutes {
  readonly exact: ReadonlyMap<string, Route>;
  readonly prefix: ReadonlyMap<string, Route>;
}

export interface RouteTable {
  /** Exact hosts. */
  readonly hosts: ReadonlyMap<string, HostRoutes>;
  /** Wildcard hosts keyed by the suffix after `*.` (`*.example.com` → `example.com`). */
  readonly wildcards: ReadonlyMap<string, HostRoutes>;
  /** Rules without a host. */
  readonly anyHost: HostRoutes | undefined;
  readonly defaultBackend: RouteTarget | undefined;
  /** Every route, in table order, for the admin API. */
  readonly list: readonly Route[];
}

export interface Snapshot {
  /** Increases by one per swap. */
  readonly version: number;
  /** Hash of the compiled content; equal hashes mean an identical routing state. */
  readonly hash: string;
  /** Store version it was compiled from. */
  readonly storeVersion: number;
  readonly createdAt: string;
  readonly clusterDomain: string;
  /** Services keyed `namespace/name`. */
  readonly services: ReadonlyMap<string, ServiceView>;
  readonly backends: ReadonlyMap<string, Backend>;
  /** DNS-style name → `namespace/name`. */
  readonly registry: ReadonlyMap<string, string>;
  readonly routes: RouteTable;
  readonly diagnostics: readonly Diagnostic[];
}
