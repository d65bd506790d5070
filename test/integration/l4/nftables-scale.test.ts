/**
 * 10,000 Services through --proxy-mode nftables in a network namespace (netns/topology.ts): the full
 * ruleset applies, and a one-endpoint change after that is a transaction of a few lines (not a rewrite)
 * that the kernel applies and traffic follows. Durations are logged, never asserted.
 */
import { describe, expect, it } from 'vitest';
import { deleteTables } from '../../../src/l4/nft-apply.ts';
import { NftProxier } from '../../../src/l4/nft-proxier.ts';
import { createRootLogger } from '../../../src/log.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import { defer } from '../../helpers/cleanup.ts';
import { endpoint, manyServices, snapshotOf } from '../../unit/l4/nft-fixtures.ts';
import { CLIENT_IP, NODE_NAME, PODS, unavailableReason, useTopology, type Topology } from './netns/topology.ts';

const skip = unavailableReason();
if (skip !== undefined) console.warn(`nftables scale namespace test skipped: ${skip}`);

const SERVICES = 10_000;

describe.skipIf(skip !== undefined)('--proxy-mode nftables with 10,000 Services', () => {
  let topo: Topology;
  useTopology((t) => (topo = t));

  it('applies them all, then a one-endpoint change is a small transaction the traffic follows', async () => {
    const services = (podAddress: string) => manyServices(SERVICES, (i) => (i === 0 ? endpoint(podAddress, 8080) : endpoint(`192.0.2.${20 + (i % 200)}`, 10_000 + i)));
    const holder = new SnapshotHolder(snapshotOf(services(PODS[0].address)));
    const proxier = new NftProxier({ holder, nodeName: NODE_NAME, clusterCidrs: [], nodePortAddresses: ['0.0.0.0/32'], syncPeriodMs: 3_600_000, log: createRootLogger('silent'), command: topo.nft });
    defer(() => deleteTables(topo.nft));
    defer(() => proxier.stop());

    let started = Date.now();
    await proxier.start();
    const full = { ms: Date.now() - started, lines: proxier.state().lastTransactionLines };
    expect(full.lines).toBeGreaterThan(4 * SERVICES);
    // svc-0: 203.0.113.1 port 1000 (nft-fixtures.ts).
    expect(await topo.runClient<[string[]]>([{ kind: 'tcp', host: '203.0.113.1', port: 1000, count: 2 }]).then((r) => r[0])).toEqual(Array(2).fill(`pod-1 ${CLIENT_IP}`));

    holder.swap(snapshotOf(services(PODS[1].address), 2));
    started = Date.now();
    await proxier.syncNow();
    const change = { ms: Date.now() - started, lines: proxier.state().lastTransactionLines };
    console.log(`nftables, ${SERVICES} Services: full apply ${full.lines} lines in ${full.ms} ms; one-endpoint change ${change.lines} lines in ${change.ms} ms`);
    expect(change.lines).toBeGreaterThan(0);
    expect(change.lines).toBeLessThan(12);
    expect(proxier.state().lastError).toBeUndefined();
    expect(await topo.runClient<[string[]]>([{ kind: 'tcp', host: '203.0.113.1', port: 1000, count: 2 }]).then((r) => r[0])).toEqual(Array(2).fill(`pod-2 ${CLIENT_IP}`));
  }, 120_000);
});
