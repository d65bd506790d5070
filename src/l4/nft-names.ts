/**
 * Names of the per-Service chains and sets, built like kube-proxy's: a short hash of the full identity
 * (so names stay unique when shortened), then the readable `namespace/name/protocol/port`, which is what an
 * operator greps `nft list ruleset` for. nft identifiers allow letters, digits and `/ - _ .` only, so an
 * IPv6 endpoint's colons become dots; the hash keeps it unique.
 */
import { createHash } from 'node:crypto';
import type { EndpointView, L4PortView } from '../snapshot/types.ts';

/** nft allows 256; kept well below so a chain name never comes near the kernel's limit. */
const MAX_NAME = 200;

/** `namespace/name/proto/port`: the readable part shared by a Service port's chains. */
export function portLabel(port: Pick<L4PortView, 'namespace' | 'service' | 'protocol' | 'port'>): string {
  return `${port.namespace}/${port.service}/${port.protocol.toLowerCase()}/${port.port}`;
}

/** Chain of all the Service port's endpoints (Cluster policy). */
export function serviceChain(label: string): string {
  return named('service', label);
}

/** Chain of the endpoints on this node (Local policy). */
export function localChain(label: string): string {
  return named('local', label);
}

/** Chain that external traffic (node port, external IPs, load-balancer IPs) enters. */
export function externalChain(label: string): string {
  return named('external', label);
}

/** The endpoint's DNAT chain. */
export function endpointChain(label: string, endpoint: Pick<EndpointView, 'address' | 'port'>): string {
  return named('endpoint', `${label}__${endpointLabel(endpoint)}`);
}

/**
 * The endpoint's session-affinity set. The timeout is part of the identity: a changed timeout is a new set
 * (nft cannot change a set's timeout in place), and the old one goes like any stale set.
 */
export function affinitySet(label: string, endpoint: Pick<EndpointView, 'address' | 'port'>, timeoutSeconds: number): string {
  return named('affinity', `${label}__${endpointLabel(endpoint)}`, String(timeoutSeconds));
}

function endpointLabel(endpoint: Pick<EndpointView, 'address' | 'port'>): string {
  return `${endpoint.address.replaceAll(':', '.')}/${endpoint.port}`;
}

function named(prefix: string, label: string, extra = ''): string {
  const hash = createHash('sha256').update(`${prefix}|${label}|${extra}`).digest('hex').slice(0, 8).toUpperCase();
  const name = `${prefix}-${hash}-${label}`;
  return name.length <= MAX_NAME ? name : name.slice(0, MAX_NAME);
}
