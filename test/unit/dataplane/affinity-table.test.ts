import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AFFINITY_TABLE_ENTRIES, AffinityTable, affinityBuffer } from '../../../src/dataplane/affinity-table.ts';
import type { EndpointView } from '../../../src/snapshot/types.ts';
import { ep } from './backend-fixtures.ts';

const rotation = [ep('10.0.0.1'), ep('10.0.0.2'), ep('10.0.0.3')];
const B = 'shop/web:80';

/** A clock the test moves by hand, ms. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

type Clock = ReturnType<typeof clock>;

/** The table's methods with the time taken from `c`. */
function clocked(table: AffinityTable, c: Clock) {
  return {
    lookup: (backendKey: string, client: string, seconds: number, rot: readonly EndpointView[]) => table.lookup(backendKey, client, seconds, rot, c.now()),
    remember: (index: number, seconds: number, rot: readonly EndpointView[]) => table.remember(index, seconds, rot, c.now()),
  };
}

/** lookup, and on a miss remember `pick`: what the balancer does. */
function stick(table: ReturnType<typeof clocked>, client: string, pick: number, seconds = 10, rot = rotation): number {
  const kept = table.lookup(B, client, seconds, rot);
  return kept >= 0 ? kept : table.remember(pick, seconds, rot);
}

describe('AffinityTable', () => {
  it('keeps a client on the endpoint it was first given, and each client on its own', () => {
    const c = clock();
    const table = clocked(new AffinityTable(affinityBuffer(1024, c.now())), c);
    expect(stick(table, '127.0.0.10', 1)).toBe(1);
    expect(stick(table, '127.0.0.11', 2)).toBe(2);
    for (let i = 0; i < 30; i++) {
      expect(stick(table, '127.0.0.10', i % 3)).toBe(1);
      expect(stick(table, '127.0.0.11', i % 3)).toBe(2);
    }
  });

  it('keys by backend and client: the same client of another backend is another entry', () => {
    const c = clock();
    const table = clocked(new AffinityTable(affinityBuffer(1024, c.now())), c);
    expect(stick(table, '127.0.0.10', 0)).toBe(0);
    expect(table.lookup('shop/api:80', '127.0.0.10', 10, rotation)).toBe(-1);
  });

  it('forgets a client whose timeout passed since its last request, and each request restarts it', () => {
    const c = clock();
    const table = clocked(new AffinityTable(affinityBuffer(1024, c.now())), c);
    expect(stick(table, 'a', 2, 1)).toBe(2);
    c.advance(900);
    expect(table.lookup(B, 'a', 1, rotation)).toBe(2); // restarts the second
    c.advance(900);
    expect(table.lookup(B, 'a', 1, rotation)).toBe(2);
    c.advance(1100);
    expect(table.lookup(B, 'a', 1, rotation)).toBe(-1);
    expect(table.remember(0, 1, rotation)).toBe(0);
    expect(table.lookup(B, 'a', 1, rotation)).toBe(0);
  });

  it('finds the endpoint by its address when the rotation changed, and answers -1 once it is gone', () => {
    const c = clock();
    const table = clocked(new AffinityTable(affinityBuffer(1024, c.now())), c);
    expect(stick(table, 'a', 2)).toBe(2); // 10.0.0.3
    const grown = [ep('10.0.0.0'), ...rotation];
    expect(table.lookup(B, 'a', 10, grown)).toBe(3);
    const without = [ep('10.0.0.1'), ep('10.0.0.2')];
    expect(table.lookup(B, 'a', 10, without)).toBe(-1);
  });

  it('when every slot of a full neighbourhood holds another live client, replaces the one expiring first; memory stays fixed', () => {
    const c = clock();
    // Four entries: every key shares the one probe window, so the fifth client must evict.
    const buffer = affinityBuffer(4, c.now());
    const table = clocked(new AffinityTable(buffer), c);
    const size = buffer.byteLength;
    for (const [i, client] of ['a', 'b', 'c', 'd'].entries()) {
      expect(stick(table, client, i % 3)).toBe(i % 3);
      c.advance(2000);
    }
    expect(table.lookup(B, 'a', 10, rotation)).toBe(0); // 'a' is now the most recent
    expect(stick(table, 'e', 1)).toBe(1);
    // 'b' expired first (its last request was the oldest): it moved out; the others stayed.
    expect(table.lookup(B, 'b', 10, rotation)).toBe(-1);
    expect(table.remember(2, 10, rotation)).toBe(2);
    for (let i = 0; i < 1000; i++) stick(table, `client-${i}`, i % 3);
    expect(buffer.byteLength).toBe(size);
    expect(stick(table, 'client-999', 0)).toBe(999 % 3);
  });

  it('sizes the default table by AFFINITY_TABLE_ENTRIES', () => {
    expect(affinityBuffer().byteLength).toBe((2 + AFFINITY_TABLE_ENTRIES * 6) * 4);
    expect(() => affinityBuffer(1000)).toThrow(RangeError);
  });

  it('two threads on one buffer: the second first request adopts the choice the other made meanwhile', () => {
    const c = clock();
    const buffer = affinityBuffer(1024, c.now());
    const one = clocked(new AffinityTable(buffer), c);
    const two = clocked(new AffinityTable(buffer), c);
    // Both miss (the first requests of one client, at once on two threads)…
    expect(one.lookup(B, 'x', 10, rotation)).toBe(-1);
    expect(two.lookup(B, 'x', 10, rotation)).toBe(-1);
    // …the first to remember wins, the other is given its choice.
    expect(two.remember(2, 10, rotation)).toBe(2);
    expect(one.remember(0, 10, rotation)).toBe(2);
    expect(one.lookup(B, 'x', 10, rotation)).toBe(2);
    expect(two.lookup(B, 'x', 10, rotation)).toBe(2);
  });

  it('an entry another thread is writing (odd sequence) is a miss, and is not overwritten', () => {
    const c = clock();
    const buffer = affinityBuffer(4, c.now());
    const table = clocked(new AffinityTable(buffer), c);
    expect(stick(table, 'a', 1)).toBe(1);
    const cells = new Int32Array(buffer);
    const seqs = [0, 1, 2, 3].map((i) => 2 + i * 6);
    const before = seqs.map((s) => Atomics.load(cells, s));
    for (const s of seqs) Atomics.add(cells, s, 1); // every entry mid-write
    expect(table.lookup(B, 'a', 10, rotation)).toBe(-1);
    expect(table.remember(0, 10, rotation)).toBe(0); // the pick stands, unremembered
    for (const s of seqs) Atomics.sub(cells, s, 1); // the writers finish
    expect(seqs.map((s) => Atomics.load(cells, s))).toEqual(before);
    expect(table.lookup(B, 'a', 10, rotation)).toBe(1);
  });

  it('under two threads racing on the same clients, every client ends on one endpoint both threads agree on', async () => {
    const buffer = affinityBuffer(1 << 12);
    const moduleUrl = new URL('../../../src/dataplane/affinity-table.ts', import.meta.url).href;
    // Each thread asks for the same 200 clients, 50 rounds, proposing its own pick: thread t proposes t.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.moduleUrl).then(({ AffinityTable }) => {
        const table = new AffinityTable(workerData.buffer);
        const ep = (a) => ({ key: a + ':80', address: a, port: 80 });
        const rotation = [ep('10.0.0.1'), ep('10.0.0.2')];
        const seen = [];
        for (let round = 0; round < 50; round++) {
          for (let c = 0; c < 200; c++) {
            const kept = table.lookup('ns/s:80', 'client-' + c, 60, rotation, Date.now());
            seen[c] = kept >= 0 ? kept : table.remember(workerData.pick, 60, rotation, Date.now());
          }
        }
        parentPort.postMessage(seen);
      });`;
    const run = (pick: number) =>
      new Promise<number[]>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { buffer, moduleUrl, pick } });
        w.once('message', (m: number[]) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      });
    const [a, b] = await Promise.all([run(0), run(1)]);
    expect(a).toHaveLength(200);
    expect(a).toEqual(b);
  });
});
