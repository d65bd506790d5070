import { describe, expect, it } from 'vitest';
import { SlidingWindowCounter } from '../../../src/dataplane/h2/h2-reset-window.ts';

describe('SlidingWindowCounter', () => {
  it('allows `limit` events in the window and trips on the next one', () => {
    const w = new SlidingWindowCounter(3, 1000);
    expect([w.record(0), w.record(10), w.record(20)]).toEqual([false, false, false]);
    expect(w.record(30)).toBe(true);
  });

  it('forgets events older than the window, exactly', () => {
    const w = new SlidingWindowCounter(3, 1000);
    for (const t of [0, 10, 20]) w.record(t);
    // 1000 ms after the oldest: it has left the window.
    expect(w.record(1000)).toBe(false);
    // 10 and 20 are still inside, with 1000: the limit again.
    expect(w.record(1009)).toBe(true);
    expect(w.record(1010)).toBe(false);
  });

  it('a steady rate below the limit never trips', () => {
    const w = new SlidingWindowCounter(200, 10_000);
    // 19 a second for 100 s: 190 per 10 s.
    let tripped = false;
    for (let t = 0; t < 100_000; t += 1000 / 19) tripped ||= w.record(t);
    expect(tripped).toBe(false);
  });

  it('a burst above the limit trips at limit + 1', () => {
    const w = new SlidingWindowCounter(200, 10_000);
    let n = 0;
    while (!w.record(n)) n++;
    expect(n).toBe(200);
  });
});
