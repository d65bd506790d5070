/**
 * Records of the Gateway API kinds (gateway.networking.k8s.io): GatewayClass, Gateway, HTTPRoute,
 * GRPCRoute, ReferenceGrant, and the Namespace labels `allowedRoutes.namespaces.from: Selector` reads. Defaults the
 * spec gives are applied by the source (sources/normalize-gateway.ts), so a record says what is meant.
 */
import type { Meta, Origin } from './records.ts';

/** The `spec.controllerName` naming Switchyard unless --gateway-controller-name says otherwise. */
export const DEFAULT_GATEWAY_CONTROLLER = 'switchyard.dev/gateway-controller';

/** The API group of the Gateway API kinds, the default group of parentRefs. */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface GatewayClassRec {
  readonly kind: 'GatewayClass';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly controllerName: string;
}

/** A label selector (metav1.LabelSelector). */
export interface LabelSelectorRec {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly { readonly key: string; readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; readonly values: readonly string[] }[];
}

export interface GatewayListenerRec {
  readonly name: string;
  /** Lower-cased, exact or `*.suffix`; undefined: every host. */
  readonly hostname: string | undefined;
  readonly port: number;
  /** `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP` or a domain-prefixed protocol; compile serves HTTP only for now. */
  readonly protocol: string;
  /** allowedRoutes.namespaces.from; default Same. */
  readonly allowedNamespaces: 'Same' | 'All' | 'Selector';
  /** allowedRoutes.namespaces.selector, with `Selector`. */
  readonly namespaceSelector: LabelSelectorRec | undefined;
  /** allowedRoutes.kinds; empty: the kinds of the protocol (HTTPRoute for HTTP). */
  readonly allowedKinds: readonly { readonly group: string; readonly kind: string }[];
  /** The listener's `tls` (HTTPS, TLS); undefined: none given. */
  readonly tls?: GatewayListenerTlsRec | undefined;
}

/** A listener's `tls`: mode (default Terminate) and the certificate references, defaults applied. */
export interface GatewayListenerTlsRec {
  readonly mode: 'Terminate' | 'Passthrough';
  /** group '' and kind Secret by default; namespace defaulted to the Gateway's. */
  readonly certificateRefs: readonly { readonly group: string; readonly kind: string; readonly namespace: string; readonly name: string }[];
}

export interface GatewayRec {
  readonly kind: 'Gateway';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly gatewayClassName: string;
  readonly listeners: readonly GatewayListenerRec[];
}

export interface ParentRefRec {
  readonly group: string;
  readonly kind: string;
  /** Defaulted to the route's namespace. */
  readonly namespace: string;
  readonly name: string;
  readonly sectionName: string | undefined;
  readonly port: number | undefined;
}

export type HttpPathMatchType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type HttpValueMatchType = 'Exact' | 'RegularExpression';

export interface HttpValueMatchRec {
  readonly type: HttpValueMatchType;
  /** Header names are lower-cased (they compare case-insensitively); query parameter names are kept as written. */
  readonly name: string;
  readonly value: string;
}

export interface HttpRouteMatchRec {
  /** Default PathPrefix `/`. */
  readonly path: { readonly type: HttpPathMatchType; readonly value: string };
  readonly headers: readonly HttpValueMatchRec[];
  readonly queryParams: readonly HttpValueMatchRec[];
  /** Upper-case; undefined: any method. */
  readonly method: string | undefined;
}

export interface BackendRefRec {
  /** '' for the core group (Service). */
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  /** Defaulted to the route's namespace. */
  readonly namespace: string;
  readonly port: number | undefined;
  /** Default 1. */
  readonly weight: number;
}

/** Header edits of RequestHeaderModifier and ResponseHeaderModifier; names as written. */
export interface HeaderModifierRec {
  readonly set: readonly { readonly name: string; readonly value: string }[];
  readonly add: readonly { readonly name: string; readonly value: string }[];
  readonly remove: readonly string[];
}

export interface PathModifierRec {
  readonly type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  readonly value: string;
}

export type HttpRouteFilterRec =
  | { readonly type: 'RequestHeaderModifier' | 'ResponseHeaderModifier'; readonly headers: HeaderModifierRec }
  | {
      readonly type: 'RequestRedirect';
      readonly scheme: 'http' | 'https' | undefined;
      readonly hostname: string | undefined;
      readonly port: number | undefined;
      readonly path: PathModifierRec | undefined;
      /** Default 302. */
      readonly statusCode: number;
    }
  | { readonly type: 'URLRewrite'; readonly hostname: string | undefined; readonly path: PathModifierRec | undefined }
  /** `percent: p` is `p/100`; neither percent nor fraction: every request (1/1). `backendRef.weight` is unused. */
  | { readonly type: 'RequestMirror'; readonly backendRef: BackendRefRec; readonly numerator: number; readonly denominator: number }
  /** A filter type Switchyard does not apply (yet): CORS, ExternalAuth, ExtensionRef. */
  | { readonly type: 'Unsupported'; readonly name: string };

/** A rule's `sessionPersistence` (GEP-1619), defaults applied: type Cookie, lifetimeType Session. */
export interface SessionPersistenceRec {
  readonly type: 'Cookie' | 'Header';
  /** Undefined: Switchyard's default name. */
  readonly sessionName: string | undefined;
  /** ms; undefined: not set. */
  readonly absoluteTimeoutMs: number | undefined;
  readonly idleTimeoutMs: number | undefined;
  readonly lifetimeType: 'Permanent' | 'Session';
}

/** A rule's `timeouts`, in ms; 0: no timeout (the spec's "0s"); undefined: not set (Switchyard's defaults apply). */
export interface HttpRouteTimeoutsRec {
  readonly requestMs: number | undefined;
  readonly backendRequestMs: number | undefined;
}

export interface HttpRouteRuleRec {
  /** Default one match, PathPrefix `/`. */
  readonly matches: readonly HttpRouteMatchRec[];
  readonly backendRefs: readonly BackendRefRec[];
  readonly filters: readonly HttpRouteFilterRec[];
  /** Absent: none set. */
  readonly timeouts?: HttpRouteTimeoutsRec;
  /** Absent: none. */
  readonly sessionPersistence?: SessionPersistenceRec;
}

/** What HTTPRoute and GRPCRoute share: how they attach to Gateways (compile/gateway-attach.ts). */
export interface GatewayRouteRec {
  readonly meta: Meta;
  readonly origin: Origin;
  readonly parentRefs: readonly ParentRefRec[];
  /** Lower-cased, exact or `*.suffix`; empty: every host the listener allows. */
  readonly hostnames: readonly string[];
}

export interface HttpRouteRec extends GatewayRouteRec {
  readonly kind: 'HTTPRoute';
  readonly rules: readonly HttpRouteRuleRec[];
}

export interface ReferenceGrantRec {
  readonly kind: 'ReferenceGrant';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly from: readonly { readonly group: string; readonly kind: string; readonly namespace: string }[];
  /** `name` undefined: every object of the kind. */
  readonly to: readonly { readonly group: string; readonly kind: string; readonly name: string | undefined }[];
}

/** A Namespace, for its labels (allowedRoutes selectors). Cluster-scoped: its key's namespace is ''. */
export interface NamespaceRec {
  readonly kind: 'Namespace';
  readonly meta: Meta;
  readonly origin: Origin;
}

/** A GRPCRoute method match: `service` and/or `method` (Exact), or patterns of them (RegularExpression). */
export interface GrpcMethodMatchRec {
  /** Default Exact. */
  readonly type: 'Exact' | 'RegularExpression';
  /** Undefined: any service. */
  readonly service: string | undefined;
  /** Undefined: any method. */
  readonly method: string | undefined;
}

export interface GrpcRouteMatchRec {
  /** Undefined: every method of every service. */
  readonly method: GrpcMethodMatchRec | undefined;
  /** Names lower-cased, the first of equal names kept. */
  readonly headers: readonly HttpValueMatchRec[];
}

/** The filters a GRPCRoute rule may carry, as HTTPRoute's; ExtensionRef is `Unsupported`. */
export type GrpcRouteFilterRec = Extract<HttpRouteFilterRec, { readonly type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestMirror' | 'Unsupported' }>;

export interface GrpcRouteRuleRec {
  /** Default one match of every call. */
  readonly matches: readonly GrpcRouteMatchRec[];
  readonly backendRefs: readonly BackendRefRec[];
  readonly filters: readonly GrpcRouteFilterRec[];
}

export interface GrpcRouteRec extends GatewayRouteRec {
  readonly kind: 'GRPCRoute';
  readonly rules: readonly GrpcRouteRuleRec[];
}

export type GatewayKindRec = GatewayClassRec | GatewayRec | HttpRouteRec | ReferenceGrantRec | NamespaceRec | GrpcRouteRec;
