/**
 * Raw Gateway API objects → records (model/gateway-records.ts), with the defaults the spec states applied
 * here once: parentRef group/kind/namespace, match path PathPrefix `/`, match types Exact, backendRef
 * kind Service and weight 1, a rule without matches matching every request. Called by normalize.ts,
 * which validates the common parts and locates the errors.
 */
import type { z } from 'zod';
import type { ManifestLocation } from '../errors.ts';
import {
  GATEWAY_GROUP,
  type GatewayKindRec,
  type HttpRouteFilterRec,
  type HttpRouteMatchRec,
  type HttpRouteTimeoutsRec,
  type SessionPersistenceRec,
  type LabelSelectorRec,
  type PathModifierRec,
} from '../model/gateway-records.ts';
import type { Meta, Origin } from '../model/records.ts';
import type { metadataSchema } from './k8s-schemas.ts';
import { normalizeGrpcRoute } from './grpc-route-normalize.ts';
import { firstByName, toBackendRef, toHeaderModifier, toMirror, toParentRefs } from './gateway-route-parts.ts';
import { gatewayClassSchema, gatewayDurationMs, gatewaySchema, httpRouteSchema, namespaceSchema, referenceGrantSchema, type GatewayKind } from './gateway-schemas.ts';

/** What normalize.ts lends: its located schema check and its metadata reader. */
export interface NormalizeTools {
  check<S extends z.ZodType>(schema: S, obj: unknown, at: (path: string) => ManifestLocation): z.output<S>;
  toMeta(m: z.output<typeof metadataSchema>, defaultNamespace: string): Meta;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const DEFAULT_MATCH: HttpRouteMatchRec = Object.freeze({ path: Object.freeze({ type: 'PathPrefix', value: '/' }), headers: [], queryParams: [], method: undefined }) as HttpRouteMatchRec;

export function normalizeGatewayKind(kind: GatewayKind, obj: Record<string, unknown>, origin: Origin, at: (path: string) => ManifestLocation, tools: NormalizeTools): GatewayKindRec {
  const { check, toMeta } = tools;
  switch (kind) {
    case 'GatewayClass': {
      const v = check(gatewayClassSchema, obj, at);
      return { kind, meta: toMeta(v.metadata, ''), origin, controllerName: v.spec.controllerName };
    }
    case 'Gateway': {
      const v = check(gatewaySchema, obj, at);
      const meta = toMeta(v.metadata, 'default');
      const listeners = v.spec.listeners.map((l) => {
        const namespaces = l.allowedRoutes?.namespaces;
        return {
          name: l.name,
          hostname: l.hostname ? l.hostname.toLowerCase() : undefined,
          port: l.port,
          protocol: l.protocol,
          allowedNamespaces: namespaces?.from ?? 'Same',
          namespaceSelector: namespaces?.selector ? toSelector(namespaces.selector) : undefined,
          allowedKinds: (l.allowedRoutes?.kinds ?? []).map((k) => ({ group: k.group ?? GATEWAY_GROUP, kind: k.kind })),
          tls: l.tls
            ? {
                mode: l.tls.mode ?? 'Terminate',
                certificateRefs: (l.tls.certificateRefs ?? []).map((r) => ({ group: r.group ?? '', kind: r.kind ?? 'Secret', namespace: r.namespace ?? meta.namespace, name: r.name })),
              }
            : undefined,
        };
      });
      return { kind, meta, origin, gatewayClassName: v.spec.gatewayClassName, listeners };
    }
    case 'HTTPRoute': {
      const v = check(httpRouteSchema, obj, at);
      const meta = toMeta(v.metadata, 'default');
      const parentRefs = toParentRefs(v.spec.parentRefs, meta.namespace);
      // A route without rules still routes: the spec's default is one rule matching every request.
      const rules = (v.spec.rules?.length ? v.spec.rules : [{} as RuleInput]).map((r) => ({
        matches: r.matches?.length ? r.matches.map(toMatch) : [DEFAULT_MATCH],
        backendRefs: (r.backendRefs ?? []).map((b) => toBackendRef(b, meta.namespace)),
        filters: (r.filters ?? []).map((f) => toFilter(f, meta.namespace)),
        ...(r.timeouts != null ? { timeouts: toTimeouts(r.timeouts) } : {}),
        ...(r.sessionPersistence != null ? { sessionPersistence: toSessionPersistence(r.sessionPersistence) } : {}),
      }));
      return { kind, meta, origin, parentRefs, hostnames: (v.spec.hostnames ?? []).map((h) => h.toLowerCase()), rules };
    }
    case 'GRPCRoute':
      return normalizeGrpcRoute(obj, origin, at, tools);
    case 'ReferenceGrant': {
      const v = check(referenceGrantSchema, obj, at);
      return {
        kind,
        meta: toMeta(v.metadata, 'default'),
        origin,
        from: v.spec.from.map((f) => ({ group: f.group, kind: f.kind, namespace: f.namespace })),
        to: v.spec.to.map((t) => ({ group: t.group, kind: t.kind, name: t.name ?? undefined })),
      };
    }
    case 'Namespace': {
      const v = check(namespaceSchema, obj, at);
      const ts = v.metadata.creationTimestamp;
      const meta: Meta = { namespace: '', name: v.metadata.name, creationTimestamp: ts instanceof Date ? ts.toISOString() : (ts ?? undefined), labels: v.metadata.labels ?? NO_LABELS, annotations: NO_LABELS };
      return { kind, meta, origin };
    }
  }
}

type RuleInput = NonNullable<z.output<typeof httpRouteSchema>['spec']['rules']>[number];
type FilterInput = NonNullable<RuleInput['filters']>[number];
type PathModifierInput = NonNullable<NonNullable<FilterInput['urlRewrite']>['path']>;

function toFilter(f: FilterInput, routeNamespace: string): HttpRouteFilterRec {
  switch (f.type) {
    case 'RequestHeaderModifier':
      return { type: f.type, headers: toHeaderModifier(f.requestHeaderModifier!) };
    case 'ResponseHeaderModifier':
      return { type: f.type, headers: toHeaderModifier(f.responseHeaderModifier!) };
    case 'RequestRedirect': {
      const r = f.requestRedirect!;
      return { type: f.type, scheme: r.scheme ?? undefined, hostname: r.hostname ?? undefined, port: r.port ?? undefined, path: toPathModifier(r.path), statusCode: r.statusCode ?? 302 };
    }
    case 'URLRewrite':
      return { type: f.type, hostname: f.urlRewrite!.hostname ?? undefined, path: toPathModifier(f.urlRewrite!.path) };
    case 'RequestMirror':
      return toMirror(f.requestMirror!, routeNamespace);
    default:
      return { type: 'Unsupported', name: f.type };
  }
}

function toSessionPersistence(p: NonNullable<RuleInput['sessionPersistence']>): SessionPersistenceRec {
  return {
    type: p.type ?? 'Cookie',
    sessionName: p.sessionName ?? undefined,
    absoluteTimeoutMs: p.absoluteTimeout != null ? gatewayDurationMs(p.absoluteTimeout) : undefined,
    idleTimeoutMs: p.idleTimeout != null ? gatewayDurationMs(p.idleTimeout) : undefined,
    lifetimeType: p.cookieConfig?.lifetimeType ?? 'Session',
  };
}

function toTimeouts(t: NonNullable<RuleInput['timeouts']>): HttpRouteTimeoutsRec {
  return {
    requestMs: t.request != null ? gatewayDurationMs(t.request) : undefined,
    backendRequestMs: t.backendRequest != null ? gatewayDurationMs(t.backendRequest) : undefined,
  };
}

function toPathModifier(p: PathModifierInput | null | undefined): PathModifierRec | undefined {
  if (p == null) return undefined;
  return { type: p.type, value: (p.type === 'ReplaceFullPath' ? p.replaceFullPath : p.replacePrefixMatch)! };
}
type MatchInput = NonNullable<RuleInput['matches']>[number];

function toMatch(m: MatchInput): HttpRouteMatchRec {
  return {
    path: { type: m.path?.type ?? 'PathPrefix', value: m.path?.value ?? '/' },
    headers: firstByName((m.headers ?? []).map((h) => ({ type: h.type ?? 'Exact', name: h.name.toLowerCase(), value: h.value }))),
    queryParams: firstByName((m.queryParams ?? []).map((q) => ({ type: q.type ?? 'Exact', name: q.name, value: q.value }))),
    method: m.method ?? undefined,
  };
}

function toSelector(s: { matchLabels?: Record<string, string> | null; matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] | null }[] | null }): LabelSelectorRec {
  return {
    matchLabels: s.matchLabels ?? NO_LABELS,
    matchExpressions: (s.matchExpressions ?? []).map((e) => ({ key: e.key, operator: e.operator, values: e.values ?? [] })),
  };
}
