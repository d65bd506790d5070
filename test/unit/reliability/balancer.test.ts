/** dataplane/balancer.ts: exact round-robin pick sequences with endpoint health, exclusions and panic. */
import { describe, expect, it } from 'vitest';
import { RoundRobin, type Availability } from '../../../src/dataplane/balancer.ts';
import type { Backend } from '../../../src/snapshot/types.ts';
import { backend } from './fixtures.ts';

const [A, B, C, D] = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'] as const;
const NAME: Record<string, string> = { [A]: 'a', [B]: 'b', [C]: 'c', [D]: 'd' };

/** Availability from a mutable set of endpoints that are down. */
function availability(down: Iterable<string> = []): Availability & { down: Set<string> } {
  const set = new Set(down);
  return { down: set, available: (k) => !set.has(k) };
}

/** n picks: the endpoint names, with `!` when the pick panicked, '-' when there was none. */
function picks(rr: RoundRobin, be: Backend, n: number, health?: Availability, exclude?: readonly string[]): string[] {
  return Array.from({ length: n }, () => {
    const ep = rr.pick(be, health, exclude);
    return ep === undefined ? '-' : NAME[ep.key]! + (rr.panicked ? '!' : '');
  });
}

describe('RoundRobin with health', () => {
  const web = backend([A, B, C]);

  // [name, down, exclude, expected picks]
  const cases: [string, string[], string[] | undefined, string[]][] = [
    ['all available: strict rotation', [], undefined, ['a', 'b', 'c', 'a', 'b', 'c', 'a']],
    ['skips an unavailable endpoint', [B], undefined, ['a', 'c', 'a', 'c', 'a']],
    ['skips the first endpoint', [A], undefined, ['b', 'c', 'b', 'c']],
    ['two unavailable: the last one takes everything', [A, C], undefined, ['b', 'b', 'b']],
    ['exclude list (already tried) is skipped', [], [A], ['b', 'c', 'b', 'c']],
    ['exclude and unavailable together', [B], [A], ['c', 'c', 'c']],
    ['panic when every endpoint is unavailable: still spread round-robin', [A, B, C], undefined, ['a!', 'b!', 'c!', 'a!', 'b!', 'c!']],
    ['panic among the endpoints not excluded', [A, B, C], [B], ['a!', 'c!', 'a!', 'c!']],
    ['panic with one candidate left', [B, C], [A], ['b!', 'c!', 'b!']],
    ['everything excluded: no endpoint, no panic', [], [A, B, C], ['-', '-']],
    ['everything excluded and unavailable: no endpoint', [A, B, C], [A, B, C], ['-']],
  ];
  it.each(cases)('%s', (_name, down, exclude, expected) => {
    expect(picks(new RoundRobin(), web, expected.length, availability(down), exclude)).toEqual(expected);
  });

  it('without a health source: plain rotation', () => {
    expect(picks(new RoundRobin(), web, 5)).toEqual(['a', 'b', 'c', 'a', 'b']);
  });

  it('empty rotation: undefined, not panicked', () => {
    const rr = new RoundRobin();
    expect(rr.pick(backend([]), availability())).toBeUndefined();
    expect(rr.panicked).toBe(false);
  });

  it('follows health changes between picks, exactly', () => {
    const rr = new RoundRobin();
    const h = availability();
    const seq: string[] = [];
    seq.push(...picks(rr, web, 2, h)); // a b
    h.down.add(C);
    seq.push(...picks(rr, web, 3, h)); // a b a   (c skipped)
    h.down.add(A);
    h.down.add(B);
    seq.push(...picks(rr, web, 3, h)); // panic: b! c! a!
    h.down.clear();
    seq.push(...picks(rr, web, 3, h)); // b c a
    expect(seq).toEqual(['a', 'b', 'a', 'b', 'a', 'b!', 'c!', 'a!', 'b', 'c', 'a']);
  });

  it('panicked is reset by the next pick that finds a healthy endpoint', () => {
    const rr = new RoundRobin();
    const h = availability([A, B, C]);
    rr.pick(web, h);
    expect(rr.panicked).toBe(true);
    h.down.delete(C);
    expect(rr.pick(web, h)?.key).toBe(C);
    expect(rr.panicked).toBe(false);
  });

  it('a retry excluding the failed endpoint does not disturb the spread of other requests', () => {
    const rr = new RoundRobin();
    const h = availability();
    const first = rr.pick(web, h)!; // a
    const retry = rr.pick(web, h, [first.key]); // b
    expect([first.key, retry?.key]).toEqual([A, B]);
    expect(picks(rr, web, 4, h)).toEqual(['c', 'a', 'b', 'c']);
  });

  it('the cursor is per backend and survives a new snapshot of the same backend; retain() forgets it', () => {
    const rr = new RoundRobin();
    const other = backend([A, B, C], {}, 'shop/other:80');
    expect(picks(rr, web, 2)).toEqual(['a', 'b']);
    expect(picks(rr, other, 1)).toEqual(['a']);
    const grown = backend([A, B, C, D]); // same key, new object: an endpoint was added
    expect(picks(rr, grown, 3)).toEqual(['c', 'd', 'a']);
    const shrunk = backend([A, B]);
    expect(picks(rr, shrunk, 3)).toEqual(['b', 'a', 'b']);
    rr.retain(new Set([other.key]));
    expect(picks(rr, web, 1)).toEqual(['a']);
    expect(picks(rr, other, 1)).toEqual(['b']);
  });

  it('N picks over k available endpoints give each ⌊N/k⌋ or ⌈N/k⌉', () => {
    const rr = new RoundRobin();
    const h = availability([B]);
    const four = backend([A, B, C, D]);
    const counts: Record<string, number> = {};
    for (const p of picks(rr, four, 100, h)) counts[p] = (counts[p] ?? 0) + 1;
    expect(counts).toEqual({ a: 34, c: 33, d: 33 });
  });
});
