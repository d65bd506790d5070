/**
 * The one summary table every run ends with: per comparison candidate, for one load tool, req/s and its
 * ratios to nginx and to direct, proxy CPU per request, p99 and RSS of the whole proxy at rest and
 * under load; then Switchyard with 10,000 routes from the scale run. Pure: rows from the results.
 */
import type { ComparisonCandidate } from './comparison.ts';
import type { ScaleResult } from './scale.ts';
import type { CandidateMedians, CandidateRatios } from './summary.ts';

export interface OverviewRow {
  readonly label: string;
  readonly reqPerSec: number | null;
  /** req/s ÷ nginx's within each round, median over rounds; 1 on nginx's own row. */
  readonly toNginx: number | null;
  /** req/s ÷ direct's within each round, median over rounds; 1 on direct's own row. */
  readonly toDirect: number | null;
  readonly cpuUsPerRequest: number | null;
  readonly p99Ms: number | null;
  /** VmRSS summed over the proxy's processes, at rest and the largest sampled under load, KiB. */
  readonly restRssKiB: number | null;
  readonly loadRssKiB: number | null;
  readonly processes: number | null;
  /** Errors, timeouts and non-2xx responses over its runs: a row with any is suspect. */
  readonly failures: number;
}

/**
 * The load tool the summary reads: wrk when it ran (C, one thread: it leaves more of a small machine's
 * cores to the proxies than autocannon, which runs inside the bench's own Node process), else the first.
 */
export function summaryTool(tools: readonly string[]): string | null {
  return tools.includes('wrk') ? 'wrk' : (tools[0] ?? null);
}

export interface OverviewInputs {
  readonly tool: string | null;
  readonly comparison: {
    readonly candidates: readonly ComparisonCandidate[];
    readonly medians: Readonly<Record<string, Readonly<Record<string, CandidateMedians>>>>;
    readonly ratios: Readonly<Record<string, Readonly<Record<string, CandidateRatios>>>>;
  } | null;
  readonly scale: ScaleResult | null;
}

/** The routes count whose scale-run rows the summary shows: the size item 3 of issue 19 asks RSS for. */
export const SUMMARY_SCALE_ROUTES = 10_000;

export function overviewRows({ tool, comparison, scale }: OverviewInputs): OverviewRow[] {
  const rows: OverviewRow[] = [];
  const medians = tool === null ? undefined : comparison?.medians[tool];
  const ratios = tool === null ? undefined : comparison?.ratios[tool];
  for (const c of comparison?.candidates ?? []) {
    const m = medians?.[c.id];
    const r = ratios?.[c.id];
    if (m === undefined || r === undefined) continue;
    rows.push({
      label: c.label,
      reqPerSec: m.reqPerSec,
      toNginx: c.id === 'nginx' ? 1 : r.reqPerSecToNginx,
      toDirect: c.id === 'direct' ? 1 : r.reqPerSecToDirect,
      cpuUsPerRequest: m.proxyCpuUsPerRequest,
      p99Ms: m.p99Ms,
      restRssKiB: c.restRssKiB,
      loadRssKiB: m.proxyLoadRssKiB,
      processes: c.restProcesses ?? m.proxyProcesses,
      failures: m.errors + m.timeouts + m.non2xx,
    });
  }
  for (const c of scale?.cases ?? []) {
    if (c.proxy !== 'switchyard' || c.routes !== SUMMARY_SCALE_ROUTES || c.endpoints !== 3) continue;
    const workers = c.workers === null ? ' (default)' : ` --workers ${c.workers}`;
    rows.push({
      label: `Switchyard${workers}, ${SUMMARY_SCALE_ROUTES.toLocaleString('en-US')} routes (scale run, autocannon)`,
      reqPerSec: c.reqPerSec,
      toNginx: null,
      toDirect: null,
      cpuUsPerRequest: c.proxyCpuUsPerRequest,
      p99Ms: c.p99Ms,
      restRssKiB: c.restRssKiB,
      loadRssKiB: c.loadRssKiB,
      processes: c.processes,
      failures: c.errors + c.non2xx,
    });
  }
  return rows;
}

/** "1 min 42 s", "38 s". */
export function elapsedText(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
