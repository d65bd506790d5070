import { describe, expect, it } from 'vitest';
import { CursorSlots, LocalCursors, SharedCursors } from '../../../src/dataplane/cursors.ts';
import { MAX_SEQUENCE, WeightedChoice, weightedSequence, weightKeys } from '../../../src/dataplane/weighted.ts';
import type { Route, RouteTable, WeightedTarget } from '../../../src/snapshot/types.ts';

const targets = (...weights: number[]): WeightedTarget[] => weights.map((weight, i) => ({ backend: `b${i}`, weight, describe: `b${i}`, problem: undefined, ingress: 'default/r' }));
const seq = (...weights: number[]) => [...weightedSequence(weights)].join('');

describe('weightedSequence: one period of smooth weighted round-robin', () => {
  it.each([
    [[1, 1], '01'],
    [[5, 1, 1], '0010200'],
    [[90, 10], '0000010000'],
    [[9, 1], '0000010000'],
    [[0, 3], '1'],
    [[0, 0], ''],
    [[2, 0, 2], '02'],
  ])('%j → %s (weights divided by their gcd)', (weights, want) => {
    expect(seq(...weights)).toBe(want);
  });

  it('picks the same sequence as the running scores (the --workers 1 behaviour) over many periods', () => {
    const list = targets(7, 3, 5);
    const local = new WeightedChoice();
    const scores = new Float64Array(3);
    for (let k = 0; k < 300; k++) {
      let best = -1;
      for (let i = 0; i < 3; i++) {
        scores[i]! += list[i]!.weight;
        if (best < 0 || scores[i]! > scores[best]!) best = i;
      }
      scores[best]! -= 15;
      expect(local.pick(list, 'HTTPRoute/ns/r#0')?.backend).toBe(`b${best}`);
    }
  });

  it('caps a huge weight sum at MAX_SEQUENCE, each share within 0.1 percentage point, a tiny weight kept above 0', () => {
    const weights = [999_983, 1, 500_009];
    const s = weightedSequence(weights);
    expect(s.length).toBeLessThanOrEqual(MAX_SEQUENCE + weights.length);
    const sum = weights.reduce((a, b) => a + b);
    for (let i = 0; i < weights.length; i++) {
      const share = s.filter((x) => x === i).length / s.length;
      expect(Math.abs(share - weights[i]! / sum)).toBeLessThan(0.001);
      expect(share).toBeGreaterThan(0);
    }
  });
});

describe('a rule’s counter shared by threads', () => {
  it('two choices on the same shared cursors (two worker threads) take turns in ONE 90/10 sequence', () => {
    const slots = new CursorSlots();
    const table = slots.assign(['ns/svc:80', 'HTTPRoute/ns/split#0']);
    const threads = [new SharedCursors(slots.buffer), new SharedCursors(slots.buffer)].map((c) => {
      c.setSlots(table);
      return new WeightedChoice(c);
    });
    // Each thread has its own copy of the list, as a snapshot posted to a worker has.
    const lists = [targets(90, 10), targets(90, 10)];
    // A thread order that interleaves badly for per-thread state: 3, 1, 2, 4, … picks in a row.
    const order = Array.from({ length: 1000 }, (_, k) => [0, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1][k % 12]!);
    const picks = order.map((t) => threads[t]!.pick(lists[t]!, 'HTTPRoute/ns/split#0')!.backend);
    expect(picks.filter((b) => b === 'b1')).toHaveLength(100);
    picks.forEach((b, k) => expect(b, `pick ${k}`).toBe(k % 10 === 5 ? 'b1' : 'b0'));
    expect(threads[1]!.peek(lists[1]!, 'HTTPRoute/ns/split#0')).toMatchObject({ position: 0, index: 0, length: 10 });
  });

  it('keeps its position across a snapshot swap (a new list, the same key), and starts over under a new key', () => {
    const choice = new WeightedChoice(new LocalCursors());
    const first = targets(1, 1);
    expect(choice.pick(first, 'k')?.backend).toBe('b0');
    expect(choice.pick(targets(1, 1), 'k')?.backend).toBe('b1');
    expect(choice.pick(targets(1, 1), 'other')?.backend).toBe('b0');
  });

  it('frees its own counters of rules gone from the snapshot', () => {
    const choice = new WeightedChoice();
    const list = targets(1, 1);
    choice.pick(list, 'gone');
    const empty: RouteTable = { hosts: new Map(), wildcards: new Map(), anyHost: undefined, defaultBackend: undefined, list: [] };
    choice.retain({ routes: empty });
    expect(choice.pick(targets(1, 1), 'gone')?.backend).toBe('b0');
  });

  it('weightKeys: weighted routes of the Ingress table, their chains and every Gateway port', () => {
    const base = { backend: undefined, problem: undefined, describe: '', ingress: 'ns/r', host: '', path: '/', pathType: 'Prefix' as const, redirectToHttps: false };
    const canary: Route = { ...base, weighted: targets(9, 1), weightKey: 'Ingress/ns/r * / (Prefix)' };
    const head: Route = { ...base, backend: 'ns/c:80', next: canary };
    const table = (list: Route[]): RouteTable => ({ hosts: new Map(), wildcards: new Map(), anyHost: undefined, defaultBackend: undefined, list });
    const gw: Route = { ...base, weighted: targets(1, 1), weightKey: 'HTTPRoute/ns/x#1' };
    const keys = weightKeys({ routes: table([head]), gatewayPorts: new Map([[8080, { routes: table([gw]) } as never]]) });
    expect([...keys].sort()).toEqual(['HTTPRoute/ns/x#1', 'Ingress/ns/r * / (Prefix)']);
  });
});
