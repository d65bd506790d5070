/**
 * The markdown printed on stdout: the comparison per load tool, its rounds, the scale run, the
 * summary table and the targets. Pure functions of the results.
 */
import type { OverviewRow } from './overview.ts';
import type { ScaleCaseResult, ScaleResult } from './scale.ts';
import type { CandidateMedians, CandidateRatios, ComparisonRun } from './summary.ts';
import type { TargetCheck } from './targets.ts';

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fixed = (digits: number) => (n: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ms = fixed(2);
const ratio = fixed(2);
const us = fixed(1);
const orDash = (n: number | null, f: (n: number) => string): string => (n === null ? '—' : f(n));
/** MB = 10^6 bytes, as the targets are written. */
const mb = (kib: number): string => `${((kib * 1024) / 1e6).toFixed(0)} MB`;

function table(header: readonly string[], align: readonly ('l' | 'r')[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)];
}

export interface Labelled {
  readonly id: string;
  readonly label: string;
}

export function comparisonTable(medians: Readonly<Record<string, CandidateMedians>>, ratios: Readonly<Record<string, CandidateRatios>>, candidates: readonly Labelled[]): string[] {
  const rows = candidates
    .filter((c) => medians[c.id] !== undefined && ratios[c.id] !== undefined)
    .map((c) => {
      const s = { ...medians[c.id]!, ...ratios[c.id]! };
      return [
        c.label,
        int(s.reqPerSec),
        ms(s.p50Ms),
        ms(s.p99Ms),
        int(s.errors + s.timeouts),
        int(s.non2xx),
        c.id === 'direct' ? '1.00' : orDash(s.reqPerSecToDirect, ratio),
        c.id === 'nginx' ? '1.00' : orDash(s.reqPerSecToNginx, ratio),
        orDash(s.proxyCpuUsPerRequest, us),
        orDash(s.proxyProcesses, String),
        orDash(s.proxyPeakRssKiB, mb),
      ];
    });
  return table(['candidate', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', '× direct', '× nginx', 'proxy CPU µs/req', 'processes', 'peak RSS / process'], ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'], rows);
}

export function roundsTable(runs: readonly ComparisonRun[], tool: string, candidates: readonly Labelled[], rounds: number): string[] {
  const present = candidates.filter((c) => runs.some((r) => r.tool === tool && r.candidate === c.id));
  const rows: string[][] = [];
  for (let round = 1; round <= rounds; round++) {
    rows.push([
      String(round),
      ...present.map((c) => {
        const r = runs.find((x) => x.tool === tool && x.candidate === c.id && x.round === round);
        return r === undefined ? '—' : `${int(r.reqPerSec)} / ${ms(r.latencyMs.p99)}`;
      }),
    ]);
  }
  return table(['round', ...present.map((c) => `${c.label} req/s / p99 ms`)], ['r', ...present.map(() => 'r' as const)], rows);
}

const proxyLabel = (c: ScaleCaseResult): string => (c.proxy === 'nginx' ? 'nginx, 1 worker' : 'Switchyard');

export function scaleTable(scale: ScaleResult): string[] {
  const rows = scale.cases.map((c) => [
    proxyLabel(c),
    orDash(c.routes, int),
    int(c.endpoints),
    c.proxy === 'nginx' || c.workers === null ? '—' : String(c.workers),
    int(c.reqPerSec),
    orDash(c.relative, ratio),
    ms(c.p50Ms),
    ms(c.p99Ms),
    int(c.errors + c.non2xx),
    orDash(c.proxyCpuUsPerRequest, us),
    orDash(c.startupPeakRssKiB, mb),
    orDash(c.proxyPeakRssKiB, mb),
    (c.startupMs / 1000).toFixed(2),
  ]);
  return table(
    ['proxy', 'Ingress routes', 'endpoints / Service', '--workers', 'req/s', "× same proxy's 10 routes / 3 endpoints (nginx: 3 servers)", 'p50 ms', 'p99 ms', 'errors + non-2xx', 'proxy CPU µs/req', 'peak RSS after start-up', 'peak RSS after load', 'ready in s'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
  );
}

function measuredText(c: TargetCheck): string {
  if (c.measured === null) return 'not measured';
  if (c.unit === '×') return `${c.measured.toFixed(2)}×`;
  if (c.unit === 'µs/req') return `${c.measured.toFixed(1)} µs/req`;
  return `${c.measured.toFixed(0)} MB`;
}

export function targetsTable(checks: readonly TargetCheck[]): string[] {
  const rows = checks.map((c) => [
    c.description,
    c.tool ?? 'autocannon (scale run)',
    measuredText(c),
    `${c.comparison} ${c.threshold}${c.unit === '×' ? '×' : ` ${c.unit}`}`,
    c.met === null ? 'not measured' : c.met ? '**met**' : '**not met**',
  ]);
  return table(['target', 'load', 'measured', 'target', 'verdict'], ['l', 'l', 'r', 'r', 'l'], rows);
}

const times = (n: number | null): string => (n === null ? '—' : `${ratio(n)}×`);

/** The summary every run ends with: one row per candidate (and Switchyard with 10,000 routes). */
export function overviewTable(rows: readonly OverviewRow[]): string[] {
  const body = rows.map((r) => [
    r.failures > 0 ? `${r.label} (${int(r.failures)} errors)` : r.label,
    orDash(r.reqPerSec, int),
    times(r.toNginx),
    times(r.toDirect),
    orDash(r.cpuUsPerRequest, us),
    orDash(r.p99Ms, ms),
    orDash(r.restRssKiB, mb),
    orDash(r.loadRssKiB, mb),
    orDash(r.processes, String),
  ]);
  return table(
    ['candidate', 'req/s', '× nginx', '× direct', 'proxy CPU µs/req', 'p99 ms', 'RSS at rest', 'RSS under load (peak)', 'processes'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    body,
  );
}
