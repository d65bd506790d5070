/**
 * A raw GRPCRoute → GrpcRouteRec, with the spec's defaults applied once: parentRef group/kind/namespace
 * (a Gateway of the route's namespace), a method match of type Exact, header matches Exact (names
 * lower-cased, the first of equal names kept), backendRef kind Service of the route's namespace with
 * weight 1, a rule without matches matching every call and a route without rules one such rule.
 * An ExtensionRef filter is kept as `Unsupported` (compile reports it).
 */
import type { ManifestLocation } from '../errors.ts';
import type { GrpcRouteFilterRec, GrpcRouteMatchRec, GrpcRouteRec, HttpValueMatchRec } from '../model/gateway-records.ts';
import type { Origin } from '../model/records.ts';
import { grpcRouteSchema } from './grpc-route-schema.ts';
import { firstByName, toBackendRef, toHeaderModifier, toMirror, toParentRefs } from './gateway-route-parts.ts';
import type { NormalizeTools } from './normalize-gateway.ts';
import type { z } from 'zod';

type Spec = z.output<typeof grpcRouteSchema>['spec'];
type RuleInput = NonNullable<Spec['rules']>[number];
type MatchInput = NonNullable<RuleInput['matches']>[number];
type FilterInput = NonNullable<RuleInput['filters']>[number];

const EVERY_CALL: GrpcRouteMatchRec = Object.freeze({ method: undefined, headers: Object.freeze([]) as readonly HttpValueMatchRec[] });

export function normalizeGrpcRoute(obj: Record<string, unknown>, origin: Origin, at: (path: string) => ManifestLocation, tools: NormalizeTools): GrpcRouteRec {
  const v = tools.check(grpcRouteSchema, obj, at);
  const meta = tools.toMeta(v.metadata, 'default');
  const parentRefs = toParentRefs(v.spec.parentRefs, meta.namespace);
  const rules = (v.spec.rules?.length ? v.spec.rules : [{} as RuleInput]).map((r) => ({
    matches: r.matches?.length ? r.matches.map(toMatch) : [EVERY_CALL],
    backendRefs: (r.backendRefs ?? []).map((b) => toBackendRef(b, meta.namespace)),
    filters: (r.filters ?? []).map((f) => toFilter(f, meta.namespace)),
  }));
  return { kind: 'GRPCRoute', meta, origin, parentRefs, hostnames: (v.spec.hostnames ?? []).map((h) => h.toLowerCase()), rules };
}

function toMatch(m: MatchInput): GrpcRouteMatchRec {
  const headers = firstByName((m.headers ?? []).map((h): HttpValueMatchRec => ({ type: h.type ?? 'Exact', name: h.name.toLowerCase(), value: h.value })));
  const method = m.method ? { type: m.method.type ?? 'Exact', service: m.method.service || undefined, method: m.method.method || undefined } : undefined;
  return { method, headers };
}

function toFilter(f: FilterInput, namespace: string): GrpcRouteFilterRec {
  switch (f.type) {
    case 'RequestHeaderModifier':
      return { type: f.type, headers: toHeaderModifier(f.requestHeaderModifier!) };
    case 'ResponseHeaderModifier':
      return { type: f.type, headers: toHeaderModifier(f.responseHeaderModifier!) };
    case 'RequestMirror':
      return toMirror(f.requestMirror!, namespace);
    default:
      return { type: 'Unsupported', name: f.type };
  }
}
