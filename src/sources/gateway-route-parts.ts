/**
 * The parts HTTPRoute and GRPCRoute share, normalized once with the spec's defaults: parentRefs (a
 * Gateway of the route's namespace), backendRefs (a Service of the route's namespace, weight 1), header
 * modifiers, RequestMirror, and the first-of-equal-names rule of header (and query) matches.
 */
import { GATEWAY_GROUP, type BackendRefRec, type HeaderModifierRec, type HttpValueMatchRec, type ParentRefRec } from '../model/gateway-records.ts';

type Maybe<T> = T | null | undefined;

interface ParentRefInput {
  readonly group?: Maybe<string>;
  readonly kind?: Maybe<string>;
  readonly namespace?: Maybe<string>;
  readonly name: string;
  readonly sectionName?: Maybe<string>;
  readonly port?: Maybe<number>;
}

interface BackendRefInput {
  readonly group?: Maybe<string>;
  readonly kind?: Maybe<string>;
  readonly namespace?: Maybe<string>;
  readonly name: string;
  readonly port?: Maybe<number>;
  readonly weight?: Maybe<number>;
}

interface HeaderModifierInput {
  readonly set?: Maybe<readonly { readonly name: string; readonly value: string }[]>;
  readonly add?: Maybe<readonly { readonly name: string; readonly value: string }[]>;
  readonly remove?: Maybe<readonly string[]>;
}

interface MirrorInput {
  readonly backendRef: BackendRefInput;
  readonly percent?: Maybe<number>;
  readonly fraction?: Maybe<{ readonly numerator: number; readonly denominator?: Maybe<number> }>;
}

export function toParentRefs(refs: Maybe<readonly ParentRefInput[]>, routeNamespace: string): ParentRefRec[] {
  return (refs ?? []).map((p) => ({
    group: p.group ?? GATEWAY_GROUP,
    kind: p.kind ?? 'Gateway',
    namespace: p.namespace ?? routeNamespace,
    name: p.name,
    sectionName: p.sectionName ?? undefined,
    port: p.port ?? undefined,
  }));
}

export function toBackendRef(b: BackendRefInput, routeNamespace: string): BackendRefRec {
  return { group: b.group ?? '', kind: b.kind ?? 'Service', name: b.name, namespace: b.namespace ?? routeNamespace, port: b.port ?? undefined, weight: b.weight ?? 1 };
}

export function toHeaderModifier(m: HeaderModifierInput): HeaderModifierRec {
  const pair = (h: { name: string; value: string }) => ({ name: h.name, value: h.value });
  return { set: (m.set ?? []).map(pair), add: (m.add ?? []).map(pair), remove: [...(m.remove ?? [])] };
}

/** A RequestMirror filter; its backendRef's weight is meaningless and kept at 1. */
export function toMirror(m: MirrorInput, routeNamespace: string): { readonly type: 'RequestMirror'; readonly backendRef: BackendRefRec; readonly numerator: number; readonly denominator: number } {
  // Neither percent nor fraction: every request; a fraction's denominator defaults to 100.
  const [numerator, denominator] = m.percent != null ? [m.percent, 100] : m.fraction != null ? [m.fraction.numerator, m.fraction.denominator ?? 100] : [1, 1];
  return { type: 'RequestMirror', backendRef: { ...toBackendRef(m.backendRef, routeNamespace), weight: 1 }, numerator, denominator };
}

/** "If multiple entries specify equivalent names, only the first entry with an equivalent name MUST be considered." */
export function firstByName(list: HttpValueMatchRec[]): HttpValueMatchRec[] {
  const seen = new Set<string>();
  return list.filter((x) => (seen.has(x.name) ? false : (seen.add(x.name), true)));
}
