/**
 * --proxy-mode nftables in real network namespaces (netns/topology.ts): the proxier in this process
 * programs the node namespace's kernel through `ip netns exec NODE nft`, from snapshots the test swaps;
 * a client namespace and three pod namespaces send and answer real TCP and UDP traffic. Nothing leaves
 * the namespaces; they are removed after the file, and the tables after each test, pass or fail.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { deleteTables } from '../../../src/l4/nft-apply.ts';
import { NftProxier } from '../../../src/l4/nft-proxier.ts';
import { createRootLogger } from '../../../src/log.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import type { EndpointView, L4PortView } from '../../../src/snapshot/types.ts';
import { defer } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait.ts';
import { endpoint, portView, snapshotOf, type PortWithEndpoints } from '../../unit/l4/nft-fixtures.ts';
import { CLIENT_IP, CLIENT_IP6, NODE_IP, NODE_IP6, NODE_NAME, NODE_POD_IP, NODE_POD_IP6, POD_CIDR, PODS, unavailableReason, useTopology, type Topology } from './netns/topology.ts';

const skip = unavailableReason();
if (skip !== undefined) console.warn(`nftables namespace tests skipped: ${skip}`);

const CLUSTER_IP = '203.0.113.10';
const CLUSTER_IP6 = '2001:db8:ff::10';
const hasConntrack = (() => {
  try {
    execFileSync('conntrack', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('the UDP conntrack test is skipped: no conntrack tool (Debian package conntrack)');
    return false;
  }
})();
const log = createRootLogger('silent');

/** pod-N's endpoint on port 8080 (UDP too: the pods listen on both). */
function pod(n: 1 | 2 | 3, extra: Partial<EndpointView> = {}, port = 8080): EndpointView {
  const p = PODS[n - 1]!;
  return endpoint(p.address, port, { nodeName: p.node, ...extra });
}

/** pod-N's IPv6 endpoint on port 8080. */
function pod6(n: 1 | 2 | 3): EndpointView {
  const p = PODS[n - 1]!;
  return endpoint(p.address6, 8080, { nodeName: p.node });
}

function web(extra: Partial<L4PortView> = {}): L4PortView {
  return portView('shop', 'web', 80, { clusterIPs: [CLUSTER_IP], ...extra });
}

describe.skipIf(skip !== undefined)('--proxy-mode nftables in network namespaces', () => {
  let topo: Topology;
  useTopology((t) => (topo = t));

  /** A proxier on the node programmed with `ports`; `swap` replaces them and waits for the sync. */
  async function program(ports: PortWithEndpoints[], opts: { clusterCidrs?: string[]; health?: { available(key: string): boolean }; syncPeriodMs?: number; nodePortAddresses?: string[] } = {}) {
    const holder = new SnapshotHolder(snapshotOf(ports));
    const proxier = new NftProxier({
      holder,
      nodeName: NODE_NAME,
      clusterCidrs: opts.clusterCidrs ?? [],
      nodePortAddresses: opts.nodePortAddresses ?? ['0.0.0.0/32'],
      syncPeriodMs: opts.syncPeriodMs ?? 3_600_000,
      log,
      command: topo.nft,
      conntrackCommand: ['ip', 'netns', 'exec', topo.node, 'conntrack'],
      coalesceMs: 20,
      healthPollMs: 50,
      ...(opts.health ? { health: opts.health } : {}),
    });
    defer(() => deleteTables(topo.nft));
    defer(() => proxier.stop());
    await proxier.start();
    let version = 1;
    return {
      proxier,
      async swap(next: PortWithEndpoints[]) {
        holder.swap(snapshotOf(next, ++version));
        await proxier.syncNow();
      },
    };
  }

  const tcp = (host: string, port: number, count: number, ns?: string) => topo.runClient<[string[]]>([{ kind: 'tcp', host, port, count }], ns).then((r) => r[0]);
  const udp = (host: string, port: number, count: number) => topo.runClient<[string[]]>([{ kind: 'udp', host, port, count }]).then((r) => r[0]);
  const names = (lines: readonly string[]) => new Set(lines.map((l) => l.split(' ')[0]));

  it('ClusterIP TCP reaches every ready pod and only those; the source is kept without --cluster-cidr', async () => {
    await program([{ port: web(), endpoints: [pod(1), pod(2), pod(3, { ready: false, serving: false })] }]);
    const lines = await tcp(CLUSTER_IP, 80, 40);
    expect(lines.filter((l) => l.startsWith('ERR'))).toEqual([]);
    expect(names(lines)).toEqual(new Set(['pod-1', 'pod-2']));
    expect(new Set(lines.map((l) => l.split(' ')[1]))).toEqual(new Set([CLIENT_IP]));
  });

  it('IPv6: a dual-stack Service\'s IPv6 cluster IP and node port reach its IPv6 pods (table ip6 switchyard)', async (ctx) => {
    if (topo.ipv6Unavailable !== undefined) {
      console.warn(`IPv6 namespace test skipped: ${topo.ipv6Unavailable}`);
      ctx.skip();
    }
    await program([{ port: web({ clusterIPs: [CLUSTER_IP, CLUSTER_IP6], nodePort: 30083 }), endpoints: [pod(1), pod6(1), pod6(2)] }], { nodePortAddresses: ['0.0.0.0/32', '::/128'] });
    // Fresh IPv6 neighbours take about a second to resolve (a retransmitted SYN): once, directly, first.
    await topo.runClient([1, 2].map((n) => ({ kind: 'tcp', host: PODS[n - 1]!.address6, port: 8080, count: 1, timeoutMs: 5000 })));
    expect(new Set(await tcp(CLUSTER_IP6, 80, 20))).toEqual(new Set([`pod-1 ${CLIENT_IP6}`, `pod-2 ${CLIENT_IP6}`]));
    expect(new Set(await tcp(NODE_IP6, 30083, 20))).toEqual(new Set([`pod-1 ${NODE_POD_IP6}`, `pod-2 ${NODE_POD_IP6}`]));
    expect(new Set(await tcp(CLUSTER_IP, 80, 5))).toEqual(new Set([`pod-1 ${CLIENT_IP}`]));
  });

  it('ClusterIP UDP: each new flow reaches a ready pod, all of them in turn', async () => {
    await program([{ port: web({ protocol: 'UDP', port: 53 }), endpoints: [pod(1), pod(2), pod(3)] }]);
    const answers = await udp(CLUSTER_IP, 53, 40);
    expect(answers.filter((l) => l.startsWith('ERR'))).toEqual([]);
    expect(names(answers)).toEqual(new Set(['pod-1', 'pod-2', 'pod-3']));
  });

  it('--cluster-cidr: traffic from outside the pod network is masqueraded, pod traffic keeps its source', async () => {
    await program([{ port: web(), endpoints: [pod(1)] }], { clusterCidrs: [POD_CIDR] });
    expect(new Set(await tcp(CLUSTER_IP, 80, 3))).toEqual(new Set([`pod-1 ${NODE_POD_IP}`]));
    expect(new Set(await tcp(CLUSTER_IP, 80, 3, topo.podNs.get('pod-2')))).toEqual(new Set([`pod-1 ${PODS[1].address}`]));
  });

  it('hairpin: a pod reaching its own Service through the cluster IP is answered (masqueraded)', async () => {
    await program([{ port: web(), endpoints: [pod(1)] }]);
    expect(await tcp(CLUSTER_IP, 80, 3, topo.podNs.get('pod-1'))).toEqual(Array(3).fill(`pod-1 ${NODE_POD_IP}`));
  });

  it('NodePort (Cluster policy): reaches every pod of any node, masqueraded; external IPs likewise', async () => {
    await program([{ port: web({ nodePort: 30080, externalIPs: ['203.0.113.200'] }), endpoints: [pod(1), pod(3)] }]);
    const lines = await tcp(NODE_IP, 30080, 30);
    expect(new Set(lines)).toEqual(new Set([`pod-1 ${NODE_POD_IP}`, `pod-3 ${NODE_POD_IP}`]));
    expect(names(await tcp('203.0.113.200', 80, 20))).toEqual(new Set(['pod-1', 'pod-3']));
  });

  it('externalTrafficPolicy Local: node-port traffic reaches only this node\'s pods, with the client\'s address kept', async () => {
    await program([{ port: web({ nodePort: 30081, externalTrafficPolicy: 'Local' }), endpoints: [pod(1), pod(2), pod(3)] }]);
    const lines = await tcp(NODE_IP, 30081, 30);
    expect(new Set(lines)).toEqual(new Set([`pod-1 ${CLIENT_IP}`, `pod-2 ${CLIENT_IP}`]));
  });

  it('internalTrafficPolicy Local: cluster-IP traffic reaches only this node\'s pods; none here: dropped, not sent elsewhere', async () => {
    const { swap } = await program([{ port: web({ internalTrafficPolicy: 'Local' }), endpoints: [pod(1), pod(3)] }]);
    expect(new Set(await tcp(CLUSTER_IP, 80, 15))).toEqual(new Set([`pod-1 ${CLIENT_IP}`]));
    await swap([{ port: web({ internalTrafficPolicy: 'Local' }), endpoints: [pod(3)] }]);
    expect(await topo.runClient<[string[]]>([{ kind: 'tcp', host: CLUSTER_IP, port: 80, count: 1, timeoutMs: 500 }]).then((r) => r[0])).toEqual(['ERR:TIMEOUT']);
  });

  it('no endpoint: TCP to the cluster IP and the node port is refused at once (reset), not left to time out', async () => {
    await program([{ port: web({ nodePort: 30082 }), endpoints: [] }]);
    expect(await tcp(CLUSTER_IP, 80, 2)).toEqual(['ERR:ECONNREFUSED', 'ERR:ECONNREFUSED']);
    expect(await tcp(NODE_IP, 30082, 2)).toEqual(['ERR:ECONNREFUSED', 'ERR:ECONNREFUSED']);
  });

  it('sessionAffinity ClientIP: every connection of one client goes to one pod', async () => {
    await program([{ port: web({ affinityTimeoutSeconds: 60 }), endpoints: [pod(1), pod(2), pod(3)] }]);
    const lines = await tcp(CLUSTER_IP, 80, 15);
    expect(lines.filter((l) => l.startsWith('ERR'))).toEqual([]);
    expect(names(lines).size).toBe(1);
  });

  it('endpoints added and removed under a load of new connections: no connection to a live pod fails', async () => {
    const { swap } = await program([{ port: web(), endpoints: [pod(1), pod(2)] }]);
    const load = topo.runClient<[Record<string, number>]>([{ kind: 'load', host: CLUSTER_IP, port: 80, durationMs: 1500, concurrency: 4 }]);
    await new Promise((r) => setTimeout(r, 400));
    await swap([{ port: web(), endpoints: [pod(1), pod(2), pod(3)] }]);
    await new Promise((r) => setTimeout(r, 400));
    await swap([{ port: web(), endpoints: [pod(2), pod(3)] }]);
    const [counts] = await load;
    expect(Object.keys(counts).filter((k) => k.startsWith('ERR'))).toEqual([]);
    expect(counts['pod-3'] ?? 0).toBeGreaterThan(0);
    // After the removal only pods 2 and 3 answer.
    expect(names(await tcp(CLUSTER_IP, 80, 20))).toEqual(new Set(['pod-2', 'pod-3']));
  });

  it.skipIf(!hasConntrack)('a UDP flow on a removed endpoint moves to a live one at once (its conntrack entry is deleted)', async () => {
    const { swap } = await program([{ port: web({ protocol: 'UDP', port: 53 }), endpoints: [pod(1)] }]);
    const flow = topo.runClient<[string[]]>([{ kind: 'udpflow', host: CLUSTER_IP, port: 53, count: 16, intervalMs: 100 }]);
    await new Promise((r) => setTimeout(r, 700));
    await swap([{ port: web({ protocol: 'UDP', port: 53 }), endpoints: [pod(2)] }]);
    const [answers] = await flow;
    expect(answers[0]).toMatch(/^pod-1 /);
    expect(answers.at(-1)).toMatch(/^pod-2 /);
  });

  it('an endpoint ejected by active health checks leaves the rules, and comes back when healthy', async () => {
    const ejected = new Set<string>();
    await program([{ port: web(), endpoints: [pod(1), pod(2)] }], { health: { available: (key) => !ejected.has(key) } });
    ejected.add(pod(1).key);
    await waitFor(async () => (await tcp(CLUSTER_IP, 80, 10)).every((l) => l.startsWith('pod-2')), { timeoutMs: 3000 });
    ejected.clear();
    await waitFor(async () => names(await tcp(CLUSTER_IP, 80, 20)).has('pod-1'), { timeoutMs: 3000 });
  });

  it('rules deleted by hand come back at the next periodic full resync; a table deleted by hand too', async () => {
    const { proxier } = await program([{ port: web(), endpoints: [pod(1)] }], { syncPeriodMs: 200 });
    // Flushed and listed in one go: the periodic resync (every 200 ms) must not restore it in between.
    expect(await topo.exec(topo.node, ['sh', '-c', 'nft flush map ip switchyard service-ips && nft list map ip switchyard service-ips'])).not.toContain(CLUSTER_IP);
    await waitFor(async () => (await topo.exec(topo.node, ['nft', 'list', 'map', 'ip', 'switchyard', 'service-ips'])).includes(CLUSTER_IP), { timeoutMs: 3000 });
    expect(await tcp(CLUSTER_IP, 80, 1)).toEqual([`pod-1 ${CLIENT_IP}`]);
    const generation = proxier.state().generation;
    await topo.exec(topo.node, ['nft', 'delete table ip switchyard']);
    await waitFor(async () => proxier.state().generation > generation && (await tcp(CLUSTER_IP, 80, 1))[0]!.startsWith('pod-1'), { timeoutMs: 3000 });
  });

  it('a partial sync the kernel refuses (state changed by hand) falls back to a full one', async () => {
    const { proxier, swap } = await program([{ port: web(), endpoints: [pod(1)] }]);
    await topo.exec(topo.node, ['nft', 'delete table ip switchyard']);
    await swap([{ port: web(), endpoints: [pod(2)] }]);
    expect(proxier.state().lastError).toBeUndefined();
    expect(await tcp(CLUSTER_IP, 80, 3)).toEqual(Array(3).fill(`pod-2 ${CLIENT_IP}`));
  });
});
