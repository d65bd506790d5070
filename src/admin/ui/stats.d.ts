/** Types of stats.js (plain JavaScript, served to the browser as it is) for the TypeScript tests. */

/** One Service's cumulative figures in GET /api/v1/stats. */
export interface ServiceStats {
  readonly namespace: string;
  readonly service: string;
  readonly requests: number;
  readonly errors: number;
  readonly latency?: { readonly buckets: RawBuckets; readonly count: number; readonly sum: number };
}

/** GET /api/v1/stats. */
export interface StatsPoll {
  readonly at: number;
  readonly services: readonly ServiceStats[];
}

/** One Service's figures between two polls. */
export interface RatePoint {
  readonly rps: number;
  readonly errorRate: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
}

/** Cumulative `[le, count]` pairs as JSON carries them (the last bound is "+Inf"). */
export type RawBuckets = readonly (readonly [number | string, number])[];
/** Cumulative `[le, count]` pairs sorted by bound, +Inf as Infinity. */
export type Buckets = readonly (readonly [number, number])[];

export function serviceKey(s: { namespace: string; service: string }): string;
export function counterDelta(prev: number | undefined, cur: number): number;
export function bucketDelta(prev: RawBuckets | undefined, cur: RawBuckets | undefined): [number, number][];
export function histogramQuantile(q: number, buckets: Buckets | undefined): number | null;
export function computeRates(prev: StatsPoll | undefined, cur: StatsPoll | undefined): Map<string, RatePoint>;
export function pushBounded<T>(series: T[], point: T, max?: number): T[];
export function formatSeconds(s: number | null | undefined): string;
export function formatRate(r: number | null | undefined): string;
export function formatPercent(x: number | null | undefined): string;
