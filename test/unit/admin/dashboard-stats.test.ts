/**
 * The dashboard's arithmetic (src/admin/ui/stats.js, the very file the browser loads): rates from two polls
 * of cumulative counters, and quantiles from histogram buckets as Prometheus' histogram_quantile computes them.
 */
import { describe, expect, it } from 'vitest';
import { bucketDelta, computeRates, counterDelta, formatPercent, formatRate, formatSeconds, histogramQuantile, pushBounded, type StatsPoll } from '../../../src/admin/ui/stats.js';

const INF = Infinity;

describe('histogramQuantile (as Prometheus histogram_quantile)', () => {
  // Cumulative buckets: 10 observations ≤ 0.1 s, 10 more ≤ 0.5 s, none above.
  const buckets: [number, number][] = [[0.1, 10], [0.5, 20], [1, 20], [INF, 20]];
  it.each([
    ['the median at the first bucket top', 0.5, buckets, 0.1],
    ['interpolated inside the first bucket, from 0', 0.25, buckets, 0.05],
    ['interpolated inside the second bucket', 0.75, buckets, 0.3],
    ['p99 inside the second bucket', 0.99, buckets, 0.1 + 0.4 * 0.98],
    ['a rank in +Inf answers the highest finite bound', 0.99, [[0.1, 1], [1, 2], [INF, 100]] as [number, number][], 1],
    ['q = 0 is the lower edge of the first non-empty bucket', 0, [[0.1, 0], [0.5, 4], [INF, 4]] as [number, number][], 0.1],
    ['a first bucket with bound ≤ 0 answers its bound', 0.5, [[0, 5], [1, 10], [INF, 10]] as [number, number][], 0],
  ])('%s', (_name, q, b, want) => {
    expect(histogramQuantile(q, b)).toBeCloseTo(want, 10);
  });

  it.each([
    ['no observations', [[0.1, 0], [INF, 0]]],
    ['no buckets', []],
    ['no +Inf bucket', [[0.1, 3], [1, 5]]],
    ['only the +Inf bucket', [[INF, 5]]],
  ] as [string, [number, number][]][])('is null with %s', (_name, b) => {
    expect(histogramQuantile(0.5, b)).toBeNull();
  });

  it('is null for q outside 0..1', () => {
    expect(histogramQuantile(1.5, buckets)).toBeNull();
    expect(histogramQuantile(-0.1, buckets)).toBeNull();
  });
});

describe('counterDelta and bucketDelta', () => {
  it.each([
    ['growth', 10, 15, 5],
    ['no change', 7, 7, 0],
    ['a reset: the current value is all growth since', 100, 3, 3],
    ['no previous value', undefined, 4, 4],
  ] as [string, number | undefined, number, number][])('%s', (_name, prev, cur, want) => {
    expect(counterDelta(prev, cur)).toBe(want);
  });

  it('subtracts bucket by bound, reading "+Inf" as Infinity and sorting by bound', () => {
    const prev = [[0.1, 2], [0.5, 3], ['+Inf', 4]] as const;
    const cur = [['+Inf', 10], [0.5, 8], [0.1, 5]] as const;
    expect(bucketDelta(prev, cur)).toEqual([[0.1, 3], [0.5, 5], [INF, 6]]);
  });

  it('takes the current buckets whole when there is no previous poll or a bucket went down (reset)', () => {
    const cur = [[0.1, 1], ['+Inf', 2]] as const;
    expect(bucketDelta(undefined, cur)).toEqual([[0.1, 1], [INF, 2]]);
    expect(bucketDelta([[0.1, 5], ['+Inf', 9]], cur)).toEqual([[0.1, 1], [INF, 2]]);
  });
});

describe('computeRates', () => {
  const latency = (le01: number, le05: number, inf: number) => ({ buckets: [[0.1, le01], [0.5, le05], ['+Inf', inf]] as [number | string, number][], count: inf, sum: 0 });
  const poll = (at: number, services: StatsPoll['services']): StatsPoll => ({ at, services });

  it('has nothing to say after the first poll', () => {
    expect(computeRates(undefined, poll(1000, [{ namespace: 'demo', service: 'web', requests: 5, errors: 0, latency: latency(5, 5, 5) }])).size).toBe(0);
  });

  it('turns the deltas of two polls 2 s apart into req/s, 5xx share and quantiles of that window only', () => {
    const a = poll(10_000, [{ namespace: 'demo', service: 'web', requests: 100, errors: 10, latency: latency(100, 100, 100) }]);
    // In the window: 40 requests, 4 of them 5xx; 20 took ≤ 0.1 s, 20 between 0.1 and 0.5 s.
    const b = poll(12_000, [{ namespace: 'demo', service: 'web', requests: 140, errors: 14, latency: latency(120, 140, 140) }]);
    const web = computeRates(a, b).get('demo/web')!;
    expect(web.rps).toBe(20);
    expect(web.errorRate).toBeCloseTo(0.1, 10);
    expect(web.p50).toBeCloseTo(0.1, 10);
    expect(web.p99).toBeCloseTo(0.1 + 0.4 * ((0.99 * 40 - 20) / 20), 10);
  });

  it('reports an idle window as 0 req/s with no error rate or latency, and a new Service from zero', () => {
    const a = poll(0, [{ namespace: 'demo', service: 'web', requests: 5, errors: 1, latency: latency(5, 5, 5) }]);
    const b = poll(2000, [
      { namespace: 'demo', service: 'web', requests: 5, errors: 1, latency: latency(5, 5, 5) },
      { namespace: 'shop', service: 'api', requests: 4, errors: 4, latency: latency(0, 4, 4) },
    ]);
    const rates = computeRates(a, b);
    expect(rates.get('demo/web')).toEqual({ rps: 0, errorRate: null, p50: null, p99: null });
    expect(rates.get('shop/api')).toMatchObject({ rps: 2, errorRate: 1 });
    expect(rates.get('shop/api')!.p50).toBeCloseTo(0.3, 10);
  });

  it('treats counters that went down as a restart, not negative traffic', () => {
    const a = poll(0, [{ namespace: 'demo', service: 'web', requests: 1000, errors: 50, latency: latency(1000, 1000, 1000) }]);
    const b = poll(2000, [{ namespace: 'demo', service: 'web', requests: 10, errors: 2, latency: latency(10, 10, 10) }]);
    expect(computeRates(a, b).get('demo/web')).toMatchObject({ rps: 5, errorRate: 0.2 });
  });

  it('ignores a poll that is not later than the previous one', () => {
    const a = poll(5000, [{ namespace: 'demo', service: 'web', requests: 1, errors: 0 }]);
    expect(computeRates(a, a).size).toBe(0);
  });
});

describe('formatting and history', () => {
  it.each([
    [null, '—'],
    [0.0005, '500 µs'],
    [0.0042, '4.20 ms'],
    [0.25, '250.0 ms'],
    [1.5, '1.50 s'],
  ] as [number | null, string][])('formatSeconds(%s) = %s', (s, want) => {
    expect(formatSeconds(s)).toBe(want);
  });

  it('formats rates and shares', () => {
    expect([formatRate(0), formatRate(0.5), formatRate(42.25), formatRate(1234.4), formatRate(null)]).toEqual(['0', '0.50', '42.3', '1234', '—']);
    expect([formatPercent(0), formatPercent(0.05), formatPercent(0.5), formatPercent(null)]).toEqual(['0 %', '5.00 %', '50.0 %', '—']);
  });

  it('keeps the last N points', () => {
    const s: number[] = [];
    for (let i = 0; i < 70; i++) pushBounded(s, i, 60);
    expect(s).toHaveLength(60);
    expect(s[0]).toBe(10);
    expect(s[59]).toBe(69);
  });
});
