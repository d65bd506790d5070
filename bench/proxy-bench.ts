/**
 * End-to-end proxy bench: what does a request through Switchyard cost, next to the same request sent
 * straight to a pod?
 *
 *   npm run bench                      # 3 rounds × 10 s × 50 connections per candidate (~1 min)
 *   npm run bench -- --quick           # smoke test: 1 round × 2 s
 *   npm run bench -- --duration 20 --connections 100 --rounds 5
 *
 * Flags:
 *   --duration SECONDS   length of each measured run                              [default: 10]
 *   --connections N      concurrent keep-alive connections, pipelining 1          [default: 50]
 *   --rounds N           rounds; each round runs every candidate once             [default: 3]
 *   --quick              --duration 2 --rounds 1 (explicit flags still win)
 *   -h, --help           show this help
 *
 * Set-up: two "pods" (bench/pod-server.ts, each its own process) on 127.0.0.2 and 127.0.0.3; a temp
 * manifest dir with a Service, an EndpointSlice of both pods and an Ingress for bench.local /; the real
 * CLI (bin/switchyard.js) as a child process on 127.0.0.1:0. autocannon runs in this process.
 * Candidates, interleaved in each round, with a short pause between runs:
 *   direct      → pod 1 (the ceiling: one node:http server, no hop)
 *   switchyard  → the ingress listener with Host: bench.local, round-robin over both pods
 * One unrecorded 1 s warm-up per candidate runs first, so round 1 does not measure JIT warm-up.
 *
 * Reported per candidate (median over rounds): req/s (responses ÷ run time), p50/p99 latency of 2xx
 * responses (µs resolution), errors and non-2xx (totals), Switchyard/direct req/s (of the medians and per
 * round); Switchyard's CPU time per request (utime+stime from /proc/<pid>/stat around each run ÷
 * responses) and its peak RSS (VmHWM). Output: a markdown table on stdout, bench/results/latest.json;
 * progress on stderr.
 *
 * Files: setup.ts (pods, manifests, the CLI, preflight), pod-server.ts (a pod), children.ts (start/stop
 * of child processes), proc-stats.ts (/proc readings), report.ts (medians, tables, result shapes).
 *
 * Only loopback traffic; every child is stopped on exit, error and Ctrl-C. Linux: the whole of 127/8 is
 * loopback there, and the CPU/RSS figures need /proc (elsewhere they read "n/a"). The proxy, the pods and
 * the load generator share the machine's cores, so compare results from the same machine only.
 */
import autocannon from 'autocannon';
import { createHistogram } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, rename } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { childDied, killAllNow, stopAll } from './children.ts';
import { clockTicksPerSecond, cpuTicks, peakRssKiB } from './proc-stats.ts';
import { HOST, POD_ADDRESSES, preflight, startPods, startSwitchyard, manifests } from './setup.ts';
import { markdownReport, summarizeRounds, type Candidate, type Round, type RunResult } from './report.ts';

const HELP = `Usage: npm run bench -- [options]   (or: node bench/proxy-bench.ts [options], Node 24)

Benchmarks Switchyard against a direct connection to a pod, with autocannon, on loopback only.

Options:
  --duration SECONDS   length of each measured run                              [default: 10]
  --connections N      concurrent keep-alive connections, pipelining 1          [default: 50]
  --rounds N           rounds; each round runs every candidate once             [default: 3]
  --quick              --duration 2 --rounds 1, a smoke test (explicit flags still win)
  -h, --help           show this help

Prints a markdown table on stdout and writes bench/results/latest.json.
`;

const PAUSE_MS = 500;
const WARMUP_SECONDS = 1;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.dirname(benchDir);
const resultsFile = path.join(benchDir, 'results', 'latest.json');

interface Settings {
  readonly durationSeconds: number;
  readonly connections: number;
  readonly rounds: number;
  readonly pipelining: 1;
  readonly warmupSeconds: number;
  readonly pauseMs: number;
  readonly host: string;
}

function parseSettings(argv: readonly string[]): Settings | { readonly help: true } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  const errors: string[] = [];
  const number = (flag: string, value: string | undefined, fallback: number, integer: boolean, max: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
      errors.push(`--${flag}: ${JSON.stringify(value)} is not ${integer ? `a whole number from 1 to ${max}` : `a number above 0, at most ${max}`}`);
    }
    return n;
  };
  const settings: Settings = {
    durationSeconds: number('duration', values.duration, values.quick ? 2 : 10, false, 3600),
    connections: number('connections', values.connections, 50, true, 10_000),
    rounds: number('rounds', values.rounds, values.quick ? 1 : 3, true, 100),
    pipelining: 1,
    warmupSeconds: WARMUP_SECONDS,
    pauseMs: PAUSE_MS,
    host: HOST,
  };
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return settings;
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

let currentLoad: autocannon.Instance | undefined;

interface Load {
  readonly result: autocannon.Result;
  readonly latencyMs: RunResult['latencyMs'];
}

function load(url: string, headers: Record<string, string>, settings: Settings, seconds: number): Promise<Load> {
  // autocannon's own latency histogram keeps whole milliseconds, too coarse for a loopback hop; this one keeps µs.
  const histogram = createHistogram();
  const run = new Promise<Load>((resolve, reject) => {
    const instance = autocannon({ url, headers, connections: settings.connections, pipelining: settings.pipelining, duration: seconds }, (err: unknown, result) => {
      currentLoad = undefined;
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else {
        const p = (q: number): number => histogram.percentile(q) / 1000;
        resolve({ result, latencyMs: { mean: histogram.count === 0 ? NaN : histogram.mean / 1000, p50: p(50), p90: p(90), p99: p(99), max: histogram.count === 0 ? NaN : histogram.max / 1000 } });
      }
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) histogram.record(Math.max(1, Math.round(responseTime * 1000)));
    });
    currentLoad = instance;
  });
  return Promise.race([run, childDied]);
}

interface Watched {
  readonly proxyPid: number;
  readonly podPids: readonly number[];
  readonly ticksPerSecond: number;
}

async function measure(candidate: Candidate, round: number, url: string, headers: Record<string, string>, settings: Settings, w: Watched): Promise<RunResult> {
  const ticks = (pids: readonly number[]): number | null => {
    let total = 0;
    for (const pid of pids) {
      const t = cpuTicks(pid);
      if (t === null) return null;
      total += t;
    }
    return total;
  };
  const proxyBefore = ticks([w.proxyPid]);
  const podsBefore = ticks(w.podPids);
  const { result, latencyMs } = await load(url, headers, settings, settings.durationSeconds);
  const proxyAfter = ticks([w.proxyPid]);
  const podsAfter = ticks(w.podPids);
  const requests = result.requests.total;
  const perRequest = (before: number | null, after: number | null): number | null =>
    before === null || after === null || requests === 0 ? null : (((after - before) / w.ticksPerSecond) * 1e6) / requests;
  return {
    candidate,
    round,
    url,
    seconds: result.duration,
    requests,
    reqPerSec: requests / result.duration,
    latencyMs,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    proxyCpuUsPerRequest: candidate === 'switchyard' ? perRequest(proxyBefore, proxyAfter) : null,
    podCpuUsPerRequest: perRequest(podsBefore, podsAfter),
    proxyPeakRssKiB: candidate === 'switchyard' ? peakRssKiB(w.proxyPid) : null,
  };
}

// ---- main ---------------------------------------------------------------------------------------

function gitRevision(): { commit: string | null; dirty: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

let tempDir: string | undefined;

async function cleanUp(): Promise<void> {
  currentLoad?.stop();
  await stopAll();
  if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

async function main(settings: Settings): Promise<void> {
  const ticksPerSecond = clockTicksPerSecond();
  // The proxy, the pods and autocannon already compete for the cores; anything else busy skews them more.
  const loadAtStart = os.loadavg()[0] ?? 0;
  if (loadAtStart > 0.5) progress(`warning: 1-min load average is ${loadAtStart.toFixed(2)} before the bench starts; other processes will skew the numbers`);
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-bench-'));

  progress(`starting pods on ${POD_ADDRESSES.join(', ')}`);
  const pods = await startPods();
  await writeFile(path.join(tempDir, 'bench.yaml'), manifests(pods));
  progress(`starting switchyard (manifests in ${tempDir})`);
  const proxy = await startSwitchyard(tempDir);
  await preflight(pods, proxy.ingress);
  const pod1 = pods[0]!;
  progress(`pods ${pods.map((p) => `${p.name}=${p.address}:${p.port}`).join(' ')}, switchyard ingress ${proxy.ingress} (pid ${proxy.child.pid})`);

  const targets: Record<Candidate, { url: string; headers: Record<string, string> }> = {
    direct: { url: `http://${pod1.address}:${pod1.port}/`, headers: {} },
    switchyard: { url: `http://${proxy.ingress}/`, headers: { host: HOST } },
  };
  const candidates: readonly Candidate[] = ['direct', 'switchyard'];
  const watched: Watched = { proxyPid: proxy.child.pid, podPids: pods.map((p) => p.child.pid), ticksPerSecond };

  for (const c of candidates) {
    progress(`warm-up ${c} (${settings.warmupSeconds} s, not recorded)`);
    await load(targets[c].url, targets[c].headers, settings, settings.warmupSeconds);
    await sleep(settings.pauseMs);
  }

  const rounds: Round[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const runs = {} as Record<Candidate, RunResult>;
    for (const c of candidates) {
      progress(`round ${round}/${settings.rounds}: ${c} (${settings.durationSeconds} s, ${settings.connections} connections)`);
      const r = await measure(c, round, targets[c].url, targets[c].headers, settings, watched);
      runs[c] = r;
      progress(`  ${Math.round(r.reqPerSec)} req/s, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms, errors ${r.errors + r.timeouts}, non-2xx ${r.non2xx}`);
      await sleep(settings.pauseMs);
    }
    rounds.push({ round, direct: runs.direct, switchyard: runs.switchyard, ratio: runs.switchyard.reqPerSec / runs.direct.reqPerSec });
  }

  const summary = summarizeRounds(rounds);
  const cpus = os.cpus();
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, totalMemoryBytes: os.totalmem(), platform: `${os.platform()} ${os.release()}`, loadAverage1m: { atStart: loadAtStart, atEnd: os.loadavg()[0] ?? 0 } },
    switchyard: gitRevision(),
    settings: { ...settings, pods: pods.map((p) => `${p.address}:${p.port}`), directTarget: 'pod-1', clockTicksPerSecond: ticksPerSecond },
    rounds,
    medians: summary.medians,
    ratios: summary.ratios,
    proxyPeakRssKiB: summary.proxyPeakRssKiB,
  };
  await mkdir(path.dirname(resultsFile), { recursive: true });
  const tmp = resultsFile.replace(/\.json$/, '.tmp.json');
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`);
  await rename(tmp, resultsFile);

  const heading = `### Switchyard vs direct — ${settings.connections} connections, ${settings.rounds} × ${settings.durationSeconds} s, Node ${process.version}, ${cpus.length} × ${report.machine.cpu}`;
  process.stdout.write(markdownReport(rounds, summary, heading));
  progress(`wrote ${path.relative(process.cwd(), resultsFile)}`);
  const failures = summary.medians.switchyard.errors + summary.medians.switchyard.timeouts + summary.medians.switchyard.non2xx + summary.medians.direct.errors + summary.medians.direct.timeouts + summary.medians.direct.non2xx;
  if (failures > 0) progress(`warning: ${failures} errors/timeouts/non-2xx responses; see ${path.relative(process.cwd(), resultsFile)}`);
}

process.on('exit', killAllNow);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
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
  // On Ctrl-C the whole process group gets SIGINT: a pod may exit (and fail the run) just before this
  // process handles its own SIGINT. Give the signal handler a moment, so that reads as an interruption.
  await sleep(200);
  if (!interrupted) {
    process.stderr.write(`bench: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await cleanUp();
    process.exit(1);
  }
}
