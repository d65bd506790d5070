/**
 * Builders of synthetic results for the bench's unit tests: comparison runs and scale cases with only
 * the figures a test cares about set.
 */
import type { ScaleCaseResult } from '../scale.ts';
import type { ComparisonRun } from '../summary.ts';

export interface RunFigures {
  readonly rps: number;
  readonly p99?: number;
  readonly cpu?: number | null;
  readonly rssKiB?: number | null;
  readonly tool?: string;
  readonly errors?: number;
}

export function run(candidate: string, round: number, f: RunFigures): ComparisonRun {
  return {
    candidate,
    round,
    tool: f.tool ?? 'autocannon',
    seconds: 2,
    requests: f.rps * 2,
    reqPerSec: f.rps,
    latencyMs: { mean: 1, p50: 1, p90: 2, p99: f.p99 ?? 5, max: 9 },
    errors: f.errors ?? 0,
    timeouts: 0,
    non2xx: 0,
    proxyCpuUsPerRequest: candidate === 'direct' ? null : (f.cpu ?? 50),
    podCpuUsPerRequest: 30,
    proxyPeakRssKiB: f.rssKiB ?? null,
    proxyRssKiB: f.rssKiB ?? null,
    proxyProcesses: candidate === 'direct' ? null : 1,
  };
}

export function scaleCase(routes: number, endpoints: number, f: Partial<ScaleCaseResult> = {}): ScaleCaseResult {
  return {
    proxy: 'switchyard',
    routes,
    endpoints,
    workers: 1,
    target: { url: 'http://127.0.0.1:1/', headers: {} },
    manifestBytes: 1,
    startupMs: 500,
    reqPerSec: 7000,
    relative: 1,
    p50Ms: 5,
    p99Ms: 12,
    errors: 0,
    non2xx: 0,
    proxyCpuUsPerRequest: 100,
    startupPeakRssKiB: 90_000,
    proxyPeakRssKiB: 120_000,
    restRssKiB: 80_000,
    loadRssKiB: 110_000,
    processes: 1,
    ...f,
  } as ScaleCaseResult;
}
