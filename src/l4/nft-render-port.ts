/**
 * One Service port in one address family → its chains, affinity sets and verdict-map elements, as
 * kube-proxy's nftables mode lays them out:
 *
 * - `service-…`: every chosen endpoint (Cluster policy), one picked per connection by `numgen random`
 *   (the nat chains see only a connection's first packet, so the pick holds for the whole connection);
 *   the pick is a cascade of one rule per endpoint, as kube-proxy's iptables mode does it (see below);
 * - `local-…`: the endpoints on this node (Local policy), or a `drop` when there are none (never another node);
 * - `external-…`: what node-port, external-IP and load-balancer-IP traffic enters: marked for masquerade
 *   and sent to `service-…` under Cluster; under Local sent to `local-…` with its source kept, except traffic
 *   from pods (--cluster-cidr) or from this node, which may go anywhere (kube-proxy's short-circuit);
 * - `endpoint-…`: masquerade a pod reaching itself (hairpin), remember the client for affinity, DNAT.
 *
 * A port without endpoints gets no chains: its frontends go to the no-endpoint maps, which reject.
 */
import { isIP } from 'node:net';
import { applyTrafficPolicy } from '../compile/l4-plan.ts';
import type { Backend, EndpointView, L4PortView } from '../snapshot/types.ts';
import type { NftChain, NftFamily, NftSet } from './nft-model.ts';
import { affinitySet, endpointChain, externalChain, localChain, portLabel, serviceChain } from './nft-names.ts';

export interface PortRenderContext {
  readonly family: NftFamily;
  readonly nodeName: string;
  /** --cluster-cidr blocks of this family; empty: pod traffic is not told apart. */
  readonly clusterCidrs: readonly string[];
  /** Whether node ports are served in this family (--nodeport-addresses has a block of it). */
  readonly nodePorts: boolean;
  /** Endpoint health: false for an endpoint active checks ejected; undefined: all available. */
  readonly available: ((endpointKey: string) => boolean) | undefined;
}

/** What one Service port adds to its family's table. */
export interface PortRules {
  readonly chains: NftChain[];
  readonly sets: NftSet[];
  /** UDP endpoints DNATed to, as `address port`. */
  readonly udpEndpoints: string[];
  /** Elements of the maps, by map name. */
  readonly elements: { readonly [map in PortMap]: string[] };
}

export type PortMap = 'service-ips' | 'service-nodeports' | 'no-endpoint-services' | 'no-endpoint-nodeports';

/** Renders `port` (its backend: `backend`) for `ctx.family`; undefined when the port has no address of that family. */
export function renderPort(port: L4PortView, backend: Backend, ctx: PortRenderContext): PortRules | undefined {
  const fam = ctx.family === 'ip' ? 4 : 6;
  const clusterIPs = port.clusterIPs.filter((ip) => isIP(ip) === fam);
  // kube-proxy serves a Service in the families of its cluster IPs only; node ports follow them.
  if (clusterIPs.length === 0) return undefined;
  const externalIPs = [...port.externalIPs, ...port.loadBalancerIPs].filter((ip) => isIP(ip) === fam);
  const nodePort = ctx.nodePorts ? port.nodePort : undefined;
  const proto = port.protocol.toLowerCase();
  const out: PortRules = { chains: [], sets: [], udpEndpoints: [], elements: { 'service-ips': [], 'service-nodeports': [], 'no-endpoint-services': [], 'no-endpoint-nodeports': [] } };
  const ipKey = (ip: string): string => `${ip} . ${proto} . ${port.port}`;

  const cluster = usable(backend.rotation, fam, ctx.available);
  if (cluster.length === 0) {
    for (const ip of [...clusterIPs, ...externalIPs]) out.elements['no-endpoint-services'].push(`${ipKey(ip)} : goto reject-chain`);
    if (nodePort !== undefined) out.elements['no-endpoint-nodeports'].push(`${proto} . ${nodePort} : goto reject-chain`);
    return out;
  }
  const hasExternal = externalIPs.length > 0 || nodePort !== undefined;
  const needsLocal = port.internalTrafficPolicy === 'Local' || (hasExternal && port.externalTrafficPolicy === 'Local');
  const local = needsLocal ? usable(applyTrafficPolicy(backend, 'Local', ctx.nodeName).rotation, fam, ctx.available) : [];

  const label = portLabel(port);
  const ip = ctx.family;
  const addrType = ctx.family === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
  const affinity = port.affinityTimeoutSeconds;
  const endpointChains = new Map<string, string>();
  for (const e of [...cluster, ...local]) {
    if (endpointChains.has(e.key)) continue;
    const name = endpointChain(label, e);
    endpointChains.set(e.key, name);
    const rules = [`${ip} saddr ${e.address} jump mark-for-masquerade`];
    if (affinity !== undefined) {
      const set = affinitySet(label, e, affinity);
      out.sets.push({ name: set, kind: 'set', spec: `type ${addrType}; flags dynamic,timeout; timeout ${affinity}s;`, elements: [], dynamic: true });
      rules.push(`update @${set} { ${ip} saddr }`);
    }
    rules.push(`meta l4proto ${proto} dnat to ${ctx.family === 'ip' ? e.address : `[${e.address}]`}:${e.port}`);
    if (proto === 'udp') out.udpEndpoints.push(`${e.address} ${e.port}`);
    out.chains.push({ name, rules });
  }
  const pick = (endpoints: readonly EndpointView[]): string[] => {
    const rules: string[] = [];
    if (affinity !== undefined) {
      for (const e of endpoints) rules.push(`${ip} saddr @${affinitySet(label, e, affinity)} goto ${endpointChains.get(e.key)!}`);
    }
    // One endpoint in N, uniformly: the first with probability 1/N, else the next with 1/(N-1)… (each
    // numgen draws anew). kube-proxy's nftables mode uses one anonymous verdict map per Service instead,
    // but the kernel spends about a millisecond loading each anonymous set: 10 s for 10,000 Services.
    endpoints.forEach((e, i) => {
      const left = endpoints.length - i;
      rules.push(left === 1 ? `goto ${endpointChains.get(e.key)!}` : `numgen random mod ${left} == 0 goto ${endpointChains.get(e.key)!}`);
    });
    return rules;
  };

  const svc = serviceChain(label);
  const masq =
    ctx.clusterCidrs.length === 0
      ? []
      : clusterIPs.map((cip) => `${ip} daddr ${cip} meta l4proto ${proto} th dport ${port.port} ${ip} saddr != { ${ctx.clusterCidrs.join(', ')} } jump mark-for-masquerade`);
  out.chains.push({ name: svc, rules: [...masq, ...pick(cluster)] });
  const loc = localChain(label);
  if (needsLocal) out.chains.push({ name: loc, rules: local.length > 0 ? pick(local) : ['drop'] });

  const internalTarget = port.internalTrafficPolicy === 'Local' ? loc : svc;
  for (const cip of clusterIPs) out.elements['service-ips'].push(`${ipKey(cip)} : goto ${internalTarget}`);
  if (hasExternal) {
    const ext = externalChain(label);
    const rules =
      port.externalTrafficPolicy === 'Cluster'
        ? ['jump mark-for-masquerade', `goto ${svc}`]
        : [
            ...(ctx.clusterCidrs.length > 0 ? [`${ip} saddr { ${ctx.clusterCidrs.join(', ')} } goto ${svc}`] : []),
            'fib saddr type local jump mark-for-masquerade',
            `fib saddr type local goto ${svc}`,
            `goto ${loc}`,
          ];
    out.chains.push({ name: ext, rules });
    for (const xip of externalIPs) out.elements['service-ips'].push(`${ipKey(xip)} : goto ${ext}`);
    if (nodePort !== undefined) out.elements['service-nodeports'].push(`${proto} . ${nodePort} : goto ${ext}`);
  }
  return out;
}

/**
 * The endpoints of `family` that active health checks have not ejected; when all are ejected, all of them
 * (the HTTP balancer's panic rule: better a pod that may fail than a certain refusal).
 */
function usable(endpoints: readonly EndpointView[], family: 4 | 6, available: ((key: string) => boolean) | undefined): EndpointView[] {
  const ofFamily = endpoints.filter((e) => isIP(e.address) === family);
  if (available === undefined) return ofFamily;
  const healthy = ofFamily.filter((e) => available(e.key));
  return healthy.length > 0 ? healthy : ofFamily;
}
