/**
 * An HTTPRoute rule's filters and timeouts → RouteFilters, the form the data plane applies without
 * parsing: header names lower-cased, edits as flat [name, value, …] lists, mirrors as resolved backend
 * keys, durations in ms. RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite and
 * RequestMirror are applied; the other types are reported by the caller.
 */
import type { GrpcRouteRec, HeaderModifierRec, HttpRouteFilterRec, HttpRouteRec, HttpRouteRuleRec, ReferenceGrantRec } from '../model/gateway-records.ts';
import { serviceKey } from '../model/keys.ts';
import type { Diagnostic, HeaderEdits, RouteFilters, RouteMirror, RouteTimeouts, ServiceView } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';
import { resolveBackendRef } from './gateway-backends.ts';

const NO_FILTERS: RouteFilters = { requestHeaders: undefined, responseHeaders: undefined, redirect: undefined, rewrite: undefined };

/** A warning naming the rule's filters Switchyard does not apply (HTTPROUTE_/GRPCROUTE_FILTER_UNSUPPORTED); the rule routes without them. */
export function reportUnsupportedFilters(route: HttpRouteRec | GrpcRouteRec, ruleIndex: number, filters: readonly HttpRouteFilterRec[], diagnostics: Diagnostic[]): void {
  const unsupported = filters.flatMap((f) => (f.type === 'Unsupported' ? [f.name] : []));
  if (unsupported.length === 0) return;
  const code = route.kind === 'HTTPRoute' ? 'HTTPROUTE_FILTER_UNSUPPORTED' : 'GRPCROUTE_FILTER_UNSUPPORTED';
  diagnostics.push(diag('warning', code, route, `spec.rules[${ruleIndex}].filters: ${[...new Set(unsupported)].join(', ')} not applied yet; the rule routes without them`));
}

/**
 * A rule's filters, mirrors and timeouts; undefined when it has none Switchyard applies. A mirror whose
 * backendRef does not resolve is left out with a `warning` HTTPROUTE_BACKEND_UNRESOLVED (the spec: "not
 * configure this backend"); one of share 0 is left out silently (it would send nothing).
 */
export function compileRuleFilters(
  route: HttpRouteRec,
  ruleIndex: number,
  rule: HttpRouteRuleRec,
  services: ReadonlyMap<string, ServiceView>,
  grants: Iterable<ReferenceGrantRec>,
  diagnostics: Diagnostic[],
): RouteFilters | undefined {
  const base = compileFilters(rule.filters);
  const mirrors: RouteMirror[] = [];
  rule.filters.forEach((f, i) => {
    if (f.type !== 'RequestMirror' || f.numerator === 0) return;
    const outcome = resolveBackendRef(route, f.backendRef, services, grants);
    if ('backend' in outcome) {
      mirrors.push({ backend: outcome.backend, numerator: f.numerator, denominator: f.denominator });
      return;
    }
    const describe = `${serviceKey(f.backendRef.namespace, f.backendRef.name)}:${f.backendRef.port ?? '?'}`;
    diagnostics.push(diag('warning', 'HTTPROUTE_BACKEND_UNRESOLVED', route, `spec.rules[${ruleIndex}].filters[${i}].requestMirror.backendRef ${describe}: ${outcome.message}; requests are not mirrored there (reason ${outcome.reason})`));
  });
  const timeouts = compileTimeouts(rule);
  if (mirrors.length === 0 && timeouts === undefined) return base;
  return { ...(base ?? NO_FILTERS), ...(mirrors.length > 0 ? { mirrors } : {}), ...(timeouts !== undefined ? { timeouts } : {}) };
}

/** The longest delay a Node.js timer takes (2^31-1 ms, about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

function compileTimeouts(rule: HttpRouteRuleRec): RouteTimeouts | undefined {
  const t = rule.timeouts;
  if (t === undefined || (t.requestMs === undefined && t.backendRequestMs === undefined)) return undefined;
  // A Duration may say up to 4 × 99999h: past what a timer holds, it is held as the longest a timer can wait.
  const clamp = (ms: number | undefined) => (ms === undefined ? undefined : Math.min(ms, MAX_TIMER_MS));
  return { requestMs: clamp(t.requestMs), backendRequestMs: clamp(t.backendRequestMs) };
}

/** The header, redirect and rewrite filters; undefined when there are none. */
export function compileFilters(filters: readonly HttpRouteFilterRec[]): RouteFilters | undefined {
  let requestHeaders: HeaderEdits | undefined;
  let responseHeaders: HeaderEdits | undefined;
  let redirect: RouteFilters['redirect'];
  let rewrite: RouteFilters['rewrite'];
  for (const f of filters) {
    switch (f.type) {
      case 'RequestHeaderModifier':
        requestHeaders = edits(f.headers);
        break;
      case 'ResponseHeaderModifier':
        responseHeaders = edits(f.headers);
        break;
      case 'RequestRedirect':
        redirect = { scheme: f.scheme, hostname: f.hostname, port: f.port, path: f.path, statusCode: f.statusCode };
        break;
      case 'URLRewrite':
        rewrite = { hostname: f.hostname, path: f.path };
        break;
      case 'RequestMirror': // compileRuleFilters resolves its backend
      case 'Unsupported':
        break;
    }
  }
  if (requestHeaders === undefined && responseHeaders === undefined && redirect === undefined && rewrite === undefined) return undefined;
  // URLRewrite's hostname is a Host edit: folded in here, the data plane edits headers once.
  if (rewrite?.hostname !== undefined) requestHeaders = withHost(requestHeaders, rewrite.hostname);
  return { requestHeaders, responseHeaders, redirect, rewrite };
}

function edits(m: HeaderModifierRec): HeaderEdits {
  return {
    remove: m.remove.map((n) => n.toLowerCase()),
    set: m.set.flatMap((h) => [h.name.toLowerCase(), h.value]),
    add: m.add.flatMap((h) => [h.name.toLowerCase(), h.value]),
  };
}

/** `e` with Host set to `host` whatever it did to Host before. */
function withHost(e: HeaderEdits | undefined, host: string): HeaderEdits {
  const set: string[] = [];
  const add: string[] = [];
  for (let i = 0; i < (e?.set.length ?? 0); i += 2) if (e!.set[i] !== 'host') set.push(e!.set[i]!, e!.set[i + 1]!);
  for (let i = 0; i < (e?.add.length ?? 0); i += 2) if (e!.add[i] !== 'host') add.push(e!.add[i]!, e!.add[i + 1]!);
  return { remove: e?.remove ?? [], set: [...set, 'host', host], add };
}
