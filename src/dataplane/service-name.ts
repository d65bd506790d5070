/**
 * Service-name routing for the service (sidecar) listener: a request's authority — from an
 * absolute-form target (`GET http://web.shop.svc.cluster.local/`, as HTTP_PROXY clients send) or the
 * Host header — names a Service and, optionally, its port. Pure; Map lookups on the hot path.
 *
 * Accepted names: `<svc>.<ns>.svc.<domain>`, `<svc>.<ns>.svc`, `<svc>.<ns>`, and a bare `<svc>` in the
 * listener's namespace. The port selects the Service port by number; without one, the port named
 * `http`, else the only port. A name that is not in the registry is `unknown-service` when it has the
 * shape of a cluster name (ends in `.svc` or `.svc.<domain>`, is a single label, or is `<x>.<ns>`
 * for a namespace that has Services) and `not-a-service` otherwise: Switchyard never proxies to the
 * outside world.
 */
import { ErrorCode } from '../errors.ts';
import type { Backend, ServiceView, Snapshot } from '../snapshot/types.ts';
import type { FailureCode } from './status.ts';

export type ServiceTarget = { readonly backend: Backend; readonly failure?: undefined } | { readonly backend?: undefined; readonly failure: FailureCode };

const namespacesBySnapshot = new WeakMap<Snapshot, ReadonlySet<string>>();

function namespacesOf(snapshot: Snapshot): ReadonlySet<string> {
  let set = namespacesBySnapshot.get(snapshot);
  if (set === undefined) {
    set = new Set([...snapshot.services.values()].map((s) => s.namespace));
    namespacesBySnapshot.set(snapshot, set);
  }
  return set;
}

/** Splits `host[:port]` / `[v6]:port`; lower-cases the host and drops a trailing dot. Port NaN when absent. */
export function splitAuthority(authority: string): { host: string; port: number } {
  let host = authority;
  let port = NaN;
  const close = authority.startsWith('[') ? authority.indexOf(']') : -1;
  const colon = authority.indexOf(':', close < 0 ? 0 : close);
  if (colon >= 0) {
    host = authority.slice(0, colon);
    const p = authority.slice(colon + 1);
    port = /^\d{1,5}$/.test(p) ? Number(p) : -1;
  }
  host = host.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  return { host, port };
}

export function resolveServiceTarget(snapshot: Snapshot, authority: string | undefined, namespace: string): ServiceTarget {
  if (!authority) return { failure: ErrorCode.NOT_A_SERVICE };
  const { host, port } = splitAuthority(authority);
  if (host === '' || port === -1) return { failure: ErrorCode.NOT_A_SERVICE };
  const dot = host.indexOf('.');
  const key = snapshot.registry.get(dot < 0 ? `${host}.${namespace}` : host);
  const svc = key === undefined ? undefined : snapshot.services.get(key);
  if (svc === undefined) return { failure: looksLikeClusterName(snapshot, host, dot) ? ErrorCode.SERVICE_NOT_FOUND : ErrorCode.NOT_A_SERVICE };
  const p = Number.isNaN(port) ? defaultPort(svc) : svc.ports.find((sp) => sp.port === port && sp.protocol === 'TCP');
  const backend = p === undefined ? undefined : snapshot.backends.get(p.backend);
  return backend === undefined ? { failure: ErrorCode.SERVICE_PORT_NOT_FOUND } : { backend };
}

function defaultPort(svc: ServiceView): ServiceView['ports'][number] | undefined {
  const tcp = svc.ports.filter((p) => p.protocol === 'TCP');
  return tcp.find((p) => p.name === 'http') ?? (tcp.length === 1 ? tcp[0] : undefined);
}

function looksLikeClusterName(snapshot: Snapshot, host: string, dot: number): boolean {
  if (dot < 0) return true;
  if (host.endsWith('.svc') || host.endsWith(`.svc.${snapshot.clusterDomain}`)) return true;
  const rest = host.slice(dot + 1);
  return !rest.includes('.') && namespacesOf(snapshot).has(rest);
}
