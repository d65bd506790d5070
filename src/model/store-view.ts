import type { GatewayClassRec, GatewayRec, GrpcRouteRec, HttpRouteRec, NamespaceRec, ReferenceGrantRec } from './gateway-records.ts';
import type { EndpointSliceRec, EndpointsRec, IngressClassRec, IngressRec, SecretRec, ServiceRec } from './records.ts';

/**
 * The store's records by kind, each keyed `kind/namespace/name`. Defined in model/ rather than store/
 * so the compiler reads a view of records without depending on the store that holds them.
 */
export interface StoreView {
  readonly version: number;
  readonly services: ReadonlyMap<string, ServiceRec>;
  readonly endpointSlices: ReadonlyMap<string, EndpointSliceRec>;
  readonly endpoints: ReadonlyMap<string, EndpointsRec>;
  readonly ingresses: ReadonlyMap<string, IngressRec>;
  readonly ingressClasses: ReadonlyMap<string, IngressClassRec>;
  readonly secrets: ReadonlyMap<string, SecretRec>;
  // The Gateway API kinds (and Namespaces, for their labels). Optional so that views built by hand
  // (tests, `check`) without them stay valid: absent means none.
  readonly gatewayClasses?: ReadonlyMap<string, GatewayClassRec>;
  readonly gateways?: ReadonlyMap<string, GatewayRec>;
  readonly httpRoutes?: ReadonlyMap<string, HttpRouteRec>;
  readonly grpcRoutes?: ReadonlyMap<string, GrpcRouteRec>;
  readonly referenceGrants?: ReadonlyMap<string, ReferenceGrantRec>;
  readonly namespaces?: ReadonlyMap<string, NamespaceRec>;
  /** Keys defined by more than one source: which source's object is used, and which is ignored. */
  readonly conflicts: readonly { readonly key: string; readonly winner: string; readonly loser: string }[];
}
