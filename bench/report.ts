/**
 * Bench results: the shapes written to bench/results/latest.json, the medians over rounds, and the
 * markdown tables printed to stdout. Pure functions; proxy-bench.ts does the measuring.
 */

export type Candidate = 'direct' | 'switchyard';

export interface LatencyMs {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** One autocannon run of one candidate. */
export interface RunResult {
  readonly candidate: Candidate;
  readonly round: number;
  readonly url: string;
  readonly seconds: number;
  /** Responses received (any status). */
  readonly requests: number;
  readonly reqPerSec: number;
  /** 2xx responses only, as autocannon counts them, at microsecond resolution. */
  readonly latencyMs: LatencyMs;
  /** Connection errors and timeouts, as autocannon counts them. */
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  /** Switchyard's CPU time (user + system) during the run, per response, µs; null for direct runs or without /proc. */
  readonly proxyCpuUsPerRequest: number | null;
  /** The pods' CPU time during the run (both pods, whether or not both served), per response, µs. */
  readonly podCpuUsPerRequest: number | null;
  /** Switchyard's VmHWM after the run, KiB. */
  readonly proxyPeakRssKiB: number | null;
}

export interface Round {
  readonly round: number;
  readonly direct: RunResult;
  readonly switchyard: RunResult;
  /** Switchyard req/s ÷ direct req/s in this round. */
  readonly ratio: number;
}

export interface CandidateSummary {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Totals over all rounds: any error at all is worth seeing. */
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly proxyCpuUsPerRequest: number | null;
  readonly podCpuUsPerRequest: number | null;
}

export interface Summary {
  readonly medians: Record<Candidate, CandidateSummary>;
  readonly ratios: {
    /** median Switchyard req/s ÷ median direct req/s. */
    readonly reqPerSecOfMedians: number;
    readonly perRound: readonly number[];
    /** median Switchyard p50 latency ÷ median direct p50 latency. */
    readonly p50LatencyOfMedians: number;
  };
  readonly proxyPeakRssKiB: number | null;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : median(known);
}

function summarize(runs: readonly RunResult[]): CandidateSummary {
  const sum = (f: (r: RunResult) => number): number => runs.reduce((acc, r) => acc + f(r), 0);
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50Ms: median(runs.map((r) => r.latencyMs.p50)),
    p99Ms: median(runs.map((r) => r.latencyMs.p99)),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    non2xx: sum((r) => r.non2xx),
    proxyCpuUsPerRequest: medianOrNull(runs.map((r) => r.proxyCpuUsPerRequest)),
    podCpuUsPerRequest: medianOrNull(runs.map((r) => r.podCpuUsPerRequest)),
  };
}

export function summarizeRounds(rounds: readonly Round[]): Summary {
  const direct = summarize(rounds.map((r) => r.direct));
  const switchyard = summarize(rounds.map((r) => r.switchyard));
  const rss = rounds.map((r) => r.switchyard.proxyPeakRssKiB).filter((v): v is number => v !== null);
  return {
    medians: { direct, switchyard },
    ratios: {
      reqPerSecOfMedians: switchyard.reqPerSec / direct.reqPerSec,
      perRound: rounds.map((r) => r.ratio),
      p50LatencyOfMedians: switchyard.p50Ms / direct.p50Ms,
    },
    proxyPeakRssKiB: rss.length === 0 ? null : Math.max(...rss),
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => n.toFixed(2);
const ratio = (n: number): string => n.toFixed(2);
const orNA = (n: number | null, f: (n: number) => string): string => (n === null ? 'n/a' : f(n));
const us = (n: number): string => n.toFixed(1);
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function markdownReport(rounds: readonly Round[], summary: Summary, heading: string): string {
  const { direct, switchyard } = summary.medians;
  const lines: string[] = [
    heading,
    '',
    row(['candidate', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'Switchyard/direct req/s', 'proxy CPU µs/req', 'pod CPU µs/req', 'proxy peak RSS']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    row(['direct → pod 1', int(direct.reqPerSec), ms(direct.p50Ms), ms(direct.p99Ms), int(direct.errors + direct.timeouts), int(direct.non2xx), '1.00', '—', orNA(direct.podCpuUsPerRequest, us), '—']),
    row([
      'Switchyard → 2 pods',
      int(switchyard.reqPerSec),
      ms(switchyard.p50Ms),
      ms(switchyard.p99Ms),
      int(switchyard.errors + switchyard.timeouts),
      int(switchyard.non2xx),
      ratio(summary.ratios.reqPerSecOfMedians),
      orNA(switchyard.proxyCpuUsPerRequest, us),
      orNA(switchyard.podCpuUsPerRequest, us),
      orNA(summary.proxyPeakRssKiB, mib),
    ]),
    '',
    'Medians over rounds (errors and non-2xx: totals). Per round:',
    '',
    row(['round', 'direct req/s', 'Switchyard req/s', 'ratio', 'direct p99 ms', 'Switchyard p99 ms', 'proxy CPU µs/req']),
    row(['---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...rounds.map((r) =>
      row([
        String(r.round),
        int(r.direct.reqPerSec),
        int(r.switchyard.reqPerSec),
        ratio(r.ratio),
        ms(r.direct.latencyMs.p99),
        ms(r.switchyard.latencyMs.p99),
        orNA(r.switchyard.proxyCpuUsPerRequest, us),
      ]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
