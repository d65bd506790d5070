/**
 * The `status` Switchyard writes on a Gateway API object, from the conditions compile computed and the
 * status the object has now (pure; kube-gateway-status.ts does the writing):
 * - a condition keeps its lastTransitionTime while its status stays the same (metav1.Condition rules);
 * - a route's `parents` entries of other controllers are kept as they are, Switchyard's replaced;
 * - the result compares equal to the current status when nothing changed, so nothing is rewritten.
 * The input shapes are the snapshot's status table (snapshot/gateway-status-types.ts), restated here
 * structurally: sources do not import the snapshot.
 */
import type { ParentRefRec } from '../model/gateway-records.ts';

export interface ConditionIn {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
}

/** A route's parentRef with the spec's defaults filled in. */
export type ParentRefIn = ParentRefRec;

export interface GatewayStatusIn {
  readonly namespace: string;
  readonly name: string;
  readonly conditions: readonly ConditionIn[];
  readonly listeners: readonly { readonly name: string; readonly supportedKinds: readonly { readonly group: string; readonly kind: string }[]; readonly attachedRoutes: number; readonly conditions: readonly ConditionIn[] }[];
}

export interface RouteStatusIn {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `ours` false: a Gateway that does not exist, whose controller is not known: not written. */
  readonly parents: readonly { readonly parentRef: ParentRefIn; readonly ours: boolean; readonly conditions: readonly ConditionIn[] }[];
}

/** What compile computed (Snapshot.gatewayStatus with the listener outcomes applied). */
export interface StatusTableIn {
  readonly classes: readonly { readonly name: string; readonly conditions: readonly ConditionIn[] }[];
  readonly gateways: readonly GatewayStatusIn[];
  readonly routes: readonly RouteStatusIn[];
}

export interface AddressOut {
  readonly type: 'IPAddress' | 'Hostname';
  readonly value: string;
}

type Json = Record<string, unknown>;

/** The API server keeps whole seconds (metav1.Time). */
export const apiTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const asArray = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => typeof x === 'object' && x !== null) : []);

/** `desired`, each keeping the current lastTransitionTime of its type while its status is unchanged. */
export function mergeConditions(desired: readonly ConditionIn[], current: unknown, now: string): Json[] {
  const old = asArray(current);
  return desired.map((d) => {
    const o = old.find((c) => c['type'] === d.type);
    const since = o !== undefined && o['status'] === d.status && typeof o['lastTransitionTime'] === 'string' ? o['lastTransitionTime'] : now;
    return { type: d.type, status: d.status, observedGeneration: d.observedGeneration, lastTransitionTime: since, reason: d.reason, message: d.message };
  });
}

/** A GatewayClass's next `status` (its conditions). */
export function gatewayClassStatus(desired: { readonly conditions: readonly ConditionIn[] }, current: unknown, now: string): Json {
  return { conditions: mergeConditions(desired.conditions, (current as Json | undefined)?.['conditions'], now) };
}

/** A Gateway's next `status`: addresses, conditions, listeners. */
export function gatewayStatus(desired: GatewayStatusIn, current: unknown, addresses: readonly AddressOut[], now: string): Json {
  const cur = (current ?? {}) as Json;
  const oldListeners = asArray(cur['listeners']);
  return {
    addresses: addresses.map((a) => ({ type: a.type, value: a.value })),
    conditions: mergeConditions(desired.conditions, cur['conditions'], now),
    listeners: desired.listeners.map((l) => ({
      name: l.name,
      supportedKinds: l.supportedKinds.map((k) => ({ group: k.group, kind: k.kind })),
      attachedRoutes: l.attachedRoutes,
      conditions: mergeConditions(l.conditions, oldListeners.find((o) => o['name'] === l.name)?.['conditions'], now),
    })),
  };
}

/** The CRD's limit on status.parents. */
const MAX_PARENTS = 32;

/** A route's next `status.parents`: other controllers' entries as they are, then Switchyard's. */
export function routeParents(desired: RouteStatusIn | undefined, current: unknown, controllerName: string, now: string): Json[] {
  const entries = asArray((current as Json | undefined)?.['parents']);
  const others = entries.filter((p) => p['controllerName'] !== controllerName);
  const mine = entries.filter((p) => p['controllerName'] === controllerName);
  const ns = desired?.namespace ?? '';
  const ours = (desired?.parents ?? []).filter((p) => p.ours).map((p) => {
    const id = refId(p.parentRef, ns);
    const old = mine.find((m) => refId(m['parentRef'] as Partial<ParentRefIn> | undefined, ns) === id);
    const { group, kind, namespace, name, sectionName, port } = p.parentRef;
    const parentRef = { group, kind, namespace, name, ...(sectionName !== undefined ? { sectionName } : {}), ...(port !== undefined ? { port } : {}) };
    return { parentRef, controllerName, conditions: mergeConditions(p.conditions, old?.['conditions'], now) };
  });
  return [...others, ...ours.slice(0, Math.max(0, MAX_PARENTS - others.length))];
}

/** A parentRef's identity with the spec's defaults (group, kind Gateway, the route's namespace). */
function refId(ref: Partial<ParentRefIn> | undefined, routeNamespace: string): string {
  return [ref?.group ?? 'gateway.networking.k8s.io', ref?.kind ?? 'Gateway', ref?.namespace ?? routeNamespace, ref?.name ?? '', ref?.sectionName ?? '', ref?.port ?? ''].join('|');
}

/** Whether two JSON values are the same, whatever the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v).filter((k) => (v as Json)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Json)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
