/**
 * The scale run: Switchyard alone (--workers 1 when it has the flag, to isolate the hot path) over many
 * Ingress routes and many endpoints per Service. Every case is its own Switchyard over the same two
 * wildcard-bound pods; the load hits the last-defined route; cases interleave over rounds like the
 * comparison. req/s is reported relative to the first case (10 routes, 3 endpoints) in the same round.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { hasWorkersFlag, startSwitchyard, type SwitchyardInstance } from './candidates/switchyard.ts';
import { autocannonTool } from './load/autocannon.ts';
import type { Target } from './load/types.ts';
import { scaleManifests } from './manifests.ts';
import { measure, type Measured } from './measure.ts';
import { httpGet } from './net.ts';
import { checkPods, scaleEndpointAddress, startWildcardPods } from './pods.ts';
import { progress, runLine } from './progress.ts';
import type { Settings } from './settings.ts';
import { treePeakRss } from './proc-stats.ts';
import { maxOrNull, median, medianOrNull, pairedRatio } from './stats.ts';

export interface ScaleCase {
  readonly routes: number;
  readonly endpoints: number;
  /** Run with Switchyard's default workers (one per core) instead of the run's single worker: the RSS per process of the shipped configuration. */
  readonly defaultWorkers?: true;
}

/** The first is the reference; the rest vary one dimension, then both; the last is 10,000 routes as shipped. */
export const SCALE_CASES: readonly ScaleCase[] = [
  { routes: 10, endpoints: 3 },
  { routes: 1_000, endpoints: 3 },
  { routes: 10_000, endpoints: 3 },
  { routes: 10, endpoints: 100 },
  { routes: 10, endpoints: 1_000 },
  { routes: 10_000, endpoints: 1_000 },
  { routes: 10_000, endpoints: 3, defaultWorkers: true },
];

const sameCase = (a: ScaleCase, b: ScaleCase): boolean => a.routes === b.routes && a.endpoints === b.endpoints && a.defaultWorkers === b.defaultWorkers;

export interface ScaleRun extends Measured, ScaleCase {
  readonly round: number;
}

export interface ScaleCaseResult extends ScaleCase {
  /** The --workers value this case ran with; null when the CLI has no such flag. */
  readonly workers: number | null;
  readonly target: Target;
  readonly manifestBytes: number;
  /** From spawn to the first 200 through the target route. */
  readonly startupMs: number;
  readonly reqPerSec: number;
  /** req/s ÷ the reference case's in the same round, median over rounds. */
  readonly relative: number | null;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly proxyCpuUsPerRequest: number | null;
  /** Largest VmHWM of any Switchyard process once started, before any load, KiB. */
  readonly startupPeakRssKiB: number | null;
  /** Largest VmHWM of any Switchyard process after the measured runs, KiB. */
  readonly proxyPeakRssKiB: number | null;
}

export interface ScaleResult {
  /** The --workers value given, or null when the CLI has no such flag. */
  readonly workers: number | null;
  readonly cases: readonly ScaleCaseResult[];
  readonly runs: readonly ScaleRun[];
}

const caseId = (c: ScaleCase): string => `${c.routes} routes × ${c.endpoints} endpoints${c.defaultWorkers ? `, --workers ${os.availableParallelism()}` : ''}`;

export async function runScale(settings: Settings, scratchRoot: string, ticksPerSecond: number): Promise<ScaleResult> {
  const workers = hasWorkersFlag() ? 1 : null;
  const { pods, port } = await startWildcardPods();
  await checkPods(pods);
  progress(`scale pods on 0.0.0.0:${port} (endpoints 127.0.1.1 … ${scaleEndpointAddress(Math.max(...SCALE_CASES.map((c) => c.endpoints)) - 1)})`);
  const podPids = pods.map((p) => p.child.pid);
  const started: { c: ScaleCase; workers: number | null; sy: SwitchyardInstance; target: Target; manifestBytes: number; startupPeakRssKiB: number | null }[] = [];
  try {
    for (const c of SCALE_CASES) {
      if (c.defaultWorkers && workers === null) continue; // this CLI has one configuration only
      const caseWorkers = c.defaultWorkers ? os.availableParallelism() : workers;
      const dir = path.join(scratchRoot, `scale-${c.routes}-${c.endpoints}${c.defaultWorkers ? '-workers' : ''}`);
      await mkdir(dir, { recursive: true });
      const { file, target } = scaleManifests(c.routes, c.endpoints, port, scaleEndpointAddress);
      await writeFile(path.join(dir, 'scale.yaml'), file);
      progress(`starting switchyard for ${caseId(c)} (${(file.length / 1e6).toFixed(1)} MB of manifests)`);
      const sy = await startSwitchyard({ name: `switchyard-scale-${c.routes}-${c.endpoints}${c.defaultWorkers ? '-workers' : ''}`, manifestDir: dir, workers: caseWorkers, probeHost: target.host, probePath: target.path });
      const t: Target = { url: `http://${sy.address}${target.path}`, headers: { host: target.host } };
      const entry = { c, workers: caseWorkers, sy, target: t, manifestBytes: file.length, startupPeakRssKiB: null as number | null };
      started.push(entry);
      for (let i = 0; i < 3; i++) {
        const r = await httpGet(t.url, { ...t.headers });
        if (r.status !== 200) throw new Error(`scale ${caseId(c)}: ${target.host}${target.path} answered ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`);
      }
      entry.startupPeakRssKiB = treePeakRss(sy.child.pid).maxKiB;
      progress(`  ready in ${(sy.startupMs / 1000).toFixed(2)} s (pid ${sy.child.pid})`);
    }
    const options = (seconds: number) => ({ connections: settings.connections, pipelining: settings.pipelining, seconds });
    for (const s of started) {
      progress(`warm-up scale ${caseId(s.c)} (${settings.warmupSeconds} s, not recorded)`);
      await measure(autocannonTool, s.target, options(settings.warmupSeconds), { proxyPid: s.sy.child.pid, podPids, ticksPerSecond });
      await sleep(settings.pauseMs);
    }
    const runs: ScaleRun[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const shift = (round - 1) % started.length;
      const order = [...started.slice(shift), ...started.slice(0, shift)];
      for (const [i, s] of order.entries()) {
        progress(`scale round ${round}/${settings.rounds} · case ${i + 1}/${order.length}: ${caseId(s.c)} · autocannon (${settings.durationSeconds} s, ${settings.connections} connections)`);
        const m = await measure(autocannonTool, s.target, options(settings.durationSeconds), { proxyPid: s.sy.child.pid, podPids, ticksPerSecond });
        runs.push({ ...s.c, round, ...m });
        progress(runLine(m));
        await sleep(settings.pauseMs);
      }
    }
    const reference = runs.filter((r) => sameCase(r, SCALE_CASES[0]!));
    const cases = started.map(({ c, workers: caseWorkers, sy, target, manifestBytes, startupPeakRssKiB }): ScaleCaseResult => {
      const mine = runs.filter((r) => sameCase(r, c));
      return {
        ...c,
        workers: caseWorkers,
        target,
        manifestBytes,
        startupMs: sy.startupMs,
        reqPerSec: median(mine.map((r) => r.reqPerSec)),
        relative: pairedRatio(mine, reference, (r) => r.reqPerSec).median,
        p50Ms: median(mine.map((r) => r.latencyMs.p50)),
        p99Ms: median(mine.map((r) => r.latencyMs.p99)),
        errors: mine.reduce((a, r) => a + r.errors + r.timeouts, 0),
        non2xx: mine.reduce((a, r) => a + r.non2xx, 0),
        proxyCpuUsPerRequest: medianOrNull(mine.map((r) => r.proxyCpuUsPerRequest)),
        startupPeakRssKiB,
        proxyPeakRssKiB: maxOrNull(mine.map((r) => r.proxyPeakRssKiB)),
      };
    });
    return { workers, cases, runs };
  } finally {
    await Promise.all(started.map((s) => s.sy.child.stop()));
    await Promise.all(pods.map((p) => p.child.stop()));
  }
}
