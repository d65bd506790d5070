/**
 * Wanted ruleset → one nft transaction: the full resync and the incremental diff. The diff's size is the
 * point of the design (a one-endpoint change among 10,000 Services must not rewrite the ruleset), so it is
 * measured here in lines; statement order is checked where the kernel would refuse another order.
 */
import { describe, expect, it } from 'vitest';
import { diffTransaction, fullTransaction } from '../../../src/l4/nft-diff.ts';
import { endpointChain, serviceChain } from '../../../src/l4/nft-names.ts';
import { renderRuleset } from '../../../src/l4/nft-render.ts';
import { endpoint, manyServices, portView, snapshotOf, type PortWithEndpoints } from './nft-fixtures.ts';

const OPTIONS = { nodeName: 'node-a', nodePortAddresses: ['0.0.0.0/32'] };
const render = (ports: PortWithEndpoints[]) => renderRuleset(snapshotOf(ports), OPTIONS);
const lines = (tx: string): string[] => tx.split('\n').filter((l) => l !== '');
const web = (eps: string[], extra = {}): PortWithEndpoints => ({ port: portView('shop', 'web', 80, { clusterIPs: ['203.0.113.10'], ...extra }), endpoints: eps.map((a) => endpoint(a, 8080)) });
const SVC = serviceChain('shop/web/tcp/80');
const EP = (a: string): string => endpointChain('shop/web/tcp/80', { address: a, port: 8080 });

describe('diffTransaction', () => {
  it('nothing changed: an empty transaction (no nft run at all)', () => {
    expect(diffTransaction(render([web(['192.0.2.11'])]), render([web(['192.0.2.11'])]))).toBe('');
  });

  it('one endpoint changed among 10,000 Services: the Service chain and the two endpoint chains only', () => {
    const before = manyServices(10_000);
    const after = manyServices(10_000, (i) => (i === 4242 ? endpoint('192.0.2.250', 8080) : before[i]!.endpoints[0]!));
    const prev = renderRuleset(snapshotOf(before), OPTIONS);
    const next = renderRuleset(snapshotOf(after), OPTIONS);
    const full = lines(fullTransaction(next));
    const diff = lines(diffTransaction(prev, next));
    expect(full.length).toBeGreaterThan(40_000);
    const label = after[4242]!.port;
    const svc = serviceChain(`bulk/svc-4242/tcp/${label.port}`);
    const added = endpointChain(`bulk/svc-4242/tcp/${label.port}`, { address: '192.0.2.250', port: 8080 });
    const old = before[4242]!.endpoints[0]!;
    const removed = endpointChain(`bulk/svc-4242/tcp/${label.port}`, old);
    expect(diff).toEqual([
      `add chain ip switchyard ${added}`,
      `flush chain ip switchyard ${svc}`,
      `flush chain ip switchyard ${removed}`,
      `add rule ip switchyard ${added} ip saddr 192.0.2.250 jump mark-for-masquerade`,
      `add rule ip switchyard ${added} meta l4proto tcp dnat to 192.0.2.250:8080`,
      `add rule ip switchyard ${svc} goto ${added}`,
      `delete chain ip switchyard ${removed}`,
    ]);
  });

  it('a Service removed: its chains are emptied, its map element deleted, and only then the chains', () => {
    const diff = lines(diffTransaction(render([web(['192.0.2.11'])]), render([])));
    expect(diff).toEqual([
      `flush chain ip switchyard ${EP('192.0.2.11')}`,
      `flush chain ip switchyard ${SVC}`,
      'delete element ip switchyard service-ips { 203.0.113.10 . tcp . 80 }',
      `delete chain ip switchyard ${EP('192.0.2.11')}`,
      `delete chain ip switchyard ${SVC}`,
    ]);
  });

  it('a Service added: chains declared, filled, then the map element that names them', () => {
    const diff = lines(diffTransaction(render([]), render([web(['192.0.2.11'])])));
    expect(diff.at(-1)).toBe(`add element ip switchyard service-ips { 203.0.113.10 . tcp . 80 : goto ${SVC} }`);
    expect(diff.indexOf(`add chain ip switchyard ${SVC}`)).toBeLessThan(diff.indexOf(`add rule ip switchyard ${SVC} goto ${EP('192.0.2.11')}`));
  });

  it('the last endpoint goes: the element moves from service-ips to the no-endpoint map (reject)', () => {
    const diff = lines(diffTransaction(render([web(['192.0.2.11'])]), render([web([])])));
    expect(diff).toContain('delete element ip switchyard service-ips { 203.0.113.10 . tcp . 80 }');
    expect(diff).toContain('add element ip switchyard no-endpoint-services { 203.0.113.10 . tcp . 80 : goto reject-chain }');
  });

  it('an affinity timeout changed: a new set (nft cannot change a timeout in place), the old one deleted last', () => {
    const diff = lines(diffTransaction(render([web(['192.0.2.11'], { affinityTimeoutSeconds: 60 })]), render([web(['192.0.2.11'], { affinityTimeoutSeconds: 120 })])));
    expect(diff[0]).toMatch(/^add set ip switchyard affinity-\S+ \{ type ipv4_addr; flags dynamic,timeout; timeout 120s; \}$/);
    expect(diff.at(-1)).toMatch(/^delete set ip switchyard affinity-/);
  });
});

describe('fullTransaction', () => {
  it('declares and flushes everything of ours, keeps affinity sets\' clients, deletes what is stale', () => {
    const next = render([web(['192.0.2.11'], { affinityTimeoutSeconds: 60 })]);
    const tx = lines(fullTransaction(next, [{ family: 'ip', chains: ['filter-input', 'service-OLD-gone/svc/tcp/1'], sets: ['affinity-OLD'] }]));
    expect(tx[0]).toBe('add table ip switchyard');
    expect(tx).toContain('flush map ip switchyard service-ips');
    expect(tx).toContain(`flush chain ip switchyard ${SVC}`);
    expect(tx.filter((l) => /^flush set ip switchyard affinity-/.test(l))).toEqual([]);
    expect(tx.indexOf('flush chain ip switchyard service-OLD-gone/svc/tcp/1')).toBeLessThan(tx.indexOf('delete chain ip switchyard service-OLD-gone/svc/tcp/1'));
    expect(tx).toContain('delete set ip switchyard affinity-OLD');
    expect(tx).toContain('add table ip6 switchyard');
    // Only our tables are ever named.
    expect(tx.filter((l) => !/^(add|flush|delete) (table|chain|rule|set|map|element) ip6? switchyard\b/.test(l))).toEqual([]);
  });

  it('base chains carry their hooks; the no-endpoint filter runs before NAT', () => {
    const tx = lines(fullTransaction(render([])));
    expect(tx).toContain('add chain ip switchyard nat-prerouting { type nat hook prerouting priority -100; policy accept; }');
    expect(tx).toContain('add chain ip switchyard filter-forward { type filter hook forward priority -110; policy accept; }');
  });
});
