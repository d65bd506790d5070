/**
 * Switchyard's own normalised records. Sources turn raw Kubernetes objects into these;
 * everything past the source boundary speaks only these shapes. All plain data, so a
 * record can be compared, hashed and sent across a process boundary.
 */
import type { GatewayKindRec } from './gateway-records.ts';

/** Where a record came from, for messages and the admin API. */
export interface Origin {
  readonly source: string;
  readonly file?: string;
  readonly document?: number;
}

export interface Meta {
  readonly namespace: string;
  readonly name: string;
  /** RFC 3339 timestamp, or undefined when the manifest has none (sorts after every dated object). */
  readonly creationTimestamp: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** metadata.generation (the API server bumps it on each spec change), for status `observedGeneration`; absent: none given (files). */
  readonly generation?: number;
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePortRec {
  /** '' for the single unnamed port. */
  readonly name: string;
  readonly port: number;
  /** Number, named container port, or undefined (defaults to `port` in Kubernetes). */
  readonly targetPort: number | string | undefined;
  readonly protocol: Protocol;
  readonly appProtocol: string | undefined;
  /** The port on every node that reaches this Service port (NodePort and LoadBalancer Services); undefined: none, or invalid (see ServiceRec.problems). */
  readonly nodePort: number | undefined;
}

export type TrafficPolicy = 'Cluster' | 'Local';

/**
 * A field of a Service that the service proxy (layer 4) cannot use. Reported as a diagnostic instead of
 * rejecting the object, so its HTTP routes keep working: `portIndex` set, that port is skipped by the
 * service proxy; unset, the whole Service is.
 */
export interface ServiceProblemRec {
  /** Field path, e.g. `spec.ports[1].nodePort`. */
  readonly path: string;
  /** Worded as the API server's field errors: `Invalid value: 70000: must be between 1 and 65535, inclusive`. */
  readonly message: string;
  readonly portIndex: number | undefined;
}

export interface ServiceRec {
  readonly kind: 'Service';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** Cluster IPs; empty for headless and ExternalName Services. */
  readonly clusterIPs: readonly string[];
  readonly headless: boolean;
  readonly externalName: string | undefined;
  readonly ports: readonly ServicePortRec[];
  /** spec.externalIPs (valid addresses only). */
  readonly externalIPs: readonly string[];
  /** status.loadBalancer.ingress[].ip (valid addresses only; hostname-only entries are left out). */
  readonly loadBalancerIPs: readonly string[];
  readonly sessionAffinity: 'None' | 'ClientIP';
  /** spec.sessionAffinityConfig.clientIP.timeoutSeconds; default 10800 (3 h), as Kubernetes. */
  readonly sessionAffinityTimeoutSeconds: number;
  /** Default Cluster. */
  readonly internalTrafficPolicy: TrafficPolicy;
  /** Default Cluster. */
  readonly externalTrafficPolicy: TrafficPolicy;
  /** Layer-4 fields that could not be used; empty when all are fine. */
  readonly problems: readonly ServiceProblemRec[];
}

export interface EndpointPortRec {
  /** '' for an unnamed port: it matches the Service's single unnamed port. */
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface EndpointAddressRec {
  readonly address: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly hostname: string | undefined;
  readonly nodeName: string | undefined;
  /** `Kind/namespace/name` of the target (usually the Pod), when given. */
  readonly targetRef: string | undefined;
}

/**
 * One set of addresses sharing one set of ports: an EndpointSlice, or one subset of a v1 Endpoints.
 * Both Kubernetes shapes normalise to this, so the compiler resolves them the same way.
 */
export interface EndpointGroupRec {
  readonly ports: readonly EndpointPortRec[];
  readonly addresses: readonly EndpointAddressRec[];
}

export interface EndpointSliceRec {
  readonly kind: 'EndpointSlice';
  readonly meta: Meta;
  readonly origin: Origin;
  /** From the `kubernetes.io/service-name` label; a slice without it belongs to no Service. */
  readonly serviceName: string | undefined;
  readonly addressType: 'IPv4' | 'IPv6' | 'FQDN';
  readonly group: EndpointGroupRec;
}

export interface EndpointsRec {
  readonly kind: 'Endpoints';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly groups: readonly EndpointGroupRec[];
}

export interface IngressBackendRec {
  /** Present for a Service backend. */
  readonly service: { readonly name: string; readonly portNumber: number | undefined; readonly portName: string | undefined } | undefined;
  /** Present for a resource backend (not served by Switchyard: reported as a diagnostic). */
  readonly resource: { readonly kind: string; readonly name: string; readonly apiGroup: string | undefined } | undefined;
}

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface IngressPathRec {
  readonly path: string;
  readonly pathType: PathType;
  readonly backend: IngressBackendRec;
}

export interface IngressRuleRec {
  /** Lower-cased; undefined when the rule applies to every host. */
  readonly host: string | undefined;
  readonly paths: readonly IngressPathRec[];
}

export interface IngressRec {
  readonly kind: 'Ingress';
  readonly meta: Meta;
  readonly origin: Origin;
  /** spec.ingressClassName (model/ingress-class.ts decides whether Switchyard serves the Ingress). */
  readonly ingressClassName: string | undefined;
  /** The legacy `kubernetes.io/ingress.class` annotation; an empty value counts as none. Kept apart from spec.ingressClassName: the two follow different rules. */
  readonly classAnnotation: string | undefined;
  readonly defaultBackend: IngressBackendRec | undefined;
  readonly rules: readonly IngressRuleRec[];
  readonly tls: readonly { readonly hosts: readonly string[]; readonly secretName: string | undefined }[];
}

export interface IngressClassRec {
  readonly kind: 'IngressClass';
  readonly meta: Meta;
  readonly origin: Origin;
  /** spec.controller, e.g. `switchyard.dev/ingress-controller`. */
  readonly controller: string | undefined;
  /** Annotated `ingressclass.kubernetes.io/is-default-class: "true"`. */
  readonly isDefault: boolean;
}

export interface SecretRec {
  readonly kind: 'Secret';
  readonly meta: Meta;
  readonly origin: Origin;
  readonly type: string;
  /** Keys of `data`/`stringData`, base64-decoded values kept as strings (TLS material, used later). */
  readonly data: Readonly<Record<string, string>>;
}

export type Rec = ServiceRec | EndpointSliceRec | EndpointsRec | IngressRec | IngressClassRec | SecretRec | GatewayKindRec;
export type RecKind = Rec['kind'];

export const REC_KINDS: readonly RecKind[] = ['Service', 'EndpointSlice', 'Endpoints', 'Ingress', 'IngressClass', 'Secret', 'GatewayClass', 'Gateway', 'HTTPRoute', 'ReferenceGrant', 'Namespace', 'GRPCRoute'];
