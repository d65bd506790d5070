/**
 * The comparison: the same load, interleaved over rounds, at a pod directly and through each proxy.
 * Each round runs every candidate once per load tool, starting one candidate later than the round
 * before, so no candidate always runs first (or last) after the pause.
 */
import { mkdtemp } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { plannedCandidates } from './candidates/index.ts';
import type { CandidateSpec, RunningCandidate } from './candidates/types.ts';
import type { LoadTool } from './load/types.ts';
import { measure, type Watched } from './measure.ts';
import { httpGet } from './net.ts';
import { checkPods, startPods, type Pod } from './pods.ts';
import { treeRss } from './proc-stats.ts';
import { progress, runLine } from './progress.ts';
import type { Settings } from './settings.ts';
import type { ComparisonRun } from './summary.ts';

/** The Host every request carries; the proxies route it to the pods. */
export const HOST = 'bench.local';

/** A candidate as the results list it; RSS at rest is read once every candidate is up, before any load. */
export interface ComparisonCandidate {
  readonly id: string;
  readonly label: string;
  readonly setup: string;
  /** VmRSS summed over the proxy's processes at rest (started, preflight answered, no load yet), KiB; null for direct or without /proc. */
  readonly restRssKiB: number | null;
  readonly restProcesses: number | null;
}

/** How long every candidate idles after the last one started, before RSS at rest is read. */
const SETTLE_MS = 1000;

export interface ComparisonResult {
  readonly candidates: readonly ComparisonCandidate[];
  readonly pods: readonly string[];
  readonly notes: readonly string[];
  readonly runs: readonly ComparisonRun[];
}

/** Refuses to measure a candidate before requests through it answer from the pods as expected. */
async function preflight(spec: CandidateSpec, running: RunningCandidate, pods: readonly Pod[]): Promise<void> {
  const seen = new Set<string>();
  for (let i = 0; i < 2 * pods.length; i++) {
    const r = await httpGet(running.target.url, { ...running.target.headers });
    if (r.status !== 200 || !r.body.startsWith('ok ')) throw new Error(`${spec.id} answered ${r.status} ${JSON.stringify(r.body.slice(0, 200))} for ${running.target.url}`);
    seen.add(r.body.trim());
  }
  if (running.spreadsOverPods && seen.size !== pods.length) throw new Error(`${spec.id} sent every request to ${[...seen].join(', ')}; expected all ${pods.length} pods`);
}

export async function runComparison(settings: Settings, tools: readonly LoadTool[], scratchRoot: string, ticksPerSecond: number): Promise<ComparisonResult> {
  const { specs, notes } = plannedCandidates(settings.only);
  for (const note of notes) progress(`note: ${note}`);
  if (specs.length === 0) throw new Error('no comparison candidate left to run');

  const pods = await startPods();
  await checkPods(pods);
  progress(`pods ${pods.map((p) => `${p.name}=${p.address}:${p.port}`).join(' ')}`);
  const running = new Map<string, RunningCandidate>();
  try {
    for (const spec of specs) {
      progress(`starting ${spec.id}`);
      const scratchDir = await mkdtemp(path.join(scratchRoot, `${spec.id}-`));
      const r = await spec.start({ pods, scratchDir, host: HOST });
      running.set(spec.id, r);
      await preflight(spec, r, pods);
      progress(`  ${spec.id} at ${r.target.url}${r.proxyPid === null ? '' : ` (pid ${r.proxyPid})`}`);
    }
    await sleep(SETTLE_MS);
    const rest = new Map(specs.map((spec) => {
      const pid = running.get(spec.id)!.proxyPid;
      const r = pid === null ? null : treeRss(pid);
      return [spec.id, { restRssKiB: r?.totalKiB ?? null, restProcesses: r === null || r.processes === 0 ? null : r.processes }] as const;
    }));
    const podPids = pods.map((p) => p.child.pid);
    const watchedOf = (r: RunningCandidate): Watched => ({ proxyPid: r.proxyPid, podPids, ticksPerSecond });
    const options = (seconds: number) => ({ connections: settings.connections, pipelining: settings.pipelining, seconds });

    for (const spec of specs) {
      for (const tool of tools) {
        progress(`warm-up ${spec.id} · ${tool.name} (${settings.warmupSeconds} s, not recorded)`);
        await measure(tool, running.get(spec.id)!.target, options(settings.warmupSeconds), watchedOf(running.get(spec.id)!));
        await sleep(settings.pauseMs);
      }
    }

    const runs: ComparisonRun[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const shift = (round - 1) % specs.length;
      const order = [...specs.slice(shift), ...specs.slice(0, shift)];
      for (const [i, spec] of order.entries()) {
        const r = running.get(spec.id)!;
        for (const tool of tools) {
          progress(`round ${round}/${settings.rounds} · candidate ${i + 1}/${order.length}: ${spec.id} · ${tool.name} (${settings.durationSeconds} s, ${settings.connections} connections)`);
          const m = await measure(tool, r.target, options(settings.durationSeconds), watchedOf(r));
          runs.push({ candidate: spec.id, round, ...m });
          progress(runLine(m));
          await sleep(settings.pauseMs);
        }
      }
    }
    return {
      candidates: specs.map(({ id, label, setup }) => ({ id, label, setup, ...rest.get(id)! })),
      pods: pods.map((p) => `${p.address}:${p.port}`),
      notes,
      runs,
    };
  } finally {
    await Promise.all([...running.values()].map((r) => r.stop()));
    await Promise.all(pods.map((p) => p.child.stop()));
  }
}
