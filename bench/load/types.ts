/**
 * What a load generator is given and what it reports, whichever tool ran.
 */

/** Where the load goes: a URL and the headers every request carries (the Host a proxy routes by). */
export interface Target {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface LatencyMs {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface LoadResult {
  readonly tool: string;
  readonly seconds: number;
  /** Responses received (any status). */
  readonly requests: number;
  readonly reqPerSec: number;
  /** autocannon: 2xx responses only, µs resolution; wrk: every response, as wrk records them. */
  readonly latencyMs: LatencyMs;
  /** Connection errors (connect, read, write), as the tool counts them. */
  readonly errors: number;
  readonly timeouts: number;
  /** autocannon: non-2xx responses; wrk: responses with status ≥ 400. */
  readonly non2xx: number;
}

export interface LoadOptions {
  readonly connections: number;
  readonly pipelining: number;
  readonly seconds: number;
}

export interface LoadTool {
  readonly name: 'autocannon' | 'wrk';
  run(target: Target, options: LoadOptions): Promise<LoadResult>;
}
