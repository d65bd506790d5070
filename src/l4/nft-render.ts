/**
 * The node's layer-4 plan → the nftables ruleset it wants (tables `ip switchyard` and `ip6 switchyard`),
 * as data. Pure: no I/O, no clock; the same input renders the same ruleset, so nft-diff.ts can compare
 * two renderings chain by chain.
 *
 * The fixed part is kube-proxy's nftables layout: nat chains at the dstnat hooks look the packet's
 * destination up in two verdict maps (`service-ips`: address . protocol . port; `service-nodeports`:
 * protocol . port, for local destinations inside --nodeport-addresses), each element jumping to the
 * Service port's own chains (nft-render-port.ts); filter chains at priority -110 look new connections up
 * in the two no-endpoint maps and reject them (TCP reset, ICMP port unreachable) before any NAT; the
 * postrouting chain masquerades what was marked. Loopback destinations never count as node-port
 * addresses (as in kube-proxy's nftables mode: DNAT from 127.0.0.1 would need route_localnet).
 */
import { isIP } from 'node:net';
import type { Backend, L4PortView } from '../snapshot/types.ts';
import { MASQUERADE_MARK, NFT_FAMILIES, type NftChain, type NftFamily, type NftRuleset, type NftSet, type NftTable, elementKey } from './nft-model.ts';
import { renderPort, type PortMap } from './nft-render-port.ts';

export interface NftRenderInput {
  /** Snapshot.l4: the Service ports, sorted by key (which decides who keeps a clashing frontend). */
  readonly l4: readonly L4PortView[];
  readonly backends: ReadonlyMap<string, Backend>;
}

export interface NftRenderOptions {
  /** --node-name, for Local traffic policies. */
  readonly nodeName: string;
  /** --cluster-cidr (`address/prefix`); default none: no pod-network masquerade rules. */
  readonly clusterCidrs?: readonly string[];
  /** --nodeport-addresses (`address/prefix`); `0.0.0.0`/`::` or a /0 means every local address of the family. */
  readonly nodePortAddresses: readonly string[];
  /** Endpoint health (active checks): false removes the endpoint from the rules; default: all available. */
  readonly available?: (endpointKey: string) => boolean;
}

const MAPS: readonly PortMap[] = ['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports'];

/** The whole wanted ruleset for `input`. */
export function renderRuleset(input: NftRenderInput, options: NftRenderOptions): NftRuleset {
  return { tables: NFT_FAMILIES.map((family) => renderTable(family, input, options)) };
}

function renderTable(family: NftFamily, input: NftRenderInput, options: NftRenderOptions): NftTable {
  const fam = family === 'ip' ? 4 : 6;
  const clusterCidrs = (options.clusterCidrs ?? []).filter((c) => isIP(c.slice(0, c.indexOf('/'))) === fam);
  const nodePortBlocks = nodePortCidrs(options.nodePortAddresses, fam);
  const ctx = { family, nodeName: options.nodeName, clusterCidrs, nodePorts: nodePortBlocks.length > 0, available: options.available };

  const serviceChains: NftChain[] = [];
  const portSets: NftSet[] = [];
  const udpEndpoints = new Set<string>();
  /** Map → element key → element; the first port (by key) keeps a clashing key, the API server would have refused the second. */
  const elements = new Map<PortMap, Map<string, string>>(MAPS.map((m) => [m, new Map()]));
  for (const port of input.l4) {
    const backend = input.backends.get(port.key);
    if (backend === undefined) continue;
    const rules = renderPort(port, backend, ctx);
    if (rules === undefined) continue;
    serviceChains.push(...rules.chains);
    portSets.push(...rules.sets);
    for (const e of rules.udpEndpoints) udpEndpoints.add(e);
    for (const m of MAPS) {
      const into = elements.get(m)!;
      for (const e of rules.elements[m]) {
        const key = elementKey(e);
        if (!into.has(key)) into.set(key, e);
      }
    }
  }

  const ip = family;
  const addr = family === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
  const loopback = family === 'ip' ? '127.0.0.0/8' : '::1';
  const mapOf = (name: PortMap, keyType: string): NftSet => ({ name, kind: 'map', spec: `type ${keyType} : verdict;`, elements: [...elements.get(name)!.values()], dynamic: false });
  const sets: NftSet[] = [
    { name: 'nodeport-ips', kind: 'set', spec: `type ${addr}; flags interval; auto-merge;`, elements: nodePortBlocks, dynamic: false },
    mapOf('service-ips', `${addr} . inet_proto . inet_service`),
    mapOf('service-nodeports', 'inet_proto . inet_service'),
    mapOf('no-endpoint-services', `${addr} . inet_proto . inet_service`),
    mapOf('no-endpoint-nodeports', 'inet_proto . inet_service'),
    ...portSets,
  ];
  const nodePortMatch = `fib daddr type local ${ip} daddr != ${loopback} ${ip} daddr @nodeport-ips meta l4proto . th dport`;
  const chains: NftChain[] = [
    { name: 'filter-input', hook: 'type filter hook input priority -110; policy accept;', rules: ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'] },
    { name: 'filter-forward', hook: 'type filter hook forward priority -110; policy accept;', rules: ['ct state new jump service-endpoints-check'] },
    { name: 'filter-output', hook: 'type filter hook output priority -110; policy accept;', rules: ['ct state new jump service-endpoints-check'] },
    { name: 'nat-prerouting', hook: 'type nat hook prerouting priority -100; policy accept;', rules: ['jump services'] },
    { name: 'nat-output', hook: 'type nat hook output priority -100; policy accept;', rules: ['jump services'] },
    { name: 'nat-postrouting', hook: 'type nat hook postrouting priority 100; policy accept;', rules: ['jump masquerading'] },
    { name: 'service-endpoints-check', rules: [`${ip} daddr . meta l4proto . th dport vmap @no-endpoint-services`] },
    { name: 'nodeport-endpoints-check', rules: [`${nodePortMatch} vmap @no-endpoint-nodeports`] },
    { name: 'services', rules: [`${ip} daddr . meta l4proto . th dport vmap @service-ips`, `${nodePortMatch} vmap @service-nodeports`] },
    { name: 'mark-for-masquerade', rules: [`meta mark set meta mark | ${MASQUERADE_MARK}`] },
    { name: 'masquerading', rules: [`meta mark & ${MASQUERADE_MARK} == 0 return`, `meta mark set meta mark ^ ${MASQUERADE_MARK}`, 'masquerade fully-random'] },
    { name: 'reject-chain', rules: ['meta l4proto tcp reject with tcp reset', 'reject'] },
    ...serviceChains,
  ];
  return { family, chains: new Map(chains.map((c) => [c.name, c])), sets: new Map(sets.map((s) => [s.name, s])), udpEndpoints };
}

/** The --nodeport-addresses blocks of one family, the unspecified address standing for the whole family. */
function nodePortCidrs(cidrs: readonly string[], fam: 4 | 6): string[] {
  const out: string[] = [];
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/');
    const address = slash < 0 ? cidr : cidr.slice(0, slash);
    if (isIP(address) !== fam) continue;
    const all = fam === 4 ? '0.0.0.0/0' : '::/0';
    if (address === '0.0.0.0' || address === '::' || cidr.endsWith('/0')) return [all];
    out.push(slash < 0 ? `${address}/${fam === 4 ? 32 : 128}` : cidr);
  }
  return [...new Set(out)].sort();
}
