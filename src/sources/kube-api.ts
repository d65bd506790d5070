/**
 * The Kubernetes resources the kube source reads, how to list them with the official client, and what
 * the client's errors mean. The client's types stay inside the kube-* modules of this folder.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { ErrorCode } from '../errors.ts';
import { GATEWAY_KIND_API_VERSIONS, type GatewayKind } from './gateway-schemas.ts';
import { KIND_API_VERSIONS, type KnownKind } from './k8s-schemas.ts';

/** A kind the kube source can watch. */
export type WatchableKind = KnownKind | GatewayKind;

export interface KubeResource {
  readonly kind: WatchableKind;
  readonly apiVersion: string;
  /** The resource name in URLs: `services`, `endpointslices`… */
  readonly plural: string;
  readonly namespaced: boolean;
  /** Whether --selector applies (Secrets and IngressClasses are selected by other means). */
  readonly selectable: boolean;
  /** A fixed server-side field selector. */
  readonly fieldSelector: string | undefined;
  /**
   * Read when the cluster serves it, not required: a 404 (CRDs not installed) or 403 (RBAC without it)
   * must not keep the source from syncing. The Gateway API kinds and Namespaces.
   */
  readonly optional: boolean;
}

const API_VERSIONS: Readonly<Record<WatchableKind, string>> = { ...KIND_API_VERSIONS, ...GATEWAY_KIND_API_VERSIONS };

const resource = (kind: WatchableKind, plural: string, namespaced: boolean, selectable: boolean, fieldSelector?: string): KubeResource => ({
  kind,
  apiVersion: API_VERSIONS[kind],
  plural,
  namespaced,
  selectable,
  fieldSelector,
  optional: Object.hasOwn(GATEWAY_KIND_API_VERSIONS, kind),
});

export const KUBE_RESOURCES: Readonly<Record<WatchableKind, KubeResource>> = {
  Service: resource('Service', 'services', true, true),
  EndpointSlice: resource('EndpointSlice', 'endpointslices', true, true),
  Endpoints: resource('Endpoints', 'endpoints', true, true),
  Ingress: resource('Ingress', 'ingresses', true, true),
  IngressClass: resource('IngressClass', 'ingressclasses', false, false),
  // Only TLS Secrets, filtered by the server; the source keeps those an Ingress references.
  Secret: resource('Secret', 'secrets', true, false, 'type=kubernetes.io/tls'),
  // Gateways and GatewayClasses are shared infrastructure, like IngressClasses: --selector picks routes only.
  GatewayClass: resource('GatewayClass', 'gatewayclasses', false, false),
  Gateway: resource('Gateway', 'gateways', true, false),
  HTTPRoute: resource('HTTPRoute', 'httproutes', true, true),
  GRPCRoute: resource('GRPCRoute', 'grpcroutes', true, true),
  ReferenceGrant: resource('ReferenceGrant', 'referencegrants', true, false),
  // For allowedRoutes selectors; cluster-scoped, so read across the cluster even with --watch-namespace.
  Namespace: resource('Namespace', 'namespaces', false, false),
};

/** The collection URL path of `res`, in one namespace or across all of them. */
export function resourcePath(res: KubeResource, namespace: string | undefined): string {
  const base = res.apiVersion.includes('/') ? `/apis/${res.apiVersion}` : `/api/${res.apiVersion}`;
  return res.namespaced && namespace !== undefined ? `${base}/namespaces/${namespace}/${res.plural}` : `${base}/${res.plural}`;
}

export interface ListQuery {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly _continue?: string;
}

export type RawList = KubernetesListObject<KubernetesObject>;
export type Lister = (query: ListQuery) => Promise<RawList>;

/** Builds the list call of each resource through the generated API clients. */
export function createListers(config: KubeConfig): (res: KubeResource, namespace: string | undefined) => Lister {
  const core = config.makeApiClient(CoreV1Api);
  const discovery = config.makeApiClient(DiscoveryV1Api);
  const networking = config.makeApiClient(NetworkingV1Api);
  const custom = config.makeApiClient(CustomObjectsApi);
  return (res, namespace) => {
    const ns = res.namespaced ? namespace : undefined;
    switch (res.kind) {
      case 'Namespace':
        return (q) => core.listNamespace(q);
      case 'GatewayClass':
      case 'Gateway':
      case 'HTTPRoute':
      case 'GRPCRoute':
      case 'ReferenceGrant': {
        const [group = '', version = ''] = res.apiVersion.split('/');
        const { plural } = res;
        // Custom objects come back as plain JSON (timestamps as text): the list shape the informer reads.
        if (!res.namespaced) return async (q) => (await custom.listClusterCustomObject({ group, version, plural, ...q })) as RawList;
        if (ns === undefined) return async (q) => (await custom.listCustomObjectForAllNamespaces({ group, version, resourcePlural: plural, ...q })) as RawList;
        return async (q) => (await custom.listNamespacedCustomObject({ group, version, plural, namespace: ns, ...q })) as RawList;
      }
      case 'Service':
        return (q) => (ns === undefined ? core.listServiceForAllNamespaces(q) : core.listNamespacedService({ ...q, namespace: ns }));
      case 'Endpoints':
        return (q) => (ns === undefined ? core.listEndpointsForAllNamespaces(q) : core.listNamespacedEndpoints({ ...q, namespace: ns }));
      case 'Secret':
        return (q) => (ns === undefined ? core.listSecretForAllNamespaces(q) : core.listNamespacedSecret({ ...q, namespace: ns }));
      case 'EndpointSlice':
        return (q) => (ns === undefined ? discovery.listEndpointSliceForAllNamespaces(q) : discovery.listNamespacedEndpointSlice({ ...q, namespace: ns }));
      case 'Ingress':
        return (q) => (ns === undefined ? networking.listIngressForAllNamespaces(q) : networking.listNamespacedIngress({ ...q, namespace: ns }));
      case 'IngressClass':
        return (q) => networking.listIngressClass(q);
    }
  };
}

export interface KubeErrorInfo {
  /** The HTTP status the API server answered, when it answered. */
  readonly status: number | undefined;
  readonly code: ErrorCode;
  /** One line, without the client's header and body dumps. */
  readonly message: string;
}

/**
 * Reads an error of the client: an ApiException (`code`, `body` Status) from a list, an Error with
 * `statusCode` from a watch, a fetch TypeError whose `cause` has the socket error code, or an abort.
 */
export function describeKubeError(err: unknown): KubeErrorInfo {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; statusCode?: unknown; body?: unknown; headers?: unknown; message?: unknown; name?: unknown; cause?: unknown };
  // A numeric `code` is an HTTP status only on an ApiException (which has headers): a DOMException has one too.
  const status = typeof e.statusCode === 'number' ? e.statusCode : typeof e.code === 'number' && 'headers' in e ? e.code : undefined;
  const code = status === 401 || status === 403 ? ErrorCode.KUBE_FORBIDDEN : ErrorCode.KUBE_UNAVAILABLE;
  if (status !== undefined) {
    // The generated clients keep an unexpected status's body as text: the Status JSON, unparsed.
    const body = (typeof e.body === 'string' ? parseJson(e.body) : e.body) as { message?: unknown; reason?: unknown } | undefined;
    const detail = typeof body?.message === 'string' ? body.message : typeof e.message === 'string' && !e.message.startsWith('HTTP-Code') ? e.message : undefined;
    return { status, code, message: `HTTP ${status}${typeof body?.reason === 'string' ? ` ${body.reason}` : ''}${detail ? `: ${detail}` : ''}` };
  }
  if (e.name === 'TimeoutError') return { status, code, message: 'no data from the API server within the watch timeout' };
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause.message === 'string') return { status, code, message: `${String(e.message ?? 'request failed')}: ${cause.message}` };
  return { status, code, message: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
