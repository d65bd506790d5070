/**
 * The protocols run as markdown: one table of figures per section, one of ratios. Pure functions.
 */
import type { CaseMedians, RatioResult } from './summary.ts';
import type { ProtocolCase } from './types.ts';

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fixed = (digits: number) => (n: number | null): string => (n === null || !Number.isFinite(n) ? '—' : n.toFixed(digits));
const ms = fixed(2);
const us = fixed(1);
const x = fixed(2);
const mb = (kib: number | null): string => (kib === null ? '—' : `${((kib * 1024) / 1e6).toFixed(0)} MB`);

function table(header: readonly string[], align: readonly ('l' | 'r')[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)];
}

export type CaseRow = Pick<ProtocolCase, 'id' | 'label' | 'unit'> & { readonly medians: CaseMedians };

export function figuresTable(rows: readonly CaseRow[]): string[] {
  return table(
    ['figure', 'ops/s', 'mean ms', 'p99 ms', 'errors', 'non-2xx', 'proxy CPU µs/op', 'ops per proxy CPU-s', 'proxy cores busy', 'load script cores', 'peak RSS'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows.map((r) => {
      const m = r.medians;
      return [`${r.label} (${r.unit}s)`, int(m.opsPerSec), ms(m.meanMs), ms(m.p99Ms), int(m.errors), int(m.non2xx), us(m.proxyCpuUsPerOp), m.opsPerProxyCpuSecond === null ? '—' : int(m.opsPerProxyCpuSecond), x(m.proxyCores), x(m.clientCores), mb(m.proxyPeakRssKiB)];
    }),
  );
}

function verdict(r: RatioResult): string {
  if (r.target === null) return '';
  const measured = r.target.metric === 'opsPerSec' ? r.throughput : r.perCpu;
  const what = `${r.target.comparison} ${r.target.threshold}×${r.target.metric === 'opsPerProxyCpuSecond' ? ' per CPU' : ''}`;
  return measured === null ? `${what}: not measured` : `${what}: ${r.met ? '**met**' : '**not met**'}`;
}

export function ratiosTable(results: readonly RatioResult[]): string[] {
  return table(
    ['ratio', 'load', '× ops/s', 'per round', '× ops per proxy CPU-s', 'target'],
    ['l', 'l', 'r', 'r', 'r', 'l'],
    results.map((r) => [r.description, r.tool, x(r.throughput), r.throughputPerRound.map((v) => v.toFixed(2)).join(' / '), x(r.perCpu), verdict(r)]),
  );
}
