/**
 * The scale run: Switchyard alone (--workers 1 when it has the flag, to isolate the hot path) over many
 * Ingress routes and many endpoints per Service, and nginx (1 worker) over 3 and 1,000 upstream servers
 * as a reference for what many endpoints cost any proxy here. Every case is its own proxy over the same
 * two wildcard-bound pods; the Switchyard load hits the last-defined route; cases interleave over rounds
 * like the comparison. req/s is reported relative to the same proxy's first case (Switchyard: 10
 * routes, 3 endpoints; nginx: 3 servers) in the same round.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { startNginx, upstreamKeepalive } from './candidates/nginx.ts';
import { hasWorkersFlag, startSwitchyard } from './candidates/switchyard.ts';
import { autocannonTool } from './load/autocannon.ts';
import type { Target } from './load/types.ts';
import { scaleManifests } from './manifests.ts';
import { measure, type Measured } from './measure.ts';
import { httpGet } from './net.ts';
import { checkPods, scaleEndpointAddress, startWildcardPods } from './pods.ts';
import { progress, runLine } from './progress.ts';
import type { Settings } from './settings.ts';
import { treePeakRss, treeRss } from './proc-stats.ts';
import { maxOrNull, median, medianOrNull, pairedRatio } from './stats.ts';
import { onPath } from './which.ts';

export type ScaleProxy = 'switchyard' | 'nginx';

export interface SwitchyardScaleCase {
  readonly proxy: 'switchyard';
  readonly routes: number;
  readonly endpoints: number;
  /** Run with Switchyard's default workers (one per core) instead of the run's single worker: the RSS per process of the shipped configuration. */
  readonly defaultWorkers?: true;
}

/** nginx with `endpoints` upstream servers behind its one location: it has no routes to scale. */
export interface NginxScaleCase {
  readonly proxy: 'nginx';
  readonly routes: null;
  readonly endpoints: number;
  readonly defaultWorkers?: never;
}

export type ScaleCase = SwitchyardScaleCase | NginxScaleCase;

/**
 * Each proxy's first case is its reference. Switchyard's others vary one dimension, then both; its last
 * is 10,000 routes as shipped. nginx's show what 1,000 warm upstream connections cost a proxy that does
 * not route at all.
 */
export const SCALE_CASES: readonly ScaleCase[] = [
  { proxy: 'switchyard', routes: 10, endpoints: 3 },
  { proxy: 'switchyard', routes: 1_000, endpoints: 3 },
  { proxy: 'switchyard', routes: 10_000, endpoints: 3 },
  { proxy: 'switchyard', routes: 10, endpoints: 100 },
  { proxy: 'switchyard', routes: 10, endpoints: 1_000 },
  { proxy: 'switchyard', routes: 10_000, endpoints: 1_000 },
  { proxy: 'switchyard', routes: 10_000, endpoints: 3, defaultWorkers: true },
  { proxy: 'nginx', routes: null, endpoints: 3 },
  { proxy: 'nginx', routes: null, endpoints: 1_000 },
];

export const sameCase = (a: ScaleCase, b: ScaleCase): boolean =>
  a.proxy === b.proxy && a.routes === b.routes && a.endpoints === b.endpoints && a.defaultWorkers === b.defaultWorkers;

/** The case whose req/s the proxy's other cases are divided by. */
const referenceOf = (proxy: ScaleProxy): ScaleCase => SCALE_CASES.find((c) => c.proxy === proxy)!;

/** What --quick keeps: 10,000 routes (its RSS is a row of the summary) and the reference its req/s is divided by. */
const QUICK_CASES: readonly ScaleCase[] = [SCALE_CASES[0]!, SCALE_CASES[2]!];

/**
 * The cases this machine can run, and why any are left out: the default-workers case needs --workers,
 * nginx's need nginx on PATH; `quick` keeps QUICK_CASES only (default false).
 */
export function plannedScaleCases(quick = false): { cases: ScaleCase[]; notes: string[] } {
  if (quick) return { cases: [...QUICK_CASES], notes: ['--quick: the scale run has 10 and 10,000 routes × 3 endpoints only'] };
  const notes: string[] = [];
  const nginx = onPath('nginx') !== null;
  if (!nginx) notes.push('nginx is not on PATH: the nginx reference cases of the scale run are skipped (apt-get install nginx to include them)');
  const cases = SCALE_CASES.filter((c) => (c.proxy === 'nginx' ? nginx : !c.defaultWorkers || hasWorkersFlag()));
  return { cases, notes };
}

export type ScaleRun = ScaleCase & Measured & { readonly round: number };

export interface ScaleFigures {
  /** Switchyard: the --workers value this case ran with, null when the CLI has no such flag; nginx: worker_processes. */
  readonly workers: number | null;
  readonly target: Target;
  /** Size of the manifests Switchyard read; null for nginx. */
  readonly manifestBytes: number | null;
  /** From spawn to the first 200 through the target. */
  readonly startupMs: number;
  readonly reqPerSec: number;
  /** req/s ÷ the same proxy's reference case's in the same round, median over rounds. */
  readonly relative: number | null;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly proxyCpuUsPerRequest: number | null;
  /** Largest VmHWM of any of the proxy's processes once started, before any load, KiB. */
  readonly startupPeakRssKiB: number | null;
  /** Largest VmHWM of any of the proxy's processes after the measured runs, KiB. */
  readonly proxyPeakRssKiB: number | null;
  /** VmRSS summed over the proxy's processes at rest (every case started, no load yet), KiB. */
  readonly restRssKiB: number | null;
  /** Largest VmRSS summed over the proxy's processes, sampled during the measured runs, KiB. */
  readonly loadRssKiB: number | null;
  readonly processes: number | null;
}

export type ScaleCaseResult = ScaleCase & ScaleFigures;

export interface ScaleResult {
  /** The --workers value given to Switchyard, or null when the CLI has no such flag. */
  readonly workers: number | null;
  readonly cases: readonly ScaleCaseResult[];
  readonly runs: readonly ScaleRun[];
  /** Cases left out, and why. */
  readonly notes: readonly string[];
}

/** A case's proxy, started and answering. */
interface StartedCase {
  readonly c: ScaleCase;
  readonly workers: number | null;
  /** Root of the proxy's process tree: Switchyard's primary, nginx's master. */
  readonly pid: number;
  readonly target: Target;
  readonly manifestBytes: number | null;
  readonly startupMs: number;
  startupPeakRssKiB: number | null;
  rest: { readonly totalKiB: number | null; readonly processes: number } | null;
  stop(): Promise<void>;
}

/** The Host nginx's server_name and the load carry. */
const NGINX_HOST = 'nginx.scale.local';

const caseId = (c: ScaleCase): string =>
  c.proxy === 'nginx'
    ? `nginx over ${c.endpoints} upstream servers`
    : `${c.routes} routes × ${c.endpoints} endpoints${c.defaultWorkers ? `, --workers ${os.availableParallelism()}` : ''}`;

/** For scratch directories and child names. */
const caseSlug = (c: ScaleCase): string => (c.proxy === 'nginx' ? `nginx-${c.endpoints}` : `${c.routes}-${c.endpoints}${c.defaultWorkers ? '-workers' : ''}`);

async function startSwitchyardCase(c: SwitchyardScaleCase, dir: string, port: number, workers: number | null): Promise<StartedCase> {
  const caseWorkers = c.defaultWorkers ? os.availableParallelism() : workers;
  const { file, target } = scaleManifests(c.routes, c.endpoints, port, scaleEndpointAddress);
  await writeFile(path.join(dir, 'scale.yaml'), file);
  progress(`starting switchyard for ${caseId(c)} (${(file.length / 1e6).toFixed(1)} MB of manifests)`);
  const sy = await startSwitchyard({ name: `switchyard-scale-${caseSlug(c)}`, manifestDir: dir, workers: caseWorkers, probeHost: target.host, probePath: target.path });
  const t: Target = { url: `http://${sy.address}${target.path}`, headers: { host: target.host } };
  return { c, workers: caseWorkers, pid: sy.child.pid, target: t, manifestBytes: file.length, startupMs: sy.startupMs, startupPeakRssKiB: null, rest: null, stop: () => sy.child.stop() };
}

async function startNginxCase(c: NginxScaleCase, dir: string, port: number): Promise<StartedCase> {
  const nginx = onPath('nginx');
  if (nginx === null) throw new Error(`scale ${caseId(c)}: nginx is no longer on PATH`);
  const upstreams = Array.from({ length: c.endpoints }, (_, i) => ({ address: scaleEndpointAddress(i), port }));
  const keepalive = upstreamKeepalive(c.endpoints);
  progress(`starting nginx for ${caseId(c)} (keepalive ${keepalive})`);
  const n = await startNginx({ nginx, name: `nginx-scale-${c.endpoints}`, scratchDir: dir, host: NGINX_HOST, upstreams, keepalive });
  return { c, workers: 1, pid: n.child.pid, target: n.target, manifestBytes: null, startupMs: n.startupMs, startupPeakRssKiB: null, rest: null, stop: () => n.child.stop() };
}

/** Refuses to measure a case before its target answers 200. */
async function preflight(s: StartedCase): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const r = await httpGet(s.target.url, { ...s.target.headers });
    if (r.status !== 200) throw new Error(`scale ${caseId(s.c)}: ${s.target.headers.host}${new URL(s.target.url).pathname} answered ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`);
  }
}

function caseResult(s: StartedCase, runs: readonly ScaleRun[]): ScaleCaseResult {
  const mine = runs.filter((r) => sameCase(r, s.c));
  const reference = runs.filter((r) => sameCase(r, referenceOf(s.c.proxy)));
  return {
    ...s.c,
    workers: s.workers,
    target: s.target,
    manifestBytes: s.manifestBytes,
    startupMs: s.startupMs,
    reqPerSec: median(mine.map((r) => r.reqPerSec)),
    relative: pairedRatio(mine, reference, (r) => r.reqPerSec).median,
    p50Ms: median(mine.map((r) => r.latencyMs.p50)),
    p99Ms: median(mine.map((r) => r.latencyMs.p99)),
    errors: mine.reduce((a, r) => a + r.errors + r.timeouts, 0),
    non2xx: mine.reduce((a, r) => a + r.non2xx, 0),
    proxyCpuUsPerRequest: medianOrNull(mine.map((r) => r.proxyCpuUsPerRequest)),
    startupPeakRssKiB: s.startupPeakRssKiB,
    proxyPeakRssKiB: maxOrNull(mine.map((r) => r.proxyPeakRssKiB)),
    restRssKiB: s.rest?.totalKiB ?? null,
    loadRssKiB: maxOrNull(mine.map((r) => r.proxyRssKiB)),
    processes: s.rest === null || s.rest.processes === 0 ? null : s.rest.processes,
  };
}

export async function runScale(settings: Settings, scratchRoot: string, ticksPerSecond: number): Promise<ScaleResult> {
  const workers = hasWorkersFlag() ? 1 : null;
  const { cases, notes } = plannedScaleCases(settings.quick);
  for (const note of notes) progress(`note: ${note}`);
  const { pods, port } = await startWildcardPods();
  await checkPods(pods);
  progress(`scale pods on 0.0.0.0:${port} (endpoints 127.0.1.1 … ${scaleEndpointAddress(Math.max(...cases.map((c) => c.endpoints)) - 1)})`);
  const podPids = pods.map((p) => p.child.pid);
  const started: StartedCase[] = [];
  try {
    for (const c of cases) {
      const dir = path.join(scratchRoot, `scale-${caseSlug(c)}`);
      await mkdir(dir, { recursive: true });
      const s = c.proxy === 'nginx' ? await startNginxCase(c, dir, port) : await startSwitchyardCase(c, dir, port, workers);
      started.push(s);
      await preflight(s);
      s.startupPeakRssKiB = treePeakRss(s.pid).maxKiB;
      progress(`  ready in ${(s.startupMs / 1000).toFixed(2)} s (pid ${s.pid})`);
    }
    // At rest as in the comparison: every case up and idle for a second, before any load.
    await sleep(1000);
    for (const s of started) s.rest = treeRss(s.pid);
    const options = (seconds: number) => ({ connections: settings.connections, pipelining: settings.pipelining, seconds });
    for (const s of started) {
      progress(`warm-up scale ${caseId(s.c)} (${settings.warmupSeconds} s, not recorded)`);
      await measure(autocannonTool, s.target, options(settings.warmupSeconds), { proxyPid: s.pid, podPids, ticksPerSecond });
      await sleep(settings.pauseMs);
    }
    const runs: ScaleRun[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const shift = (round - 1) % started.length;
      const order = [...started.slice(shift), ...started.slice(0, shift)];
      for (const [i, s] of order.entries()) {
        progress(`scale round ${round}/${settings.rounds} · case ${i + 1}/${order.length}: ${caseId(s.c)} · autocannon (${settings.durationSeconds} s, ${settings.connections} connections)`);
        const m = await measure(autocannonTool, s.target, options(settings.durationSeconds), { proxyPid: s.pid, podPids, ticksPerSecond });
        runs.push({ ...s.c, round, ...m });
        progress(runLine(m));
        await sleep(settings.pauseMs);
      }
    }
    return { workers, cases: started.map((s) => caseResult(s, runs)), runs, notes };
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await Promise.all(pods.map((p) => p.child.stop()));
  }
}
