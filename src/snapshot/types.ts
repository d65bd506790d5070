/**
 * The compiled, immutable routing state. Built whole by compile(), swapped in by one reference
 * assignment, read once per request. Plain data (Maps, arrays, strings, numbers) so it can be
 * structured-cloned to another process.
 */
import type { PathType, Protocol, TrafficPolicy } from '../model/records.ts';
import type { GatewayStatusTable } from './gateway-status-types.ts';

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
  /** `http`: GET `path`, status in `expectedStatuses`; `grpc`: grpc.health.v1.Health/Check, SERVING is healthy. */
  readonly protocol: 'http' | 'grpc';
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

/**
 * How Switchyard speaks to a backend's pods, from the Service port's `appProtocol` and the
 * `switchyard.dev/backend-protocol` annotation: `http1` (the default, also `kubernetes.io/ws`), `h2c`
 * (HTTP/2 cleartext with prior knowledge: `kubernetes.io/h2c`, `h2c`, `grpc`), `tls` (`https`,
 * `kubernetes.io/wss`: HTTP/2 when the pod offers it by ALPN, else HTTP/1.1).
 */
export type UpstreamProtocol = 'http1' | 'h2c' | 'tls';

export interface UpstreamSpec {
  readonly protocol: UpstreamProtocol;
  /** PEM CA bundle that pod certificates must chain to (`switchyard.dev/backend-ca-secret`); undefined: not verified. */
  readonly caPem: string | undefined;
}

/** Which Service port a backend or a layer-4 port view is. */
export interface ServicePortId {
  /** `namespace/name:port` (`/udp`, `/sctp` suffixed for those protocols): the key into Snapshot.backends. */
  readonly key: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
  readonly portName: string;
  readonly protocol: Protocol;
}

/** One Service port and the endpoints behind it. */
export interface Backend extends ServicePortId {
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
  readonly upstream: UpstreamSpec;
  /**
   * The key of the Service port's own backend when this is a variant of it spoken to another way (`<key>/h2c`:
   * GRPCRoutes speak h2c to ports that name no protocol, compile/grpc-routes.ts); absent: the port's own.
   */
  readonly variantOf?: string;
  /**
   * The Service's `sessionAffinity: ClientIP` timeout, seconds (`sessionAffinityConfig.clientIP.timeoutSeconds`,
   * default 10800): a client address keeps its endpoint while it stays in the rotation and available
   * (dataplane/affinity-table.ts). Absent: no affinity.
   */
  readonly clientAffinitySeconds?: number;
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

/** One header or query parameter condition of a route (Gateway API matches). */
export interface ValueCondition {
  /** Header names lower-cased; query parameter names as written (they compare case-sensitively). */
  readonly name: string;
  /** The exact value, or a pattern (Switchyard's regular expression dialect, matched whole). */
  readonly value: string;
  readonly regex: boolean;
}

/**
 * What a request must also have, beyond host and path, for a route to take it (HTTPRoute matches).
 * Routes without conditions (every Ingress route) carry none, and the matcher checks nothing more.
 */
export interface RouteConditions {
  /** Upper-case method; undefined: any. */
  readonly method: string | undefined;
  readonly headers: readonly ValueCondition[];
  readonly query: readonly ValueCondition[];
}

/** Header edits applied to a request or a response: removed, then set (replacing), then added. Names lower-case. */
export interface HeaderEdits {
  readonly remove: readonly string[];
  /** [name, value, …]. */
  readonly set: readonly string[];
  /** [name, value, …]. */
  readonly add: readonly string[];
}

/** A path rewrite: the whole path, or the prefix the route matched (PathPrefix routes only). */
export interface PathRewrite {
  readonly type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  readonly value: string;
}

/** What an HTTPRoute rule's filters do to the requests of its routes (dataplane/route-filters.ts applies them). */
export interface RouteFilters {
  readonly requestHeaders: HeaderEdits | undefined;
  readonly responseHeaders: HeaderEdits | undefined;
  /** Answered by a redirect instead of being forwarded. */
  readonly redirect:
    | { readonly scheme: string | undefined; readonly hostname: string | undefined; readonly port: number | undefined; readonly path: PathRewrite | undefined; readonly statusCode: number }
    | undefined;
  /** Forwarded with another Host and/or path. */
  readonly rewrite: { readonly hostname: string | undefined; readonly path: PathRewrite | undefined } | undefined;
  /** RequestMirror filters whose backend resolved (dataplane/request-mirror.ts); absent: none. */
  readonly mirrors?: readonly RouteMirror[];
  /** The rule's `timeouts`; absent: none set (the flags and Service annotations apply). */
  readonly timeouts?: RouteTimeouts;
}

/** A copy of each request (a share `numerator/denominator` of them) sent to another backend, its answer discarded. */
export interface RouteMirror {
  /** Key into Snapshot.backends. */
  readonly backend: string;
  readonly numerator: number;
  readonly denominator: number;
}

/** HTTPRoute rule timeouts, ms; 0: none; undefined: not set. */
export interface RouteTimeouts {
  /** From the request head to the response head (→ 504), retries included. */
  readonly requestMs: number | undefined;
  /** Per attempt, from its hand-over to a pod connection to the response head (→ 504); replaces --upstream-timeout. */
  readonly backendRequestMs: number | undefined;
}

/**
 * One weighted choice of a route with several backends (HTTPRoute backendRefs), a target of its own (so
 * metrics label each with its Service). `backend` undefined: the reference does not resolve, and the
 * requests that fall to it are answered 500 (as the spec requires).
 */
export interface WeightedTarget extends RouteTarget {
  readonly weight: number;
}

/**
 * Cookie session affinity of a route (Ingress `switchyard.dev/affinity: cookie`, HTTPRoute rule
 * `sessionPersistence`): the cookie names the chosen endpoint by an opaque hash (dataplane/affinity-cookie.ts).
 */
export interface SessionCookie {
  readonly name: string;
  readonly path: string;
  /** Max-Age, seconds; undefined: a session cookie. */
  readonly maxAgeSeconds: number | undefined;
  /**
   * Switchyard ends a session this long after it began (HTTPRoute `absoluteTimeout` of a Session cookie),
   * seconds; absent: never. Sessions with a limit carry their times in the cookie's value.
   */
  readonly absoluteSeconds?: number;
  /** Switchyard ends a session this long after its last request (HTTPRoute `idleTimeout`), seconds; absent: never. */
  readonly idleSeconds?: number;
}

export interface RouteTarget {
  /** Key into Snapshot.backends when the backend resolved. */
  readonly backend: string | undefined;
  readonly problem: RouteProblem | undefined;
  /** `namespace/service:port-as-written`, for the admin API and messages. */
  readonly describe: string;
  /** `namespace/name` of the Ingress that defined it. */
  readonly ingress: string;
  /**
   * Plain-HTTP requests get 308 to https (when a TLS listener is open): the host has an Ingress `tls:`
   * entry and `switchyard.dev/ssl-redirect` is not "false", or `switchyard.dev/force-ssl-redirect` is
   * "true". Absent (false) on the default backend.
   */
  readonly redirectToHttps?: boolean;
  /**
   * Several backends sharing the route's traffic by weight (HTTPRoute backendRefs), balanced per request
   * (dataplane/weighted.ts); `backend` and `problem` then describe none of them. Absent: one backend.
   */
  readonly weighted?: readonly WeightedTarget[];
  /**
   * With `weighted`: the rule's identity, the same in every snapshot while the rule exists
   * (`HTTPRoute/ns/name#rule`, `GRPCRoute/…`, `Ingress/ns/name host path (type)` for a canary): the key of
   * its weighting counter, shared by the worker threads (dataplane/weighted.ts). Absent: none.
   */
  readonly weightKey?: string;
  /** HTTPRoute filters, or the Ingress route annotations compiled to them (compile/ingress-annotations.ts); absent: none. */
  readonly filters?: RouteFilters;
  /** Cookie session affinity; absent: none. */
  readonly sessionCookie?: SessionCookie;
  /** The kind of object that defined it when not an Ingress: `HTTPRoute` or `GRPCRoute` (then `ingress` is that route's `namespace/name`). */
  readonly routeKind?: 'HTTPRoute' | 'GRPCRoute';
}

export interface Route extends RouteTarget {
  /** Lower-cased host, `*.suffix` for a wildcard, '' for a rule that matches every host. */
  readonly host: string;
  /** The path, or for `RegularExpression` the pattern. */
  readonly path: string;
  readonly pathType: PathType | 'RegularExpression';
  readonly redirectToHttps: boolean;
  /** Method, header and query conditions (HTTPRoute matches, an Ingress canary's header); absent: none. */
  readonly conditions?: RouteConditions;
  /**
   * The next route of the same host and path key, lower in precedence: tried when this one's conditions
   * do not hold. Absent: none (the matcher goes on to shorter prefixes).
   */
  readonly next?: Route;
  /** The Gateway listener ports it was attached through (HTTPRoutes); absent: the Ingress listeners. */
  readonly listenerPorts?: readonly number[];
}

/** Paths of one host. Prefix keys have their trailing slashes removed ('/' becomes ''). */
export interface HostRoutes {
  readonly exact: ReadonlyMap<string, Route>;
  readonly prefix: ReadonlyMap<string, Route>;
  /**
   * RegularExpression routes (HTTPRoute), in precedence order: tried after the Exact map and before the
   * prefixes. Absent: none.
   */
  readonly regex?: readonly Route[];
}

export interface RouteTable {
  /** Exact hosts. */
  readonly hosts: ReadonlyMap<string, HostRoutes>;
  /** Wildcard hosts keyed by the suffix after `*.` (`*.example.com` → `example.com`). */
  readonly wildcards: ReadonlyMap<string, HostRoutes>;
  /** Rules without a host. */
  readonly anyHost: HostRoutes | undefined;
  /**
   * Gateway API wildcards (`*.example.com` covers any number of extra labels, unlike an Ingress's one),
   * keyed by suffix; tried after `wildcards`, longest suffix first. Absent: none.
   */
  readonly deepWildcards?: ReadonlyMap<string, HostRoutes>;
  readonly defaultBackend: RouteTarget | undefined;
  /** Every route, in table order, for the admin API. */
  readonly list: readonly Route[];
}

/** What an X.509 certificate says about itself, for the admin API and expiry checks. */
export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  /** DNS names of subjectAltName. */
  readonly sans: readonly string[];
  /** RFC 3339. */
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint256: string;
}

/** A usable certificate: key and chain as PEM, parsed and checked once per Secret change. */
export interface TlsCertificate {
  /** `namespace/name` of its Secret; '' for the self-signed certificate generated at start-up. */
  readonly secret: string;
  /** Leaf first, then its chain. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly info: CertificateInfo;
}

/** One Secret referenced by Ingress `tls:` entries or --default-certificate, for the admin API. */
export interface CertificateUse {
  /** `namespace/name`. */
  readonly secret: string;
  /** Hosts it serves (lower-cased, `*.suffix` for wildcards); empty for the default certificate alone. */
  readonly hosts: readonly string[];
  /** `namespace/name` of the Ingresses that reference it. */
  readonly ingresses: readonly string[];
  readonly isDefault: boolean;
  /** Undefined when the Secret could not be used (then `error` says why). */
  readonly info: CertificateInfo | undefined;
  readonly error: string | undefined;
}

/**
 * Certificates chosen by SNI: the exact host, else a one-label wildcard (`*.example.com`), else the
 * default (--default-certificate when usable, else the generated one).
 */
export interface TlsTable {
  /** Usable certificates by Secret key (`namespace/name`), the generated default under ''. */
  readonly certificates: ReadonlyMap<string, TlsCertificate>;
  /** Exact host → Secret key. */
  readonly hosts: ReadonlyMap<string, string>;
  /** Wildcard suffix (`*.example.com` → `example.com`) → Secret key. */
  readonly wildcards: ReadonlyMap<string, string>;
  /** Secret key of the default certificate ('' for the generated one). */
  readonly defaultKey: string;
  readonly uses: readonly CertificateUse[];
}

/**
 * One Service port as the layer-4 service proxy (the kube-proxy role) sees it, whatever the node: where
 * traffic arrives (frontends) and the rules for choosing an endpoint. Its endpoints are those of the
 * backend of the same key; compile/l4-plan.ts applies the per-node rules (traffic policies).
 */
export interface L4PortView extends ServicePortId {
  readonly clusterIPs: readonly string[];
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  /** Undefined: the port has no node port. */
  readonly nodePort: number | undefined;
  /** sessionAffinity ClientIP: how long a client address keeps its endpoint, seconds; undefined: no affinity. */
  readonly affinityTimeoutSeconds: number | undefined;
  /** Applies to traffic to the cluster IPs. */
  readonly internalTrafficPolicy: TrafficPolicy;
  /** Applies to traffic to node ports, external IPs and load-balancer IPs. */
  readonly externalTrafficPolicy: TrafficPolicy;
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
  readonly tls: TlsTable;
  /** Every Service port the layer-4 service proxy serves, sorted by key (headless, ExternalName and invalid ones left out). */
  readonly l4: readonly L4PortView[];
  readonly diagnostics: readonly Diagnostic[];
  /** The Gateway listener ports to open on --gateway-address, by port; absent or empty: none. */
  readonly gatewayPorts?: ReadonlyMap<number, GatewayPortView>;
  /** Every listener of Switchyard's Gateways and its outcome, for status; absent: none. */
  readonly gatewayListeners?: readonly GatewayListenerState[];
  /** Conditions of Switchyard's GatewayClasses, Gateways and routes (compile/gateway-status.ts); absent: none computed. */
  readonly gatewayStatus?: GatewayStatusTable;
}

/** One socket of the Gateway listeners: what its requests are matched against and, for HTTPS, its certificates. */
export interface GatewayPortView {
  readonly port: number;
  readonly protocol: 'HTTP' | 'HTTPS';
  /** The routes attached through the listeners on this port, and only those. */
  readonly routes: RouteTable;
  /** HTTPS: certificates by SNI (exact, then wildcard suffixes, longest first, then the default). */
  readonly tls: TlsTable | undefined;
  /** `namespace/gateway/listener` of the listeners served on it. */
  readonly listeners: readonly string[];
  /** HTTPS: which listener a host name belongs to, to answer 421 when the Host's is not the SNI's; absent for HTTP. */
  readonly listenerHosts?: ListenerHostIndex;
}

/**
 * The listener of an HTTPS port a host name selects, as an index into GatewayPortView.listeners: its exact
 * hostname, else the longest wildcard suffix (a Gateway wildcard covers any number of labels), else the
 * listener without a hostname (`fallback`); -1: none.
 */
export interface ListenerHostIndex {
  readonly exact: ReadonlyMap<string, number>;
  /** Keyed by the suffix after `*.`. */
  readonly wildcards: ReadonlyMap<string, number>;
  readonly fallback: number;
}

/** One condition of a listener (the spec's type, status and reason). */
export interface ListenerCondition {
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

/**
 * A listener of one of Switchyard's Gateways: what compile decided (conflicts, references) and, once
 * the data plane tried, whether its port could be bound (Accepted false, reason PortUnavailable).
 */
export interface GatewayListenerState {
  readonly namespace: string;
  readonly gateway: string;
  readonly listener: string;
  readonly port: number;
  readonly protocol: string;
  readonly hostname: string | undefined;
  /** Reasons Accepted, UnsupportedProtocol, PortUnavailable. */
  readonly accepted: ListenerCondition;
  /** Reasons NoConflicts, ProtocolConflict, HostnameConflict. */
  readonly conflicted: ListenerCondition;
  /** Reasons ResolvedRefs, InvalidCertificateRef, RefNotPermitted. */
  readonly resolvedRefs: ListenerCondition;
  /** True when its port is served with it: Programmed, else Invalid (or Pending until the port is bound). */
  readonly programmed: ListenerCondition;
}
