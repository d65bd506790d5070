import { describe, expect, it } from 'vitest';
import { backoffDelay, jitter } from '../../../../src/sources/backoff.ts';

describe('backoffDelay', () => {
  const opts = { initialMs: 100, maxMs: 1000 };
  it.each([
    // attempt, random, delay: the ceiling doubles (100, 200, 400, 800, 1000…); the delay is in its upper half.
    [0, 0, 50],
    [0, 1, 100],
    [1, 0, 100],
    [1, 1, 200],
    [2, 0.5, 300],
    [3, 1, 800],
    [4, 0, 500],
    [4, 1, 1000],
    [60, 1, 1000],
  ])('attempt %i, random %f → %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, opts, () => random)).toBe(expected);
  });

  it('defaults to 500 ms doubling to 30 s', () => {
    expect(backoffDelay(0, {}, () => 1)).toBe(500);
    expect(backoffDelay(20, {}, () => 1)).toBe(30_000);
  });

  it('never goes below the initial ceiling when maxMs is smaller', () => {
    expect(backoffDelay(5, { initialMs: 100, maxMs: 10 }, () => 1)).toBe(100);
  });
});

describe('jitter', () => {
  it('keeps a delay within its upper half, capped', () => {
    expect(jitter(1000, 30_000, () => 0)).toBe(500);
    expect(jitter(1000, 30_000, () => 1)).toBe(1000);
    expect(jitter(60_000, 30_000, () => 1)).toBe(30_000);
  });
});
