/**
 * autocannon, in the bench's own process (its CPU is not charged to any proxy). Its built-in latency
 * histogram keeps whole milliseconds, too coarse for a loopback hop: a node:perf_hooks histogram of 2xx
 * responses keeps microseconds.
 */
import autocannon from 'autocannon';
import { createHistogram } from 'node:perf_hooks';
import type { LoadOptions, LoadResult, LoadTool, Target } from './types.ts';

let current: autocannon.Instance | undefined;

/** Stops a run in progress (on Ctrl-C or error). */
export function stopAutocannon(): void {
  current?.stop();
  current = undefined;
}

function run(target: Target, options: LoadOptions): Promise<LoadResult> {
  const histogram = createHistogram();
  return new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon(
      { url: target.url, headers: { ...target.headers }, connections: options.connections, pipelining: options.pipelining, duration: options.seconds },
      (err: unknown, result) => {
        current = undefined;
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const empty = histogram.count === 0;
        const p = (q: number): number => (empty ? NaN : histogram.percentile(q) / 1000);
        resolve({
          tool: 'autocannon',
          seconds: result.duration,
          requests: result.requests.total,
          reqPerSec: result.requests.total / result.duration,
          latencyMs: { mean: empty ? NaN : histogram.mean / 1000, p50: p(50), p90: p(90), p99: p(99), max: empty ? NaN : histogram.max / 1000 },
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) histogram.record(Math.max(1, Math.round(responseTime * 1000)));
    });
    current = instance;
  });
}

export const autocannonTool: LoadTool = { name: 'autocannon', run };
