/**
 * Route lookup: exact host, then wildcard by the suffix after the first label, then host-less rules;
 * within the chosen host, the longest matching path, Exact before Prefix at equal length.
 * Only Map lookups: the cost does not grow with the number of routes.
 *
 * Once a host is chosen, its paths are the only candidates (as with Envoy virtual hosts and nginx
 * server blocks): a request for a known host whose path matches nothing gets the default backend.
 */
import type { HostRoutes, RouteTable, RouteTarget } from '../snapshot/types.ts';

/** Lower-cases the Host header and drops the port and a trailing dot. '' when absent. */
export function normalizeHost(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  let end = hostHeader.length;
  if (hostHeader.charCodeAt(0) === 91 /* '[' */) {
    const close = hostHeader.indexOf(']');
    end = close < 0 ? end : close + 1;
  } else {
    const colon = hostHeader.indexOf(':');
    if (colon >= 0) end = colon;
  }
  if (end > 0 && hostHeader.charCodeAt(end - 1) === 46 /* '.' */) end--;
  return hostHeader.slice(0, end).toLowerCase();
}

export function matchHost(table: RouteTable, host: string): HostRoutes | undefined {
  const exact = table.hosts.get(host);
  if (exact) return exact;
  if (table.wildcards.size > 0) {
    const dot = host.indexOf('.');
    // `*.example.com` covers exactly one more label: `a.example.com`, not `example.com` or `a.b.example.com`.
    if (dot > 0) {
      const wild = table.wildcards.get(host.slice(dot + 1));
      if (wild) return wild;
    }
  }
  return table.anyHost;
}

export function matchPath(routes: HostRoutes, path: string): RouteTarget | undefined {
  const exact = routes.exact.get(path);
  if (exact) return exact;
  if (routes.prefix.size === 0) return undefined;
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47 /* '/' */) end--;
  // Element-wise prefix match: try the whole path, then cut at each '/', longest first.
  for (;;) {
    const hit = routes.prefix.get(end === path.length ? path : path.slice(0, end));
    if (hit) return hit;
    if (end === 0) return undefined;
    end = path.lastIndexOf('/', end - 1);
    if (end < 0) return undefined;
  }
}

/** The route for a request, or the default backend, or undefined (404). */
export function matchRoute(table: RouteTable, host: string, path: string): RouteTarget | undefined {
  const routes = matchHost(table, host);
  return (routes && matchPath(routes, path)) || table.defaultBackend;
}
