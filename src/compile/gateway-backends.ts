/**
 * An HTTPRoute rule's backendRefs → what its routes forward to. A reference that does not resolve (no such
 * Service or port, a kind other than Service, another namespace without a ReferenceGrant) keeps its
 * weight and its share of the requests is answered 500, as the spec requires; weight 0 gets nothing.
 * One resolvable reference is a plain route target; anything else a weighted one (dataplane/weighted.ts).
 */
import { GATEWAY_GROUP, type BackendRefRec, type GrpcRouteRec, type HttpRouteRec, type ReferenceGrantRec } from '../model/gateway-records.ts';
import { serviceKey } from '../model/keys.ts';
import type { Diagnostic, RouteProblem, ServiceView, WeightedTarget } from '../snapshot/types.ts';
import { describePorts } from './backend-problems.ts';
import { diag } from './diagnostics.ts';

/** The target fields of a route built from one rule (see RouteTarget). */
export interface RuleTarget {
  readonly backend: string | undefined;
  readonly problem: RouteProblem | undefined;
  readonly describe: string;
  readonly weighted?: readonly WeightedTarget[];
  readonly weightKey?: string;
}

export function ruleTarget(
  route: HttpRouteRec | GrpcRouteRec,
  ruleIndex: number,
  refs: readonly BackendRefRec[],
  services: ReadonlyMap<string, ServiceView>,
  grants: Iterable<ReferenceGrantRec>,
  diagnostics: Diagnostic[],
): RuleTarget {
  const targets = refs.map((ref, i) => resolveRef(route, `spec.rules[${ruleIndex}].backendRefs[${i}]`, ref, services, grants, diagnostics));
  const live = targets.filter((t) => t.weight > 0);
  const only = live[0];
  if (live.length === 1 && only!.backend !== undefined) return { backend: only!.backend, problem: undefined, describe: only!.describe };
  // No reference, all of weight 0, or any that does not resolve: answered per request by weight (500 for
  // the shares of the unresolved, all of them when none has weight).
  const describe = live.length === 0 ? '(no backend)' : live.map((t) => `${t.describe}×${t.weight}`).join(', ');
  const weightKey = `${route.kind}/${route.meta.namespace}/${route.meta.name}#${ruleIndex}`;
  return { backend: undefined, problem: live.length === 0 ? 'unsupported-backend' : undefined, describe, weighted: live, weightKey };
}

function resolveRef(
  route: HttpRouteRec | GrpcRouteRec,
  field: string,
  ref: BackendRefRec,
  services: ReadonlyMap<string, ServiceView>,
  grants: Iterable<ReferenceGrantRec>,
  diagnostics: Diagnostic[],
): WeightedTarget {
  const describe = `${serviceKey(ref.namespace, ref.name)}:${ref.port ?? '?'}`;
  const ingress = serviceKey(route.meta.namespace, route.meta.name);
  const outcome = resolveBackendRef(route, ref, services, grants);
  if ('backend' in outcome) return { backend: outcome.backend, weight: ref.weight, describe, problem: undefined, ingress };
  // A GRPCRoute's share is answered gRPC status UNAVAILABLE, as its spec requires (dataplane/status.ts).
  const answer = route.kind === 'GRPCRoute' ? 'UNAVAILABLE' : '500';
  diagnostics.push(diag('warning', `${route.kind.toUpperCase()}_BACKEND_UNRESOLVED`, route, `${field} ${describe}: ${outcome.message}; its share of requests is answered ${answer} (reason ${outcome.reason})`));
  return { backend: undefined, weight: ref.weight, describe, problem: outcome.problem, ingress };
}

/** Why a backendRef does not resolve: the data plane's problem and the spec's ResolvedRefs reason. */
export interface BackendRefProblem {
  readonly problem: RouteProblem;
  readonly reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound' | 'UnsupportedValue';
  readonly message: string;
}

/** The Service port key a backendRef resolves to, or why it does not (also read by compile/gateway-status.ts). */
export function resolveBackendRef(
  route: Pick<HttpRouteRec, 'meta'> & { readonly kind?: string },
  ref: BackendRefRec,
  services: ReadonlyMap<string, ServiceView>,
  grants: Iterable<ReferenceGrantRec>,
): { readonly backend: string } | BackendRefProblem {
  if (ref.group !== '' || ref.kind !== 'Service') return { problem: 'unsupported-backend', reason: 'InvalidKind', message: `kind ${ref.group === '' ? '' : `${ref.group}/`}${ref.kind} is not supported (only Service)` };
  const kind = route.kind ?? 'HTTPRoute';
  if (ref.namespace !== route.meta.namespace && !granted(grants, kind, route.meta.namespace, ref)) {
    return { problem: 'unsupported-backend', reason: 'RefNotPermitted', message: `no ReferenceGrant in namespace ${ref.namespace} allows ${kind}s of namespace ${route.meta.namespace} to refer to it` };
  }
  const svc = services.get(serviceKey(ref.namespace, ref.name));
  if (!svc) return { problem: 'unknown-service', reason: 'BackendNotFound', message: `no such Service in namespace ${ref.namespace}` };
  if (svc.type === 'ExternalName') return { problem: 'unsupported-backend', reason: 'UnsupportedValue', message: 'Service of type ExternalName is not proxied' };
  const port = svc.ports.find((p) => p.protocol === 'TCP' && p.port === ref.port);
  if (!port) return { problem: 'unknown-port', reason: 'BackendNotFound', message: `the Service has no TCP port ${ref.port} (${describePorts(svc)})` };
  return { backend: port.backend };
}

/** ReferenceGrant (v1beta1): in the target's namespace, from routes of `kind` of `fromNamespace`, to that Service or every Service. */
function granted(grants: Iterable<ReferenceGrantRec>, kind: string, fromNamespace: string, ref: BackendRefRec): boolean {
  for (const g of grants) {
    if (g.meta.namespace !== ref.namespace) continue;
    if (!g.from.some((f) => f.group === GATEWAY_GROUP && f.kind === kind && f.namespace === fromNamespace)) continue;
    if (g.to.some((t) => t.group === '' && t.kind === 'Service' && (t.name === undefined || t.name === ref.name))) return true;
  }
  return false;
}
