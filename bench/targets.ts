/**
 * The targets, evaluated (reported, never asserted): each is met, not met, or not measured.
 */
import { sameCase, type ScaleCaseResult, type ScaleResult } from './scale.ts';
import { runsOf, type ComparisonRun } from './summary.ts';
import { medianOrNull, pairedRatio } from './stats.ts';

export interface TargetCheck {
  readonly description: string;
  /** The load tool the figure comes from; null for the scale run (autocannon). */
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

export function evaluateTargets(runs: readonly ComparisonRun[], tools: readonly string[], candidates: readonly string[], labels: ReadonlyMap<string, string>, scale: ScaleResult | null): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const { one, many } = switchyardIds(candidates);
  const label = (id: string | null, fallback: string): string => (id === null ? fallback : (labels.get(id) ?? id));
  const ratio = (tool: string, a: string | null, b: string, metric: (r: ComparisonRun) => number): number | null =>
    a === null ? null : pairedRatio(runsOf(runs, tool, a), runsOf(runs, tool, b), metric).median;
  const rps = (r: ComparisonRun): number => r.reqPerSec;
  for (const tool of tools) {
    const oneLabel = label(one, 'Switchyard 1 worker');
    const manyLabel = label(many, 'Switchyard default workers');
    checks.push(check(`${oneLabel} req/s ÷ node http-proxy`, tool, ratio(tool, one, 'http-proxy', rps), '≥', 2, '×'));
    checks.push(check(`${oneLabel} req/s ÷ @fastify/http-proxy`, tool, ratio(tool, one, 'fastify', rps), '≥', 1.5, '×'));
    checks.push(check(`${manyLabel} req/s ÷ nginx`, tool, ratio(tool, many, 'nginx', rps), '≥', 0.8, '×'));
    checks.push(check(`${manyLabel} p99 ÷ nginx p99`, tool, ratio(tool, many, 'nginx', (r) => r.latencyMs.p99), '≤', 2, '×'));
    for (const id of new Set([one, many])) {
      if (id === null) continue;
      checks.push(check(`${label(id, id)} proxy CPU per request`, tool, medianOrNull(runsOf(runs, tool, id).map((r) => r.proxyCpuUsPerRequest)), '≤', 50, 'µs/req'));
    }
  }
  if (scale !== null) checks.push(...scaleChecks(scale));
  return checks;
}
