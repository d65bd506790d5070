/**
 * The nftables renderer: Service manifests (through the real compile) → the wanted ruleset as data.
 * One row per rule of kube-proxy's nftables layout the issue asks for; each row names the chains and map
 * elements it expects, so a row fails when a rule goes missing or lands in the wrong place.
 */
import { describe, expect, it } from 'vitest';
import type { NftTable } from '../../../src/l4/nft-model.ts';
import { endpointChain, externalChain, localChain, serviceChain } from '../../../src/l4/nft-names.ts';
import { renderRuleset, type NftRenderOptions } from '../../../src/l4/nft-render.ts';
import { compileObjects, type Obj } from '../support/k8s.ts';

interface Ep {
  readonly ip: string;
  readonly node?: string;
  readonly ready?: boolean;
}

const LABEL = 'shop/web/tcp/80';
const SVC = serviceChain(LABEL);
const LOCAL = localChain(LABEL);
const EXT = externalChain(LABEL);
const ep = (ip: string, port = 9000): string => endpointChain(LABEL, { address: ip, port });

function svc(spec: Obj, name = 'web'): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { clusterIP: '203.0.113.10', ports: [{ name: 'tcp', port: 80, targetPort: 'tcp' }], ...spec } };
}

function slice(eps: readonly Ep[], service = 'web', family: 'IPv4' | 'IPv6' = 'IPv4', port = 9000, protocol = 'TCP'): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-${family.toLowerCase()}`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
    addressType: family,
    endpoints: eps.map((e) => ({ addresses: [e.ip], ...(e.node ? { nodeName: e.node } : {}), conditions: { ready: e.ready ?? true } })),
    ports: [{ name: 'tcp', port, protocol }],
  };
}

const OPTIONS: NftRenderOptions = { nodeName: 'node-a', nodePortAddresses: ['0.0.0.0/32'] };

function render(objs: Obj[], options: Partial<NftRenderOptions> = {}): { ip: NftTable; ip6: NftTable } {
  const [ip, ip6] = renderRuleset(compileObjects(objs), { ...OPTIONS, ...options }).tables;
  return { ip: ip!, ip6: ip6! };
}

const rules = (t: NftTable, chain: string): readonly string[] | undefined => t.chains.get(chain)?.rules;
const elements = (t: NftTable, set: string): readonly string[] => t.sets.get(set)?.elements ?? [];

describe('renderRuleset: per Service port, as kube-proxy\'s nftables mode', () => {
  it('a ClusterIP Service: the cluster IP maps to its service chain, which picks one endpoint per connection', () => {
    const { ip } = render([svc({}), slice([{ ip: '192.0.2.11' }, { ip: '192.0.2.12' }, { ip: '192.0.2.13', ready: false }])]);
    expect(elements(ip, 'service-ips')).toEqual([`203.0.113.10 . tcp . 80 : goto ${SVC}`]);
    expect(rules(ip, SVC)).toEqual([`numgen random mod 2 == 0 goto ${ep('192.0.2.11')}`, `goto ${ep('192.0.2.12')}`]);
    expect(rules(ip, ep('192.0.2.11'))).toEqual(['ip saddr 192.0.2.11 jump mark-for-masquerade', 'meta l4proto tcp dnat to 192.0.2.11:9000']);
    expect(ip.chains.has(ep('192.0.2.13'))).toBe(false);
    expect(elements(ip, 'no-endpoint-services')).toEqual([]);
  });

  it('three endpoints: a cascade of 1/3, then 1/2, then the last (uniform)', () => {
    const { ip } = render([svc({}), slice([{ ip: '192.0.2.11' }, { ip: '192.0.2.12' }, { ip: '192.0.2.13' }])]);
    expect(rules(ip, SVC)).toEqual([`numgen random mod 3 == 0 goto ${ep('192.0.2.11')}`, `numgen random mod 2 == 0 goto ${ep('192.0.2.12')}`, `goto ${ep('192.0.2.13')}`]);
  });

  it('UDP and SCTP ports use their protocol in the map keys and the DNAT', () => {
    const udpLabel = 'shop/dns/udp/53';
    const { ip } = render([svc({ ports: [{ name: 'tcp', port: 53, protocol: 'UDP', targetPort: 'tcp' }] }, 'dns'), slice([{ ip: '192.0.2.11' }], 'dns', 'IPv4', 5353, 'UDP')]);
    expect(elements(ip, 'service-ips')).toEqual([`203.0.113.10 . udp . 53 : goto ${serviceChain(udpLabel)}`]);
    expect(rules(ip, endpointChain(udpLabel, { address: '192.0.2.11', port: 5353 }))).toContain('meta l4proto udp dnat to 192.0.2.11:5353');
    // Listed for the conntrack cleanup when it goes; TCP endpoints are not.
    expect([...ip.udpEndpoints]).toEqual(['192.0.2.11 5353']);
    expect([...render([svc({}), slice([{ ip: '192.0.2.11' }])]).ip.udpEndpoints]).toEqual([]);
    const sctp = render([svc({ ports: [{ name: 'tcp', port: 3868, protocol: 'SCTP', targetPort: 'tcp' }] }, 'diam'), slice([{ ip: '192.0.2.11' }], 'diam', 'IPv4', 3868, 'SCTP')]).ip;
    expect(elements(sctp, 'service-ips')).toEqual([`203.0.113.10 . sctp . 3868 : goto ${serviceChain('shop/diam/sctp/3868')}`]);
    expect(rules(sctp, endpointChain('shop/diam/sctp/3868', { address: '192.0.2.11', port: 3868 }))).toContain('meta l4proto sctp dnat to 192.0.2.11:3868');
  });

  it('no ready endpoint: every frontend is in the no-endpoint maps (reject), and no chain is made', () => {
    const { ip } = render([svc({ type: 'NodePort', ports: [{ name: 'tcp', port: 80, targetPort: 'tcp', nodePort: 30080 }] }), slice([{ ip: '192.0.2.11', ready: false }])]);
    expect(elements(ip, 'no-endpoint-services')).toEqual(['203.0.113.10 . tcp . 80 : goto reject-chain']);
    expect(elements(ip, 'no-endpoint-nodeports')).toEqual(['tcp . 30080 : goto reject-chain']);
    expect(elements(ip, 'service-ips')).toEqual([]);
    expect(ip.chains.has(SVC)).toBe(false);
    expect(rules(ip, 'reject-chain')).toEqual(['meta l4proto tcp reject with tcp reset', 'reject']);
  });

  it('NodePort, external IPs and load-balancer IPs enter the external chain, which masquerades under Cluster', () => {
    const { ip } = render([
      { ...svc({ type: 'LoadBalancer', externalIPs: ['203.0.113.200'], ports: [{ name: 'tcp', port: 80, targetPort: 'tcp', nodePort: 30080 }] }), status: { loadBalancer: { ingress: [{ ip: '198.51.100.50' }] } } },
      slice([{ ip: '192.0.2.11' }]),
    ]);
    expect(elements(ip, 'service-ips')).toEqual([`203.0.113.10 . tcp . 80 : goto ${SVC}`, `203.0.113.200 . tcp . 80 : goto ${EXT}`, `198.51.100.50 . tcp . 80 : goto ${EXT}`]);
    expect(elements(ip, 'service-nodeports')).toEqual([`tcp . 30080 : goto ${EXT}`]);
    expect(rules(ip, EXT)).toEqual(['jump mark-for-masquerade', `goto ${SVC}`]);
  });

  it('externalTrafficPolicy Local: external traffic goes to this node\'s endpoints, source kept; pods and the node itself may use all', () => {
    const { ip } = render(
      [svc({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'tcp', port: 80, targetPort: 'tcp', nodePort: 30080 }] }), slice([{ ip: '192.0.2.11', node: 'node-a' }, { ip: '192.0.2.13', node: 'node-b' }])],
      { clusterCidrs: ['192.0.2.0/24'] },
    );
    expect(rules(ip, EXT)).toEqual([`ip saddr { 192.0.2.0/24 } goto ${SVC}`, 'fib saddr type local jump mark-for-masquerade', `fib saddr type local goto ${SVC}`, `goto ${LOCAL}`]);
    expect(rules(ip, LOCAL)).toEqual([`goto ${ep('192.0.2.11')}`]);
    expect(rules(ip, SVC)?.at(-1)).toBe(`goto ${ep('192.0.2.13')}`);
  });

  it('internalTrafficPolicy Local: the cluster IP maps to the local chain; with no endpoint here it drops (never another node)', () => {
    const some = render([svc({ internalTrafficPolicy: 'Local' }), slice([{ ip: '192.0.2.11', node: 'node-a' }, { ip: '192.0.2.13', node: 'node-b' }])]).ip;
    expect(elements(some, 'service-ips')).toEqual([`203.0.113.10 . tcp . 80 : goto ${LOCAL}`]);
    expect(rules(some, LOCAL)).toEqual([`goto ${ep('192.0.2.11')}`]);
    const none = render([svc({ internalTrafficPolicy: 'Local' }), slice([{ ip: '192.0.2.13', node: 'node-b' }])]).ip;
    expect(rules(none, LOCAL)).toEqual(['drop']);
  });

  it('--cluster-cidr: traffic to the cluster IP from outside the pod network is masqueraded', () => {
    const { ip } = render([svc({}), slice([{ ip: '192.0.2.11' }])], { clusterCidrs: ['192.0.2.0/24', 'fd00:10::/64'] });
    expect(rules(ip, SVC)?.[0]).toBe('ip daddr 203.0.113.10 meta l4proto tcp th dport 80 ip saddr != { 192.0.2.0/24 } jump mark-for-masquerade');
  });

  it('sessionAffinity ClientIP: a dynamic set per endpoint with the timeout, checked first, updated on DNAT', () => {
    const { ip } = render([svc({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }), slice([{ ip: '192.0.2.11' }, { ip: '192.0.2.12' }])]);
    const sets = [...ip.sets.values()].filter((s) => s.dynamic);
    expect(sets.map((s) => s.spec)).toEqual(Array(2).fill('type ipv4_addr; flags dynamic,timeout; timeout 600s;'));
    const [a, b] = sets.map((s) => s.name);
    expect(rules(ip, SVC)?.slice(0, 2)).toEqual([`ip saddr @${a} goto ${ep('192.0.2.11')}`, `ip saddr @${b} goto ${ep('192.0.2.12')}`]);
    expect(rules(ip, ep('192.0.2.11'))?.[1]).toBe(`update @${a} { ip saddr }`);
  });

  it('endpoints ejected by active health checks leave the rules; all ejected: all kept (panic, as the HTTP balancer)', () => {
    const objs = [svc({}), slice([{ ip: '192.0.2.11' }, { ip: '192.0.2.12' }])];
    expect(rules(render(objs, { available: (k) => k !== '192.0.2.11:9000' }).ip, SVC)).toEqual([`goto ${ep('192.0.2.12')}`]);
    expect(rules(render(objs, { available: () => false }).ip, SVC)).toHaveLength(2);
  });

  it('IPv6: its own table, bracketed DNAT; a dual-stack Service is in both tables', () => {
    const { ip, ip6 } = render([svc({ clusterIPs: ['203.0.113.10', '2001:db8::10'], ipFamilies: ['IPv4', 'IPv6'] }), slice([{ ip: '192.0.2.11' }]), slice([{ ip: '2001:db8:1::11' }], 'web', 'IPv6')]);
    expect(elements(ip6, 'service-ips')).toEqual([`2001:db8::10 . tcp . 80 : goto ${SVC}`]);
    expect(rules(ip6, ep('2001:db8:1::11'))).toEqual(['ip6 saddr 2001:db8:1::11 jump mark-for-masquerade', 'meta l4proto tcp dnat to [2001:db8:1::11]:9000']);
    expect(elements(ip, 'service-ips')).toEqual([`203.0.113.10 . tcp . 80 : goto ${SVC}`]);
    expect(ip.chains.has(ep('2001:db8:1::11'))).toBe(false);
  });

  it('--nodeport-addresses: the blocks of each family; a family without one serves no node ports', () => {
    const objs = [svc({ type: 'NodePort', clusterIPs: ['203.0.113.10', '2001:db8::10'], ports: [{ name: 'tcp', port: 80, targetPort: 'tcp', nodePort: 30080 }] }), slice([{ ip: '192.0.2.11' }]), slice([{ ip: '2001:db8:1::11' }], 'web', 'IPv6')];
    const { ip, ip6 } = render(objs, { nodePortAddresses: ['198.51.100.0/24', '198.51.100.1/32'] });
    expect(elements(ip, 'nodeport-ips')).toEqual(['198.51.100.0/24', '198.51.100.1/32']);
    expect(elements(ip, 'service-nodeports')).toEqual([`tcp . 30080 : goto ${EXT}`]);
    expect(elements(ip6, 'nodeport-ips')).toEqual([]);
    expect(elements(ip6, 'service-nodeports')).toEqual([]);
    expect(elements(render(objs, { nodePortAddresses: ['0.0.0.0/32', '::/128'] }).ip6, 'nodeport-ips')).toEqual(['::/0']);
  });

  it('two Services claiming one cluster IP and port: the first by key keeps it; the ruleset stays valid', () => {
    const { ip } = render([svc({}, 'a'), svc({}, 'b'), slice([{ ip: '192.0.2.11' }], 'a'), slice([{ ip: '192.0.2.12' }], 'b')]);
    expect(elements(ip, 'service-ips')).toEqual([`203.0.113.10 . tcp . 80 : goto ${serviceChain('shop/a/tcp/80')}`]);
  });

  it('headless and ExternalName Services get nothing; the fixed chains are always there', () => {
    const { ip, ip6 } = render([svc({ clusterIP: 'None' }), slice([{ ip: '192.0.2.11' }]), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'example.com' } }]);
    for (const t of [ip, ip6]) {
      expect([...t.chains.keys()]).toEqual(['filter-input', 'filter-forward', 'filter-output', 'nat-prerouting', 'nat-output', 'nat-postrouting', 'service-endpoints-check', 'nodeport-endpoints-check', 'services', 'mark-for-masquerade', 'masquerading', 'reject-chain']);
      expect(elements(t, 'service-ips')).toEqual([]);
    }
    expect(rules(ip, 'services')).toEqual(['ip daddr . meta l4proto . th dport vmap @service-ips', 'fib daddr type local ip daddr != 127.0.0.0/8 ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports']);
    expect(rules(ip, 'masquerading')).toEqual(['meta mark & 0x4000 == 0 return', 'meta mark set meta mark ^ 0x4000', 'masquerade fully-random']);
  });

  it('is deterministic: the same snapshot renders the same ruleset', () => {
    const objs = [svc({ sessionAffinity: 'ClientIP' }), slice([{ ip: '192.0.2.11' }, { ip: '192.0.2.12' }])];
    expect(renderRuleset(compileObjects(objs), OPTIONS)).toEqual(renderRuleset(compileObjects(objs), OPTIONS));
  });
});
