/**
 * One measured run: the load, with the proxy's and the pods' CPU time read from /proc around it and
 * the proxy's RSS sampled during it and its peak per process after it. CPU is summed over each process tree, so a multi-process proxy counts
 * whole, and it is CPU time, not wall time: it holds even when the load generator competes for the cores.
 */
import { childDied } from './children.ts';
import { cpuTicksBetween, sampleTreeRss, treeCpuTicks, treePeakRss, type TreeTicks } from './proc-stats.ts';
import type { LoadOptions, LoadResult, LoadTool, Target } from './load/types.ts';

export interface Measured extends LoadResult {
  /** The proxy's CPU time (user + system, all its processes) per response, µs; null for direct or without /proc. */
  readonly proxyCpuUsPerRequest: number | null;
  /** Both pods' CPU time per response, µs. */
  readonly podCpuUsPerRequest: number | null;
  /** The largest VmHWM of any of the proxy's processes after the run, KiB. */
  readonly proxyPeakRssKiB: number | null;
  /** The largest VmRSS summed over all the proxy's processes, sampled every 100 ms during the run, KiB. */
  readonly proxyRssKiB: number | null;
  /** How many processes the proxy had after the run. */
  readonly proxyProcesses: number | null;
}

export interface Watched {
  readonly proxyPid: number | null;
  readonly podPids: readonly number[];
  readonly ticksPerSecond: number;
}

function podTicks(pids: readonly number[]): TreeTicks {
  const all = new Map<number, number>();
  for (const pid of pids) for (const [p, t] of treeCpuTicks(pid)) all.set(p, t);
  return all;
}

export async function measure(tool: LoadTool, target: Target, options: LoadOptions, watched: Watched): Promise<Measured> {
  const proxyBefore = watched.proxyPid === null ? null : treeCpuTicks(watched.proxyPid);
  const podsBefore = podTicks(watched.podPids);
  const sampler = watched.proxyPid === null ? null : sampleTreeRss(watched.proxyPid);
  let load: LoadResult;
  let sampled: { peakKiB: number | null } | null = null;
  try {
    load = await Promise.race([tool.run(target, options), childDied]);
  } finally {
    sampled = sampler?.stop() ?? null;
  }
  const proxyAfter = watched.proxyPid === null ? null : treeCpuTicks(watched.proxyPid);
  const podsAfter = podTicks(watched.podPids);
  const perRequestUs = (ticks: number | null): number | null =>
    ticks === null || load.requests === 0 ? null : ((ticks / watched.ticksPerSecond) * 1e6) / load.requests;
  const rss = watched.proxyPid === null ? null : treePeakRss(watched.proxyPid);
  return {
    ...load,
    proxyCpuUsPerRequest: proxyBefore === null || proxyAfter === null ? null : perRequestUs(cpuTicksBetween(proxyBefore, proxyAfter)),
    podCpuUsPerRequest: perRequestUs(cpuTicksBetween(podsBefore, podsAfter)),
    proxyPeakRssKiB: rss?.maxKiB ?? null,
    proxyRssKiB: sampled?.peakKiB ?? null,
    proxyProcesses: rss === null || rss.processes === 0 ? null : rss.processes,
  };
}
