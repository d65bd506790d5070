/**
 * The whole result: what bench/results/latest.json holds, and the markdown document printed on stdout.
 */
import type { ComparisonResult } from './comparison.ts';
import { elapsedText, overviewRows } from './overview.ts';
import type { ProtocolsResult } from './protocols/run.ts';
import { figuresTable, ratiosTable } from './protocols/tables.ts';
import type { ScaleResult } from './scale.ts';
import type { Settings } from './settings.ts';
import type { ByToolAndCandidate, CandidateMedians, CandidateRatios } from './summary.ts';
import { comparisonTable, overviewTable, roundsTable, scaleTable, targetsTable } from './tables.ts';
import type { TargetCheck } from './targets.ts';

export interface BenchReport {
  readonly date: string;
  /** Wall time of the bench itself, from its start to the report (the build before it not included). */
  readonly elapsedSeconds: number;
  /** The load tool the summary table reads (overview.ts summaryTool); null without a comparison. */
  readonly summaryTool: string | null;
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
  readonly protocols: ProtocolsResult | null;
  readonly targets: readonly TargetCheck[];
}

const SECTION_TITLES: Readonly<Record<string, string>> = {
  tls: 'HTTP/1.1 keep-alive over TLS 1.3 and plaintext',
  handshakes: 'New TLS handshakes',
  http2: 'HTTP/2 (TLS and h2c) beside HTTP/1.1',
  websocket: 'WebSocket echo',
  grpc: 'gRPC unary calls',
  'before-after': 'Plaintext HTTP/1.1, this tree beside the base commit',
};

function protocolsSection(p: ProtocolsResult, settings: BenchReport['settings'], where: string): string[] {
  const out: string[] = [];
  const workers = p.switchyard.workers === null ? 'Switchyard (default)' : `Switchyard --workers ${p.switchyard.workers}`;
  out.push(`### Protocols — ${workers}${p.nginx === null ? '' : ` and nginx ${p.nginx.version ?? ''} (1 worker)`}, ${settings.rounds} × ${settings.durationSeconds} s, ${where}`, '');
  for (const [section, title] of Object.entries(SECTION_TITLES)) {
    const rows = p.cases.filter((c) => c.section === section);
    if (rows.length === 0) continue;
    out.push(`#### ${title}`, '', ...figuresTable(rows), '');
  }
  out.push(
    'Medians over rounds; errors and non-2xx are totals. ops: responses (2xx), handshakes, echoed messages or OK calls. Proxy CPU: user + system time of the whole process tree (from /proc) ÷ operations, over the load tool\'s whole run (its connection set-up included); ops per proxy CPU-s is its inverse, the "per core" figure; cores busy: proxy CPU time ÷ wall time; load script cores: the same for the bench\'s own load scripts (near 1.00: the client, not the proxy, set the pace). h2load reports mean latency only.',
    '',
  );
  if (p.ratios.length > 0) {
    out.push('#### Ratios', '', ...ratiosTable(p.ratios), '');
    out.push('Each ratio is taken within a round (both sides measured back to back), then the median over rounds; "per round" lists them.', '');
  }
  out.push('Set-up:', '');
  out.push(`- Certificate: ${p.certificate.type}, SHA-256 ${p.certificate.fingerprint256.slice(0, 23)}…; Switchyard reads it as a kubernetes.io/tls Secret named by the Ingress's tls: entry (and --default-certificate), nginx as files.`);
  for (const c of p.cases) out.push(`- \`${c.id}\`: ${c.setup}`);
  for (const n of p.notes) out.push(`- Note: ${n}`);
  out.push('');
  return out;
}

export function markdownReport(report: BenchReport): string {
  const { settings, machine } = report;
  const out: string[] = [];
  const where = `Node ${report.node}, ${machine.cores} × ${machine.cpu}, 1-min load ${machine.loadAverage1m.atStart.toFixed(2)} at start`;
  const c = report.comparison;
  // --quick prints the summary alone; the JSON keeps every run.
  if (c !== null && !settings.quick) {
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
  if (s !== null && !settings.quick) {
    const nginx = s.cases.some((x) => x.proxy === 'nginx') ? ' and nginx, 1 worker' : '';
    out.push(`### Scale — Switchyard${s.workers === null ? ' (default)' : ` --workers ${s.workers}`}${nginx}, autocannon, ${settings.connections} connections, ${settings.rounds} × ${settings.durationSeconds} s, ${where}`, '');
    out.push(...scaleTable(s), '');
    out.push("One Ingress per route (host r<i>.scale.local, Prefix /r<i>), 10 routes per Service; the load hits the last-defined route, whose Service has the listed endpoints (all others 3). Endpoints 127.0.1.1, 127.0.1.2, … all answer via two pods bound to 0.0.0.0 on one port. × is req/s ÷ the same proxy's reference case within each round, median over rounds: Switchyard's 10 routes / 3 endpoints, nginx's 3 upstream servers. The nginx rows are context, not a target: one location proxying round-robin to the first 3 or 1,000 of those endpoints, with an upstream keepalive pool of at least one idle connection per server, so their × shows what ~1,000 warm keep-alive upstream connections cost a proxy that does no routing, its kernel and the pods on this machine. Every Switchyard case runs --workers 1 (one process: the hot path alone), but 10,000 routes with the default workers (one per core: a primary with the control plane, and the data-plane workers). Peak RSS: the largest VmHWM of any of the proxy's processes (nginx: master and worker), once started and answering (manifests read and compiled, no load yet) and after all measured runs.", '');
    for (const note of s.notes) out.push(`- Note: ${note}`);
    if (s.notes.length > 0) out.push('');
  }
  if (report.protocols !== null) out.push(...protocolsSection(report.protocols, settings, where));
  out.push(...summarySection(report, where));
  return `${out.join('\n')}\n`;
}

/** The end of every run: the one table, what its columns mean, then every target met or not. */
function summarySection(report: BenchReport, where: string): string[] {
  const { settings } = report;
  const out: string[] = [];
  const rows = overviewRows({ tool: report.summaryTool, comparison: report.comparison, scale: report.scale });
  const elapsed = `${settings.quick ? '--quick, ' : ''}elapsed ${elapsedText(report.elapsedSeconds)}`;
  if (rows.length > 0) {
    const tool = report.summaryTool ?? 'autocannon';
    out.push(`### Summary — ${tool}, ${settings.connections} connections, ${settings.rounds} × ${settings.durationSeconds} s, ${elapsed}, ${where}`, '');
    out.push(...overviewTable(rows), '');
    out.push(
      `req/s, p99 and proxy CPU: medians over rounds (${tool}). × nginx / × direct: req/s ÷ theirs within each round, median over rounds. Proxy CPU: user + system time of all the proxy's processes (from /proc) ÷ responses. RSS: VmRSS summed over all the proxy's processes (a group's workers and primary, nginx's master and worker): at rest once every candidate is up and has idled 1 s, before any load; under load the largest of samples taken every 100 ms during the measured runs. MB = 10⁶ bytes. The 10,000-routes row is the scale run's (autocannon, its own pods), so it has no ratios. Switchyard runs as shipped: its defaults, with only --workers, the listen and admin addresses and the shutdown timings set, so no figure comes from a feature turned off.`,
      '',
    );
  } else {
    out.push(`Bench ${elapsed}.`, '');
  }
  if (report.targets.length > 0) {
    out.push('### Targets (reported, not asserted)', '');
    out.push(...targetsTable(report.targets), '');
    const met = report.targets.filter((t) => t.met === true).length;
    const notMet = report.targets.filter((t) => t.met === false).length;
    out.push(`${met} met, ${notMet} not met, ${report.targets.length - met - notMet} not measured.`, '');
  }
  return out;
}
