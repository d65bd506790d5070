/**
 * The comparison's results: every run, the medians per load tool and candidate, and the ratios to
 * direct and to nginx taken within each round.
 */
import type { Measured } from './measure.ts';
import { maxOrNull, median, medianOrNull, pairedRatio } from './stats.ts';

export interface ComparisonRun extends Measured {
  readonly candidate: string;
  readonly round: number;
}

export interface CandidateMedians {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Totals over all rounds: any error at all is worth seeing. */
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly proxyCpuUsPerRequest: number | null;
  readonly podCpuUsPerRequest: number | null;
  /** Largest VmHWM of any one of the proxy's processes, over all rounds, KiB. */
  readonly proxyPeakRssKiB: number | null;
  /** Largest VmRSS summed over all the proxy's processes, sampled during the runs, KiB: RSS under load. */
  readonly proxyLoadRssKiB: number | null;
  readonly proxyProcesses: number | null;
}

export interface CandidateRatios {
  /** req/s ÷ direct's in the same round, median over rounds; null without direct runs. */
  readonly reqPerSecToDirect: number | null;
  /** req/s ÷ nginx's in the same round, median over rounds; null without nginx. */
  readonly reqPerSecToNginx: number | null;
  /** p99 ÷ nginx's p99 in the same round, median over rounds. */
  readonly p99ToNginx: number | null;
  /** Proxy CPU per request ÷ nginx's in the same round, median over rounds; null for direct or without /proc. */
  readonly cpuToNginx: number | null;
  readonly perRound: { readonly reqPerSecToDirect: readonly number[]; readonly reqPerSecToNginx: readonly number[] };
}

/** Runs of one tool and candidate. */
export function runsOf(runs: readonly ComparisonRun[], tool: string, candidate: string): ComparisonRun[] {
  return runs.filter((r) => r.tool === tool && r.candidate === candidate);
}

export type CandidateSummary = CandidateMedians & CandidateRatios;

/** a's proxy CPU per request ÷ b's, within each round, median over rounds; null when a round lacks a figure on either side. */
export function cpuRatio(a: readonly ComparisonRun[], b: readonly ComparisonRun[]): number | null {
  const known = (runs: readonly ComparisonRun[]): ComparisonRun[] => runs.filter((r) => r.proxyCpuUsPerRequest !== null && r.proxyCpuUsPerRequest > 0);
  return pairedRatio(known(a), known(b), (r) => r.proxyCpuUsPerRequest!).median;
}

export function summarize(runs: readonly ComparisonRun[], tool: string, candidate: string): CandidateSummary {
  const mine = runsOf(runs, tool, candidate);
  const direct = runsOf(runs, tool, 'direct');
  const nginx = runsOf(runs, tool, 'nginx');
  const sum = (f: (r: ComparisonRun) => number): number => mine.reduce((acc, r) => acc + f(r), 0);
  const toDirect = pairedRatio(mine, direct, (r) => r.reqPerSec);
  const toNginx = pairedRatio(mine, nginx, (r) => r.reqPerSec);
  return {
    reqPerSec: median(mine.map((r) => r.reqPerSec)),
    p50Ms: median(mine.map((r) => r.latencyMs.p50)),
    p99Ms: median(mine.map((r) => r.latencyMs.p99)),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    proxyCpuUsPerRequest: medianOrNull(mine.map((r) => r.proxyCpuUsPerRequest)),
    podCpuUsPerRequest: medianOrNull(mine.map((r) => r.podCpuUsPerRequest)),
    proxyPeakRssKiB: maxOrNull(mine.map((r) => r.proxyPeakRssKiB)),
    proxyLoadRssKiB: maxOrNull(mine.map((r) => r.proxyRssKiB)),
    proxyProcesses: maxOrNull(mine.map((r) => r.proxyProcesses)),
    reqPerSecToDirect: toDirect.median,
    reqPerSecToNginx: toNginx.median,
    p99ToNginx: pairedRatio(mine, nginx, (r) => r.latencyMs.p99).median,
    cpuToNginx: cpuRatio(mine, nginx),
    perRound: { reqPerSecToDirect: toDirect.perRound, reqPerSecToNginx: toNginx.perRound },
  };
}

export type ByToolAndCandidate<T> = Record<string, Record<string, T>>;

/** Medians and ratios, each by tool, then by candidate id. */
export function summarizeAll(runs: readonly ComparisonRun[], tools: readonly string[], candidates: readonly string[]): { medians: ByToolAndCandidate<CandidateMedians>; ratios: ByToolAndCandidate<CandidateRatios> } {
  const medians: ByToolAndCandidate<CandidateMedians> = {};
  const ratios: ByToolAndCandidate<CandidateRatios> = {};
  for (const tool of tools) {
    const m: Record<string, CandidateMedians> = (medians[tool] = {});
    const r: Record<string, CandidateRatios> = (ratios[tool] = {});
    for (const c of candidates) {
      if (runsOf(runs, tool, c).length === 0) continue;
      const { reqPerSecToDirect, reqPerSecToNginx, p99ToNginx, cpuToNginx, perRound, ...rest } = summarize(runs, tool, c);
      m[c] = rest;
      r[c] = { reqPerSecToDirect, reqPerSecToNginx, p99ToNginx, cpuToNginx, perRound };
    }
  }
  return { medians, ratios };
}
