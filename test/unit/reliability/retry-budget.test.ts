/** dataplane/retry-budget.ts with an injected clock: a reserve of 10, then a share of the requests of the last 10 s. */
import { describe, expect, it } from 'vitest';
import { RETRY_RESERVE, RetryBudget } from '../../../src/dataplane/retry-budget.ts';
import { clock } from './fixtures.ts';

const WEB = 'shop/web:80';

/** Acquires until refused (at most `limit` tries); returns how many were granted. */
function drain(budget: RetryBudget, key: string, percent: number, limit = 1000): number {
  let n = 0;
  while (n < limit && budget.tryAcquire(key, percent)) n++;
  return n;
}

function requests(budget: RetryBudget, key: string, n: number): void {
  for (let i = 0; i < n; i++) budget.recordRequest(key);
}

describe('RetryBudget', () => {
  it('the reserve is 10', () => {
    expect(RETRY_RESERVE).toBe(10);
  });

  // [requests in the window, percent, retries granted]
  const cases: [number, number, number][] = [
    [0, 20, 10],
    [1, 20, 11],
    [5, 20, 11],
    [7, 20, 12],
    [100, 20, 30],
    [1000, 20, 210],
    [100, 50, 60],
    [100, 0, 10],
    [100, 100, 110],
  ];
  it.each(cases)('%i requests at %i %% → %i retries', (n, percent, granted) => {
    const c = clock();
    const budget = new RetryBudget(c.now);
    requests(budget, WEB, n);
    expect(drain(budget, WEB, percent)).toBe(granted);
    expect(budget.tryAcquire(WEB, percent)).toBe(false);
  });

  it('requests and retries expire with the clock, bucket by bucket (1 s buckets, 10 s window)', () => {
    const c = clock();
    const budget = new RetryBudget(c.now);
    requests(budget, WEB, 100); // bucket t=0
    expect(drain(budget, WEB, 20)).toBe(30);
    c.advance(5000);
    requests(budget, WEB, 50); // bucket t=5
    expect(drain(budget, WEB, 20)).toBe(10); // 10 + 30 of 150 requests, 30 already used
    c.advance(4999); // t=9.999: nothing expired yet
    expect(budget.tryAcquire(WEB, 20)).toBe(false);
    c.advance(1); // t=10: the t=0 bucket (100 requests, 30 retries) is gone
    expect(drain(budget, WEB, 20)).toBe(10); // 10 + 10 of 50 requests, 10 used at t=5
    c.advance(5000); // t=15: the t=5 requests are gone, the 10 retries taken at t=10 still count
    expect(drain(budget, WEB, 20)).toBe(0);
    c.advance(5000); // t=20: everything expired
    expect(drain(budget, WEB, 20)).toBe(10);
  });

  it('a long pause clears every bucket', () => {
    const c = clock();
    const budget = new RetryBudget(c.now);
    requests(budget, WEB, 500);
    expect(drain(budget, WEB, 20)).toBe(110);
    c.advance(3_600_000);
    expect(drain(budget, WEB, 20)).toBe(10);
    requests(budget, WEB, 50);
    expect(drain(budget, WEB, 20)).toBe(10);
  });

  it('budgets are per backend; retain() forgets backends that left', () => {
    const c = clock();
    const budget = new RetryBudget(c.now);
    requests(budget, WEB, 100);
    expect(drain(budget, 'shop/other:80', 20)).toBe(10);
    expect(drain(budget, WEB, 20)).toBe(30);
    budget.retain(new Set(['shop/other:80']));
    expect(drain(budget, WEB, 20)).toBe(10);
    expect(drain(budget, 'shop/other:80', 20)).toBe(0);
  });
});
