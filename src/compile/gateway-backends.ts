/**
 * An HTTPRoute rule's backendRefs → what its routes forward to. A reference that does not resolve (no such
 * Service or port, a kind other than Service, another namespace without a ReferenceGrant) keeps its
 * weight and its share of the requests is answered 500, as the spec requires; weight 0 gets nothing.
 * One resolvable reference is a plain route target; anything else a weighted one (dataplane/weighted.ts).
 */
import { GATEWAY_GROUP, type BackendRefRec, type HttpRouteRec, type ReferenceGrantRec } from '../model/gateway-records.ts';
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
}

export function ruleTarget(
  route: HttpRouteRec,
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
  return { backend: undefined, problem: live.length === 0 ? 'unsupported-backend' : undefined, describe, weighted: live };
}

function resolveRef(
  route: HttpRouteRec,
  field: string,
  ref: BackendRefRec,
  services: ReadonlyMap<string, ServiceView>,
  grants: Iterable<ReferenceGrantRec>,
  diagnostics: Diagnostic[],
): WeightedTarget {
  const describe = `${serviceKey(ref.namespace, ref.name)}:${ref.port ?? '?'}`;
  const fail = (problem: RouteProblem, reason: string, message: string): WeightedTarget => {
    diagnostics.push(diag('warning', 'HTTPROUTE_BACKEND_UNRESOLVED', route, `${field} ${describe}: ${message}; its share of requests is answered 500 (reason ${reason})`));
    return { backend: undefined, weight: ref.weight, describe, problem, ingress: serviceKey(route.meta.namespace, route.meta.name) };
  };
  if (ref.group !== '' || ref.kind !== 'Service') return fail('unsupported-backend', 'InvalidKind', `kind ${ref.group === '' ? '' : `${ref.group}/`}${ref.kind} is not supported (only Service)`);
  if (ref.namespace !== route.meta.namespace && !granted(grants, route.meta.namespace, ref)) {
    return fail('unsupported-backend', 'RefNotPermitted', `no ReferenceGrant in namespace ${ref.namespace} allows HTTPRoutes of namespace ${route.meta.namespace} to refer to it`);
  }
  const svc = services.get(serviceKey(ref.namespace, ref.name));
  if (!svc) return fail('unknown-service', 'BackendNotFound', `no such Service in namespace ${ref.namespace}`);
  if (svc.type === 'ExternalName') return fail('unsupported-backend', 'UnsupportedValue', 'Service of type ExternalName is not proxied');
  const port = svc.ports.find((p) => p.protocol === 'TCP' && p.port === ref.port);
  if (!port) return fail('unknown-port', 'BackendNotFound', `the Service has no TCP port ${ref.port} (${describePorts(svc)})`);
  return { backend: port.backend, weight: ref.weight, describe, problem: undefined, ingress: serviceKey(route.meta.namespace, route.meta.name) };
}

/** ReferenceGrant (v1beta1): in the target's namespace, from HTTPRoutes of `fromNamespace`, to that Service or every Service. */
function granted(grants: Iterable<ReferenceGrantRec>, fromNamespace: string, ref: BackendRefRec): boolean {
  for (const g of grants) {
    if (g.meta.namespace !== ref.namespace) continue;
    if (!g.from.some((f) => f.group === GATEWAY_GROUP && f.kind === 'HTTPRoute' && f.namespace === fromNamespace)) continue;
    if (g.to.some((t) => t.group === '' && t.kind === 'Service' && (t.name === undefined || t.name === ref.name))) return true;
  }
  return false;
}
