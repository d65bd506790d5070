/**
 * The protocols run's results: medians per case and the ratios the issue asks for, each taken within a
 * round (both sides saw the same machine state) and then the median over rounds. Pure functions.
 */
import { median, medianOrNull, pairedRatio } from '../stats.ts';
import type { TargetCheck } from '../targets.ts';
import { variantLabel } from './cases.ts';
import { caseId, type CaseKey, type ProtocolRun, type ProxyKind } from './types.ts';

export interface CaseMedians {
  readonly opsPerSec: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Totals over rounds. */
  readonly errors: number;
  readonly non2xx: number;
  readonly proxyCpuUsPerOp: number | null;
  readonly opsPerProxyCpuSecond: number | null;
  readonly proxyCores: number | null;
  readonly proxyPeakRssKiB: number | null;
  /** CPU time ÷ run time of the bench's own load scripts (not wrk, h2load, autocannon); null for those. */
  readonly clientCores: number | null;
}

export function caseMedians(runs: readonly ProtocolRun[]): CaseMedians {
  return {
    opsPerSec: median(runs.map((r) => r.opsPerSec)),
    meanMs: median(runs.map((r) => r.latencyMs.mean)),
    p50Ms: median(runs.map((r) => r.latencyMs.p50)),
    p99Ms: median(runs.map((r) => r.latencyMs.p99)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    proxyCpuUsPerOp: medianOrNull(runs.map((r) => r.proxyCpuUsPerOp)),
    opsPerProxyCpuSecond: medianOrNull(runs.map((r) => r.opsPerProxyCpuSecond)),
    proxyCores: medianOrNull(runs.map((r) => r.proxyCores)),
    proxyPeakRssKiB: runs.reduce<number | null>((a, r) => (r.proxyPeakRssKiB === null ? a : Math.max(a ?? 0, r.proxyPeakRssKiB)), null),
    clientCores: medianOrNull(runs.map((r) => (typeof r.details.clientCores === 'number' ? r.details.clientCores : null))),
  };
}

export type Metric = 'opsPerSec' | 'opsPerProxyCpuSecond';

export interface RatioSpec {
  readonly description: string;
  readonly numerator: CaseKey;
  readonly denominator: CaseKey;
  /** The metric a target applies to; the ratio is reported for both where both sides have the proxy's CPU. */
  readonly target?: { readonly metric: Metric; readonly comparison: '≥' | '≤'; readonly threshold: number };
}

export interface RatioResult {
  readonly description: string;
  readonly tool: string;
  readonly numerator: string;
  readonly denominator: string;
  /** ops/s ÷ ops/s, median over rounds of per-round ratios. */
  readonly throughput: number | null;
  readonly throughputPerRound: readonly number[];
  /** ops per proxy CPU-second ÷ the same; null when a side is direct (no proxy) or /proc is missing. */
  readonly perCpu: number | null;
  readonly target: NonNullable<RatioSpec['target']> | null;
  /** null: no target, or not measured. */
  readonly met: boolean | null;
}

const PROXY_NAMES: Record<ProxyKind, string> = { direct: 'direct', switchyard: 'Switchyard', 'switchyard-base': 'Switchyard (base)', 'switchyard-access-log': 'Switchyard with the access log', nginx: 'nginx', 'node-tls': 'bare node:tls' };

type Section = CaseKey['section'];
const key = (section: Section, variant: string, proxy: ProxyKind, tool: string): CaseKey => ({ section, variant, proxy, tool });

function within(section: Section, proxy: ProxyKind, a: string, b: string, tool: string, target?: RatioSpec['target']): RatioSpec {
  return { description: `${PROXY_NAMES[proxy]}: ${variantLabel(a)} ÷ ${variantLabel(b)}`, numerator: key(section, a, proxy, tool), denominator: key(section, b, proxy, tool), ...(target ? { target } : {}) };
}

function vsOther(section: Section, variant: string, proxy: ProxyKind, other: ProxyKind, tool: string, target?: RatioSpec['target']): RatioSpec {
  return { description: `${variantLabel(variant)}: ${PROXY_NAMES[proxy]} ÷ ${PROXY_NAMES[other]}`, numerator: key(section, variant, proxy, tool), denominator: key(section, variant, other, tool), ...(target ? { target } : {}) };
}

const atLeast = (metric: Metric, threshold: number): RatioSpec['target'] => ({ metric, comparison: '≥', threshold });

/**
 * The targets for the sections run, whether or not their cases could run (those read "not
 * measured"): `tools` gives the load tools of the HTTP/1.1 sections (autocannon, wrk).
 */
export function targetSpecs(sections: readonly Section[], tools: readonly string[]): RatioSpec[] {
  const specs: RatioSpec[] = [];
  const on = (s: Section): boolean => sections.includes(s);
  if (on('tls')) for (const tool of tools) specs.push(within('tls', 'switchyard', 'h1-tls', 'h1-plain', tool, atLeast('opsPerSec', 0.8)));
  if (on('handshakes')) specs.push(vsOther('handshakes', 'full', 'switchyard', 'nginx', 'tls.connect', atLeast('opsPerProxyCpuSecond', 0.7)));
  if (on('http2')) {
    specs.push(within('http2', 'switchyard', 'h2-tls', 'h1-tls-4', 'h2load', atLeast('opsPerSec', 1.5)));
    specs.push(within('http2', 'switchyard', 'h2c', 'h1-plain-4', 'h2load', atLeast('opsPerSec', 1.5)));
  }
  // Issue #15 too: recording metrics costs at most 5 % of req/s (this tree runs with --access-log off here).
  if (on('before-after')) for (const tool of tools) specs.push(vsOther('before-after', 'h1-plain', 'switchyard', 'switchyard-base', tool, atLeast('opsPerSec', 0.95)));
  return specs;
}

/** Every ratio whose two cases ran: the targets, then Switchyard ÷ nginx, ÷ direct and the other context. */
export function ratioSpecs(keys: readonly CaseKey[]): RatioSpec[] {
  const has = (k: CaseKey): boolean => keys.some((x) => caseId(x) === caseId(k));
  const specs: RatioSpec[] = [];
  const push = (spec: RatioSpec): void => {
    if (has(spec.numerator) && has(spec.denominator)) specs.push(spec);
  };
  const sections = [...new Set(keys.map((k) => k.section))];
  const tools = (section: Section): string[] => [...new Set(keys.filter((k) => k.section === section).map((k) => k.tool))];
  for (const spec of targetSpecs(sections, [...new Set([...tools('tls'), ...tools('before-after')])])) push(spec);
  for (const tool of tools('tls')) {
    push(within('tls', 'nginx', 'h1-tls', 'h1-plain', tool));
    push(vsOther('tls', 'h1-tls', 'switchyard', 'nginx', tool));
    push(vsOther('tls', 'h1-plain', 'switchyard', 'nginx', tool));
  }
  for (const tool of tools('handshakes')) {
    if (tool !== 'tls.connect') push(vsOther('handshakes', 'full', 'switchyard', 'nginx', tool));
    push(vsOther('handshakes', 'full', 'switchyard', 'node-tls', tool));
    push(vsOther('handshakes', 'full', 'node-tls', 'nginx', tool));
  }
  for (const tool of tools('http2')) {
    push(within('http2', 'switchyard', 'h2c', 'h1-plain-4n', tool));
    push(within('http2', 'nginx', 'h2-tls', 'h1-tls-4', tool));
    push(within('http2', 'nginx', 'h2c', 'h1-plain-4', tool));
    for (const variant of ['h2-tls', 'h1-tls-4', 'h2c', 'h1-plain-4']) push(vsOther('http2', variant, 'switchyard', 'nginx', tool));
  }
  // What the access log costs: reported, no target (issue #15 asks for the figure).
  for (const tool of tools('before-after')) push(vsOther('before-after', 'h1-plain', 'switchyard-access-log', 'switchyard', tool));
  for (const section of ['websocket', 'grpc'] as const) {
    const variant = section === 'websocket' ? 'echo' : 'unary';
    for (const tool of tools(section)) {
      push(vsOther(section, variant, 'switchyard', 'nginx', tool));
      push(vsOther(section, variant, 'switchyard', 'direct', tool));
      push(vsOther(section, variant, 'nginx', 'direct', tool));
    }
  }
  return specs;
}

export function evaluateRatio(spec: RatioSpec, runs: readonly ProtocolRun[]): RatioResult {
  const of = (key: CaseKey): ProtocolRun[] => runs.filter((r) => r.id === caseId(key));
  const a = of(spec.numerator);
  const b = of(spec.denominator);
  const throughput = pairedRatio(a, b, (r) => r.opsPerSec);
  const bothHaveCpu = spec.numerator.proxy !== 'direct' && spec.denominator.proxy !== 'direct';
  const perCpuRounds = bothHaveCpu ? pairedRatio(a, b, (r) => r.opsPerProxyCpuSecond ?? NaN).perRound.filter(Number.isFinite) : [];
  const perCpu = perCpuRounds.length === 0 ? null : median(perCpuRounds);
  const clean = (n: number | null): number | null => (n === null || !Number.isFinite(n) ? null : n);
  const t = spec.target ?? null;
  const measured = t === null ? null : clean(t.metric === 'opsPerSec' ? throughput.median : perCpu);
  return {
    description: spec.description,
    tool: spec.numerator.tool,
    numerator: caseId(spec.numerator),
    denominator: caseId(spec.denominator),
    throughput: clean(throughput.median),
    throughputPerRound: throughput.perRound,
    perCpu,
    target: t,
    met: t === null || measured === null ? null : t.comparison === '≥' ? measured >= t.threshold : measured <= t.threshold,
  };
}

/** The targets as rows of the bench's targets table: a target whose cases did not run reads "not measured". */
export function protocolTargets(specs: readonly RatioSpec[], runs: readonly ProtocolRun[]): TargetCheck[] {
  return specs
    .filter((spec) => spec.target !== undefined)
    .map((spec) => {
      const r = evaluateRatio(spec, runs);
      const t = spec.target!;
      const measured = t.metric === 'opsPerSec' ? r.throughput : r.perCpu;
      return {
        description: `${spec.description}${t.metric === 'opsPerProxyCpuSecond' ? ', per proxy CPU-second' : ''}`,
        tool: spec.numerator.tool,
        measured,
        comparison: t.comparison,
        threshold: t.threshold,
        unit: '×' as const,
        met: r.met,
      };
    });
}
