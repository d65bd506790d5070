/**
 * The Gateway API status Switchyard computes (compile/gateway-status.ts): the conditions of its
 * GatewayClasses, Gateways, listeners and of each route's parentRefs, as the spec words them. Plain data
 * in the snapshot: the admin API shows it for every source, the kube source writes it back. No
 * `lastTransitionTime`: compile reads no clock, the writer keeps or stamps it.
 */
import type { ParentRefRec } from '../model/gateway-records.ts';

/** One metav1.Condition without its transition time. */
export interface StatusCondition {
  /** `Accepted`, `ResolvedRefs`, `Programmed`, `Conflicted`, `PartiallyInvalid`. */
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  /** The spec's reason, e.g. `NotAllowedByListeners`. */
  readonly reason: string;
  readonly message: string;
  /** metadata.generation of the object the condition is about (0 when it has none, as in files). */
  readonly observedGeneration: number;
}

export interface GatewayClassStatusView {
  readonly name: string;
  readonly controllerName: string;
  readonly conditions: readonly StatusCondition[];
}

export interface RouteGroupKind {
  readonly group: string;
  readonly kind: string;
}

export interface ListenerStatusView {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  /** Undefined: every host. */
  readonly hostname: string | undefined;
  /** The route kinds the listener takes that Switchyard supports. */
  readonly supportedKinds: readonly RouteGroupKind[];
  /** Routes whose parentRefs select the listener and that its allowedRoutes admit (hostnames aside, as the spec counts). */
  readonly attachedRoutes: number;
  readonly conditions: readonly StatusCondition[];
}

export interface GatewayStatusView {
  readonly namespace: string;
  readonly name: string;
  readonly gatewayClassName: string;
  readonly conditions: readonly StatusCondition[];
  readonly listeners: readonly ListenerStatusView[];
}

/** A route's parentRef with the spec's defaults filled in (group, kind, namespace). */
export type ParentRefView = ParentRefRec;

export interface RouteParentStatusView {
  readonly parentRef: ParentRefView;
  /**
   * The parent is a Gateway of Switchyard's classes. False: no such Gateway exists (NoMatchingParent):
   * shown by the admin API, not written back, since its controller may be another one.
   */
  readonly ours: boolean;
  readonly conditions: readonly StatusCondition[];
}

export interface RouteStatusView {
  /** `HTTPRoute` or `GRPCRoute`. */
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** One per parentRef that names a Gateway of Switchyard's classes, or a Gateway that does not exist. */
  readonly parents: readonly RouteParentStatusView[];
}

/** Sorted by namespace and name, so the same objects compile to the same table. */
export interface GatewayStatusTable {
  readonly classes: readonly GatewayClassStatusView[];
  readonly gateways: readonly GatewayStatusView[];
  readonly routes: readonly RouteStatusView[];
}
