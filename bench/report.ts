/**
 * The whole result: what bench/results/latest.json holds, and the markdown document printed on stdout.
 */
import type { ComparisonResult } from './comparison.ts';
import type { ScaleResult } from './scale.ts';
import type { Settings } from './settings.ts';
import type { ByToolAndCandidate, CandidateMedians, CandidateRatios } from './summary.ts';
import { comparisonTable, roundsTable, scaleTable, targetsTable } from './tables.ts';
import type { TargetCheck } from './targets.ts';

export interface BenchReport {
  readonly date: string;
  readonly node: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly availableParallelism: number;
    readonly totalMemoryBytes: number;
    readonly platform: string;
    readonly loadAverage1m: { readonly atStart: number; readonly atEnd: number };
  };
  readonly switchyard: { readonly commit: string | null; readonly dirty: boolean | null; readonly workersFlag: boolean };
  readonly settings: Settings & { readonly tools: readonly string[]; readonly clockTicksPerSecond: number };
  readonly comparison:
    | (ComparisonResult & {
        /** By load tool, then candidate id. */
        readonly medians: ByToolAndCandidate<CandidateMedians>;
        readonly ratios: ByToolAndCandidate<CandidateRatios>;
      })
    | null;
  readonly scale: ScaleResult | null;
  readonly targets: readonly TargetCheck[];
}

export function markdownReport(report: BenchReport): string {
  const { settings, machine } = report;
  const out: string[] = [];
  const where = `Node ${report.node}, ${machine.cores} × ${machine.cpu}, 1-min load ${machine.loadAverage1m.atStart.toFixed(2)} at start`;
  const c = report.comparison;
  if (c !== null) {
    for (const tool of settings.tools) {
      const medians = c.medians[tool];
      const ratios = c.ratios[tool];
      if (medians === undefined || ratios === undefined) continue;
      out.push(`### Proxies compared (${tool}) — ${settings.connections} connections, ${settings.rounds} × ${settings.durationSeconds} s, ${where}`, '');
      out.push(...comparisonTable(medians, ratios, c.candidates), '');
      out.push('Medians over rounds; errors and non-2xx are totals. × direct / × nginx: ratio within each round, median over rounds. Proxy CPU: user + system time of all its processes (from /proc) ÷ responses. Peak RSS: the largest VmHWM of any one of its processes. MB = 10⁶ bytes.', '');
      out.push(`Per round (${tool}):`, '');
      out.push(...roundsTable(c.runs, tool, c.candidates, settings.rounds), '');
    }
    out.push('Set-up:', '');
    for (const cand of c.candidates) out.push(`- **${cand.label}** (\`${cand.id}\`): ${cand.setup}`);
    for (const note of c.notes) out.push(`- Note: ${note}`);
    out.push('');
  }
  const s = report.scale;
  if (s !== null) {
    const nginx = s.cases.some((x) => x.proxy === 'nginx') ? ' and nginx, 1 worker' : '';
    out.push(`### Scale — Switchyard${s.workers === null ? ' (default)' : ` --workers ${s.workers}`}${nginx}, autocannon, ${settings.connections} connections, ${settings.rounds} × ${settings.durationSeconds} s, ${where}`, '');
    out.push(...scaleTable(s), '');
    out.push("One Ingress per route (host r<i>.scale.local, Prefix /r<i>), 10 routes per Service; the load hits the last-defined route, whose Service has the listed endpoints (all others 3). Endpoints 127.0.1.1, 127.0.1.2, … all answer via two pods bound to 0.0.0.0 on one port. × is req/s ÷ the same proxy's reference case within each round, median over rounds: Switchyard's 10 routes / 3 endpoints, nginx's 3 upstream servers. The nginx rows are context, not a target: one location proxying round-robin to the first 3 or 1,000 of those endpoints, with an upstream keepalive pool of at least one idle connection per server, so their × shows what ~1,000 warm keep-alive upstream connections cost a proxy that does no routing, its kernel and the pods on this machine. Every Switchyard case runs --workers 1 (one process: the hot path alone), but 10,000 routes with the default workers (one per core: a primary with the control plane, and the data-plane workers). Peak RSS: the largest VmHWM of any of the proxy's processes (nginx: master and worker), once started and answering (manifests read and compiled, no load yet) and after all measured runs.", '');
    for (const note of s.notes) out.push(`- Note: ${note}`);
    if (s.notes.length > 0) out.push('');
  }
  if (report.targets.length > 0) {
    out.push('### Targets (reported, not asserted)', '');
    out.push(...targetsTable(report.targets), '');
  }
  return `${out.join('\n')}\n`;
}
