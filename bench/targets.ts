/**
 * The targets, evaluated (reported, never asserted): each is met, not met, or not measured.
 */
import type { ComparisonCandidate } from './comparison.ts';
import { sameCase, type ScaleCaseResult, type ScaleResult } from './scale.ts';
import { cpuRatio, runsOf, type ComparisonRun } from './summary.ts';
import { maxOrNull, pairedRatio } from './stats.ts';

export interface TargetCheck {
  readonly description: string;
  /** The load the figure comes from: a tool, `at rest`, or several tools; null for the scale run (autocannon). */
  readonly tool: string | null;
  readonly measured: number | null;
  readonly comparison: '≥' | '≤';
  readonly threshold: number;
  readonly unit: '×' | 'µs/req' | 'MB';
  /** null when it could not be measured (a candidate skipped, no /proc). */
  readonly met: boolean | null;
}

function check(description: string, tool: string | null, measured: number | null, comparison: '≥' | '≤', threshold: number, unit: TargetCheck['unit']): TargetCheck {
  const met = measured === null || !Number.isFinite(measured) ? null : comparison === '≥' ? measured >= threshold : measured <= threshold;
  return { description, tool, measured: met === null ? null : measured, comparison, threshold, unit, met };
}

/** Which runs stand for "Switchyard with 1 worker" and "with default workers" (N = cores). */
function switchyardIds(candidates: readonly string[]): { one: string | null; many: string | null } {
  const has = (id: string): string | null => (candidates.includes(id) ? id : null);
  return { one: has('switchyard-1') ?? has('switchyard'), many: has('switchyard-n') ?? has('switchyard') };
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Switchyard's figures of the scale run; nginx's rows are context and never feed a target. req/s with
 * 10,000 routes and with 1,000 endpoints must stay within 5 % of its own 10-route, 3-endpoint case.
 */
function scaleChecks(scale: ScaleResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const single = (routes: number, endpoints: number): ScaleCaseResult | undefined => scale.cases.find((c) => sameCase(c, { proxy: 'switchyard', routes, endpoints }));
  const oneLabel = scale.workers === null ? 'Switchyard (default)' : `Switchyard --workers ${scale.workers}`;
  for (const [routes, endpoints] of [[10_000, 3], [10, 1_000], [10_000, 1_000]] as const) {
    // A case this run left out (--quick) has no row rather than a "not measured" one.
    if (single(routes, endpoints) === undefined) continue;
    const measured = single(routes, endpoints)?.relative ?? null;
    checks.push(check(`${oneLabel} req/s, ${count(routes)} routes × ${count(endpoints)} endpoints ÷ 10 routes × 3 endpoints`, null, measured, '≥', 0.95, '×'));
  }
  // The routes case as the target names it, and the corner with 1,000 endpoints as well.
  for (const c of scale.cases.filter((x) => x.proxy === 'switchyard' && x.routes === 10_000)) {
    const kib = c.proxyPeakRssKiB;
    const how = c.workers === null ? '' : c.workers === 1 ? ', --workers 1 (one process)' : `, --workers ${c.workers} (largest process)`;
    checks.push(check(`peak RSS per process, 10,000 routes × ${count(c.endpoints)} endpoints${how}, after load`, null, kib === null ? null : (kib * 1024) / 1e6, '≤', 150, 'MB'));
  }
  return checks;
}

/** What the comparison's targets are evaluated from. */
export interface TargetInputs {
  readonly runs: readonly ComparisonRun[];
  /** The load tools of the comparison; each gets its own throughput, CPU and latency checks. */
  readonly tools: readonly string[];
  /** In run order, with their labels and RSS at rest. */
  readonly candidates: readonly Pick<ComparisonCandidate, 'id' | 'label' | 'restRssKiB'>[];
  readonly scale: ScaleResult | null;
}

/** MB as the targets write them: 10^6 bytes. */
const toMB = (kib: number | null): number | null => (kib === null ? null : (kib * 1024) / 1e6);

/**
 * Issue 19's targets, in its order: throughput against the node proxies, CPU per request and p99
 * against nginx (for 1 worker, the like-for-like of nginx's 1 worker, and for the default workers),
 * then RSS; then the scale run's. Every figure is a ratio within the same run, or a size.
 */
export function evaluateTargets({ runs, tools, candidates, scale }: TargetInputs): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const ids = candidates.map((c) => c.id);
  const { one, many } = switchyardIds(ids);
  const labels = new Map(candidates.map((c) => [c.id, c.label]));
  const label = (id: string | null, fallback: string): string => (id === null ? fallback : (labels.get(id) ?? id));
  const ratio = (tool: string, a: string | null, b: string, metric: (r: ComparisonRun) => number): number | null =>
    a === null ? null : pairedRatio(runsOf(runs, tool, a), runsOf(runs, tool, b), metric).median;
  const rps = (r: ComparisonRun): number => r.reqPerSec;
  const oneLabel = label(one, 'Switchyard 1 worker');
  const manyLabel = label(many, 'Switchyard default workers');
  const both = [...new Set([one ?? 'switchyard-1', many ?? 'switchyard-n'])];
  for (const tool of tools) {
    checks.push(check(`${oneLabel} req/s ÷ node http-proxy`, tool, ratio(tool, one, 'http-proxy', rps), '≥', 2.5, '×'));
    checks.push(check(`${oneLabel} req/s ÷ @fastify/http-proxy`, tool, ratio(tool, one, 'fastify', rps), '≥', 2, '×'));
    for (const id of both) {
      const cpu = ids.includes(id) ? cpuRatio(runsOf(runs, tool, id), runsOf(runs, tool, 'nginx')) : null;
      checks.push(check(`${label(id, id)} proxy CPU per request ÷ nginx's`, tool, cpu, '≤', 2, '×'));
    }
    for (const id of both) {
      checks.push(check(`${label(id, id)} p99 ÷ nginx p99`, tool, ratio(tool, ids.includes(id) ? id : null, 'nginx', (r) => r.latencyMs.p99), '≤', 1.5, '×'));
    }
  }
  if (tools.length > 0) {
    const restOf = (id: string | null): number | null => candidates.find((c) => c.id === id)?.restRssKiB ?? null;
    const underLoad = one === null ? null : maxOrNull(runs.filter((r) => r.candidate === one).map((r) => r.proxyRssKiB));
    checks.push(check(`${oneLabel} RSS at rest`, 'at rest', toMB(restOf(one)), '≤', 64, 'MB'));
    checks.push(check(`${oneLabel} RSS under load (peak of all runs)`, tools.join(' + '), toMB(underLoad), '≤', 100, 'MB'));
    // Without --workers the default is the only Switchyard: a group against itself would read 1.00×.
    const group = one !== null && many !== null && one !== many ? restOf(many) : null;
    const single = restOf(one);
    checks.push(check(`${manyLabel} RSS at rest (all processes) ÷ ${oneLabel}'s`, 'at rest', group === null || single === null ? null : group / single, '≤', 1.5, '×'));
  }
  if (scale !== null) checks.push(...scaleChecks(scale));
  return checks;
}
