/**
 * An HTTPRoute rule's filters → RouteFilters, the form the data plane applies without parsing: header
 * names lower-cased, edits as flat [name, value, …] lists. RequestHeaderModifier, ResponseHeaderModifier,
 * RequestRedirect and URLRewrite are applied; the other types are reported by the caller.
 */
import type { HeaderModifierRec, HttpRouteFilterRec } from '../model/gateway-records.ts';
import type { HeaderEdits, RouteFilters } from '../snapshot/types.ts';

/** Undefined when the rule has no filter Switchyard applies. */
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
