import { describe, expect, it } from 'vitest';
import { WeightedChoice } from '../../../src/dataplane/weighted.ts';
import type { WeightedTarget } from '../../../src/snapshot/types.ts';

const targets = (...weights: number[]): WeightedTarget[] => weights.map((weight, i) => ({ backend: `b${i}`, weight, describe: `b${i}`, problem: undefined, ingress: 'default/r' }));
const picks = (choice: WeightedChoice, list: readonly WeightedTarget[], n: number) => Array.from({ length: n }, () => choice.pick(list)?.backend ?? '-');

describe('smooth weighted round-robin', () => {
  it.each([
    ['1/1 alternates', [1, 1], 4, 'b0 b1 b0 b1'],
    ['5/1/1 as nginx interleaves it', [5, 1, 1], 7, 'b0 b0 b1 b0 b2 b0 b0'],
    ['90/10: the tenth goes to the second, not 90 in a row', [90, 10], 10, 'b0 b0 b0 b0 b0 b1 b0 b0 b0 b0'],
    ['weight 0 gets nothing', [0, 3], 3, 'b1 b1 b1'],
    ['all 0: nothing', [0, 0], 2, '- -'],
    ['one target', [7], 2, 'b0 b0'],
  ])('%s', (_name, weights, n, want) => {
    expect(picks(new WeightedChoice(), targets(...weights), n).join(' ')).toBe(want);
  });

  it('90/10 gives 90 % / 10 % within ±2 % over 10,000 picks (exactly, in fact)', () => {
    const counts = new Map<string, number>();
    for (const b of picks(new WeightedChoice(), targets(90, 10), 10_000)) counts.set(b, (counts.get(b) ?? 0) + 1);
    expect(Math.abs(counts.get('b0')! - 9000)).toBeLessThanOrEqual(200);
    expect(counts.get('b0')).toBe(9000);
    expect(counts.get('b1')).toBe(1000);
  });

  it('longest run of the heavier backend stays short (smooth, not bursts)', () => {
    const seq = picks(new WeightedChoice(), targets(90, 10), 1000);
    let run = 0;
    let longest = 0;
    for (const b of seq) longest = Math.max(longest, (run = b === 'b0' ? run + 1 : 0));
    expect(longest).toBeLessThanOrEqual(9);
  });

  it('keeps a score per route: two routes do not disturb each other', () => {
    const choice = new WeightedChoice();
    const x = targets(1, 1);
    const y = targets(1, 1);
    expect([choice.pick(x)?.backend, choice.pick(y)?.backend, choice.pick(x)?.backend, choice.pick(y)?.backend]).toEqual(['b0', 'b0', 'b1', 'b1']);
  });
});
