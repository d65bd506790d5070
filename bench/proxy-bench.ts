/**
 * End-to-end proxy bench: what does a request through Switchyard cost, next to the same request sent
 * straight to a pod and through other proxies (node http-proxy, http-proxy-3, @fastify/http-proxy,
 * nginx)? And does that cost stay flat with thousands of routes and endpoints (next to nginx with 3 and
 * 1,000 upstream servers)? And what do TLS, HTTP/2, WebSocket and gRPC cost it, next to nginx with the
 * same certificate? Every run ends with one summary table and the targets, met or not.
 *
 *   npm run bench                      # comparison (3 rounds × 10 s) + scale run + protocols run, ~30 min
 *   npm run bench -- --quick           # under 2 min: 3 rounds × 2 s, one load tool, no protocols run
 *   npm run bench -- --only direct,switchyard,nginx --skip-scale --skip-protocols
 *   npm run bench -- --protocols-only --sections tls,http2 --base-dir /tmp/switchyard-base
 *   npm run bench -- --help
 *
 * Layout: settings.ts (flags), comparison.ts and scale.ts (two of the runs), protocols/ (the third: its
 * run.ts, cases.ts, pods, nginx config, load scripts and h2load, summary and tables), candidates/ (what the load is
 * pointed at: direct, switchyard, baseline, nginx), baselines/ (the node baseline proxy servers),
 * load/ (autocannon, wrk), measure.ts (one run with /proc readings), proc-stats.ts (/proc), pods.ts and
 * pod-server.ts (the upstreams), manifests.ts, children.ts (child processes), summary.ts, stats.ts,
 * targets.ts, overview.ts (the summary table's rows), tables.ts and report.ts (results), net.ts,
 * which.ts, progress.ts; prepare-base.ts builds an earlier commit for the protocols run's before-after
 * section. Unit tests of the pure parts: bench/test/
 * (npx vitest run --config bench/vitest.config.ts), not part of npm test.
 *
 * Only loopback traffic; every child (pods, proxies, nginx, wrk, h2load, load scripts) is stopped on exit, on error and on
 * Ctrl-C. Linux: the whole of 127/8 is loopback there, and the CPU/RSS figures need /proc (elsewhere
 * they read "—"). The proxies, the pods and the load generator share the machine's cores, so compare
 * results from the same machine only; CPU per request is the figure that carries over best.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, rename } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { hasWorkersFlag } from './candidates/switchyard.ts';
import { killAllNow, stopAll } from './children.ts';
import { runComparison } from './comparison.ts';
import { autocannonTool, stopAutocannon } from './load/autocannon.ts';
import type { LoadTool } from './load/types.ts';
import { wrkTool } from './load/wrk.ts';
import { clockTicksPerSecond } from './proc-stats.ts';
import { progress } from './progress.ts';
import { markdownReport, type BenchReport } from './report.ts';
import { runProtocols } from './protocols/run.ts';
import { plannedScaleCases, runScale } from './scale.ts';
import { HELP, parseSettings, type Settings } from './settings.ts';
import { elapsedText, summaryTool } from './overview.ts';
import { summarizeAll } from './summary.ts';
import { evaluateTargets } from './targets.ts';
import { applyMallocEnv } from './malloc-env.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
// Every candidate runs in the malloc environment deploy/ gives Switchyard; the children inherit it.
applyMallocEnv();
const repoDir = path.dirname(benchDir);

function gitRevision(): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

let scratchRoot: string | undefined;

async function cleanUp(): Promise<void> {
  stopAutocannon();
  await stopAll();
  if (scratchRoot !== undefined) await rm(scratchRoot, { recursive: true, force: true });
  scratchRoot = undefined;
}

function estimateSeconds(settings: Settings, candidates: number, tools: number): number {
  const perRun = settings.durationSeconds + settings.pauseMs / 1000;
  const comparison = settings.comparison ? candidates * tools * (settings.rounds * perRun + settings.warmupSeconds) : 0;
  const scale = settings.scale ? plannedScaleCases(settings.quick).cases.length * (settings.rounds * perRun + settings.warmupSeconds + 2) : 0;
  // About 30 cases when every section, tool and proxy is there; run.ts prints its own count once it knows.
  const protocols = settings.protocols ? Math.round((30 * settings.sections.length) / 6) * (settings.rounds * perRun + settings.warmupSeconds + 1) : 0;
  return comparison + scale + protocols;
}

async function main(settings: Settings): Promise<void> {
  const startedAt = performance.now();
  const ticksPerSecond = clockTicksPerSecond();
  // The proxy, the pods and the load generator already compete for the cores; anything else busy skews them more.
  const loadAtStart = os.loadavg()[0] ?? 0;
  if (loadAtStart > 0.5) progress(`warning: 1-min load average is ${loadAtStart.toFixed(2)} before the bench starts; other processes will skew the numbers`);
  scratchRoot = await mkdtemp(path.join(os.tmpdir(), 'switchyard-bench-'));

  const tools: LoadTool[] = [autocannonTool];
  const wrk = settings.wrk && (settings.comparison || settings.protocols) ? wrkTool(scratchRoot) : null;
  if (wrk !== null) tools.push(wrk);
  // --quick measures the comparison with the summary's tool alone; the protocols run keeps every tool.
  const comparisonTools = settings.quick ? tools.filter((t) => t.name === summaryTool(tools.map((x) => x.name))) : tools;
  progress(`Switchyard ${hasWorkersFlag() ? 'has' : 'has no'} --workers; load: ${comparisonTools.map((t) => t.name).join(' + ')}; about ${Math.ceil(estimateSeconds(settings, 7, comparisonTools.length) / 60)} min at most`);

  const comparison = settings.comparison ? await runComparison(settings, comparisonTools, scratchRoot, ticksPerSecond) : null;
  const scale = settings.scale ? await runScale(settings, scratchRoot, ticksPerSecond) : null;
  const protocols = settings.protocols ? await runProtocols(settings, tools, scratchRoot, ticksPerSecond) : null;

  const toolNames = comparisonTools.map((t) => t.name);
  const candidateIds = comparison?.candidates.map((c) => c.id) ?? [];
  const cpus = os.cpus();
  const elapsedSeconds = (performance.now() - startedAt) / 1000;
  const report: BenchReport = {
    date: new Date().toISOString(),
    elapsedSeconds,
    summaryTool: comparison === null ? null : summaryTool(toolNames),
    node: process.version,
    machine: {
      cpu: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      availableParallelism: os.availableParallelism(),
      totalMemoryBytes: os.totalmem(),
      platform: `${os.platform()} ${os.release()}`,
      loadAverage1m: { atStart: loadAtStart, atEnd: os.loadavg()[0] ?? 0 },
    },
    switchyard: { ...gitRevision(), workersFlag: hasWorkersFlag() },
    settings: { ...settings, tools: toolNames, clockTicksPerSecond: ticksPerSecond },
    comparison: comparison === null ? null : { ...comparison, ...summarizeAll(comparison.runs, toolNames, candidateIds) },
    scale,
    protocols,
    targets: [
      ...evaluateTargets({ runs: comparison?.runs ?? [], tools: comparison === null ? [] : toolNames, candidates: comparison?.candidates ?? [], scale }),
      ...(protocols?.targets ?? []),
    ],
  };
  const resultsFile = settings.out;
  await mkdir(path.dirname(resultsFile), { recursive: true });
  const tmp = resultsFile.replace(/\.json$/, '.tmp.json');
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`);
  await rename(tmp, resultsFile);
  process.stdout.write(markdownReport(report));
  progress(`wrote ${path.relative(process.cwd(), resultsFile)}; elapsed ${elapsedText(elapsedSeconds)}`);

  const failures =
    (comparison?.runs ?? []).reduce((a, r) => a + r.errors + r.timeouts + r.non2xx, 0) +
    (scale?.cases ?? []).reduce((a, c) => a + c.errors + c.non2xx, 0) +
    (protocols?.runs ?? []).reduce((a, r) => a + r.errors + r.non2xx, 0);
  if (failures > 0) progress(`warning: ${failures} errors/timeouts/non-2xx responses in measured runs; see ${path.relative(process.cwd(), resultsFile)}`);
}

process.on('exit', killAllNow);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    progress(`${signal}: stopping children`);
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

let settings: Settings | { readonly help: true };
try {
  settings = parseSettings(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n\n${HELP}`);
  process.exit(2);
}
if ('help' in settings) {
  process.stdout.write(HELP);
  process.exit(0);
}
try {
  await main(settings);
  await cleanUp();
} catch (err) {
  // A signal arriving while a run fails: let its handler report the interruption instead.
  await sleep(200);
  if (!interrupted) {
    process.stderr.write(`bench: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await cleanUp();
    process.exit(1);
  }
}
