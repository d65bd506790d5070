/**
 * The nftables proxier's sync loop against a stand-in nft (netns/fake-nft.sh: records transactions, refuses
 * them on demand), so it runs anywhere, root or not: start-up applies a full transaction, bursts of
 * snapshot swaps coalesce into one, a refused transaction keeps the last good state and is reported and
 * retried, the periodic resync is full, a missing nft stops start-up naming what is missing, and stopping
 * leaves the tables alone.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NftProxier, type NftProxierOptions } from '../../../src/l4/nft-proxier.ts';
import { createRootLogger } from '../../../src/log.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import { cleanupAll, defer } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait.ts';
import { endpoint, portView, snapshotOf } from '../../unit/l4/nft-fixtures.ts';

afterEach(cleanupAll);

const FAKE = join(import.meta.dirname, 'netns/fake-nft.sh');
const web = (address: string) => [{ port: portView('shop', 'web', 80, { clusterIPs: ['203.0.113.10'] }), endpoints: [endpoint(address, 8080)] }];

async function setup(options: Partial<NftProxierOptions> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'swy-fake-nft-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const log = join(dir, 'log');
  const fail = join(dir, 'fail');
  const holder = new SnapshotHolder(snapshotOf(web('192.0.2.11')));
  const proxier = new NftProxier({
    holder,
    nodeName: 'node-a',
    clusterCidrs: [],
    nodePortAddresses: ['0.0.0.0/32'],
    syncPeriodMs: 3_600_000,
    log: createRootLogger('silent'),
    command: ['sh', FAKE, log, fail],
    coalesceMs: 30,
    retryMs: 100,
    checkHost: false,
    ...options,
  });
  defer(() => proxier.stop());
  const transactions = async (): Promise<string[]> => (existsSync(log) ? (await readFile(log, 'utf8')).split('---\n').filter((t) => t !== '') : []);
  let version = 1;
  return { holder, proxier, transactions, fail, swap: (address: string) => holder.swap(snapshotOf(web(address), ++version)) };
}

describe('NftProxier (with a stand-in nft)', () => {
  it('start-up applies one full transaction naming only our tables', async () => {
    const { proxier, transactions } = await setup();
    await proxier.start();
    const [tx, ...more] = await transactions();
    expect(more).toEqual([]);
    expect(tx).toMatch(/^add table ip switchyard\n/);
    expect(tx).toContain('\nadd table ip6 switchyard\n');
    expect(tx).toContain('dnat to 192.0.2.11:8080');
    expect(proxier.state()).toMatchObject({ generation: 1, lastError: undefined });
    expect(proxier.state().lastFullSyncAt).toBeDefined();
  });

  it('a burst of swaps becomes one small transaction with the last state', async () => {
    const { proxier, transactions, swap } = await setup();
    await proxier.start();
    for (const a of ['192.0.2.12', '192.0.2.13', '192.0.2.14']) swap(a);
    await waitFor(async () => (await transactions()).length === 2, { timeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 100));
    const txs = await transactions();
    expect(txs).toHaveLength(2);
    expect(txs[1]).toContain('dnat to 192.0.2.14:8080');
    expect(txs[1]).not.toContain('192.0.2.12');
    expect(txs[1]).not.toContain('add table');
    expect(proxier.state().generation).toBe(2);
  });

  it('a refused transaction: the error (with nft\'s failing line) is kept and shown, the generation stays, the retry succeeds in full', async () => {
    const { proxier, transactions, swap, fail } = await setup();
    await proxier.start();
    await writeFile(fail, '');
    swap('192.0.2.12');
    await waitFor(() => proxier.state().lastError !== undefined, { timeoutMs: 2000 });
    const state = proxier.state();
    expect(state.generation).toBe(1);
    expect(state.lastError?.code).toBe('SWY_ERR_NFT_APPLY_FAILED');
    expect(state.lastError?.message).toContain('/dev/stdin:3:1-9: Error: Could not process rule');
    expect(state.lastError?.message).toContain('flush chain ip switchyard service-gone');
    expect(proxier.rulesetView()).toMatchObject({ mode: 'nftables', generation: 1, lastError: { code: 'SWY_ERR_NFT_APPLY_FAILED' } });
    expect((proxier.rulesetView() as { ruleset: string }).ruleset).toContain('dnat to 192.0.2.11:8080');
    await rm(fail);
    await waitFor(() => proxier.state().generation === 2, { timeoutMs: 2000 });
    expect(proxier.state().lastError).toBeUndefined();
    const txs = await transactions();
    expect(txs.at(-1)).toMatch(/^add table ip switchyard\n/);
    expect(txs.at(-1)).toContain('dnat to 192.0.2.12:8080');
  });

  it('start-up fails when nft refuses the first transaction', async () => {
    const { proxier, fail } = await setup();
    await writeFile(fail, '');
    await expect(proxier.start()).rejects.toMatchObject({ code: 'SWY_ERR_NFT_APPLY_FAILED' });
  });

  it('start-up fails naming the missing nft tool and its package', async () => {
    const { proxier } = await setup({ command: ['/nonexistent/nft'] });
    await expect(proxier.start()).rejects.toMatchObject({ code: 'SWY_ERR_NFT_UNAVAILABLE', message: expect.stringContaining('Debian package nftables') });
  });

  it('the periodic resync is a full transaction, even when nothing changed', async () => {
    const { proxier, transactions } = await setup({ syncPeriodMs: 100 });
    await proxier.start();
    await waitFor(async () => (await transactions()).length >= 3, { timeoutMs: 3000 });
    expect((await transactions()).every((tx) => tx.startsWith('add table ip switchyard\n'))).toBe(true);
  });

  it('stopping leaves the tables in place (no transaction)', async () => {
    const { proxier, transactions } = await setup();
    await proxier.start();
    await proxier.stop();
    expect(await transactions()).toHaveLength(1);
  });
});
