import type { Rec } from './records.ts';

/** `kind/namespace/name`: the store's key for a record. IngressClass is cluster-scoped, so its namespace is ''. */
export function recordKey(rec: Pick<Rec, 'kind' | 'meta'>): string {
  return `${rec.kind}/${rec.meta.namespace}/${rec.meta.name}`;
}

/** `namespace/name` of a Service. */
export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * `namespace/name:port` of a Service port: the unit traffic is balanced over. A port number may be
 * served over several protocols (53/UDP and 53/TCP); non-TCP ports get a `/udp` or `/sctp` suffix.
 */
export function backendKey(namespace: string, name: string, port: number, protocol: string = 'TCP'): string {
  return protocol === 'TCP' ? `${namespace}/${name}:${port}` : `${namespace}/${name}:${port}/${protocol.toLowerCase()}`;
}

/** `address:port` of one endpoint (IPv6 addresses bracketed), unique across the whole snapshot. */
export function endpointKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
