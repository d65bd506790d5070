/**
 * One measured run of a protocols-run case: the load, with the proxy's and the pods' CPU time read from
 * /proc around it (whole process trees) and the proxy's peak RSS after it. The CPU window is the load
 * tool's whole run, so it also holds the tool's connection set-up (≤ --connections connections, once per
 * run); the operations are those inside the tool's measured window.
 */
import { childDied } from '../children.ts';
import { cpuTicksBetween, treeCpuTicks, treePeakRss, type TreeTicks } from '../proc-stats.ts';
import type { CaseOutcome, ProtocolCase, ProtocolRun } from './types.ts';

function ticksOf(pids: readonly number[]): TreeTicks {
  const all = new Map<number, number>();
  for (const pid of pids) for (const [p, t] of treeCpuTicks(pid)) all.set(p, t);
  return all;
}

/** Derived figures of a run from its outcome and the CPU ticks spent (pure). */
export function derive(outcome: CaseOutcome, proxyTicks: number | null, podTicks: number | null, ticksPerSecond: number): Pick<ProtocolRun, 'opsPerSec' | 'proxyCpuUsPerOp' | 'opsPerProxyCpuSecond' | 'proxyCores' | 'podCpuUsPerOp'> {
  const seconds = (ticks: number | null): number | null => (ticks === null ? null : ticks / ticksPerSecond);
  const proxyCpu = seconds(proxyTicks);
  const podCpu = seconds(podTicks);
  const perOpUs = (cpu: number | null): number | null => (cpu === null || outcome.ops === 0 ? null : (cpu * 1e6) / outcome.ops);
  return {
    opsPerSec: outcome.seconds > 0 ? outcome.ops / outcome.seconds : NaN,
    proxyCpuUsPerOp: perOpUs(proxyCpu),
    opsPerProxyCpuSecond: proxyCpu === null || proxyCpu === 0 ? null : outcome.ops / proxyCpu,
    proxyCores: proxyCpu === null || outcome.seconds <= 0 ? null : proxyCpu / outcome.seconds,
    podCpuUsPerOp: perOpUs(podCpu),
  };
}

export async function measureCase(c: ProtocolCase, round: number, seconds: number, ticksPerSecond: number): Promise<ProtocolRun> {
  const proxyBefore = c.proxyPid === null ? null : treeCpuTicks(c.proxyPid);
  const podsBefore = ticksOf(c.podPids);
  const outcome = await Promise.race([c.run(seconds), childDied]);
  const proxyTicks = c.proxyPid === null || proxyBefore === null ? null : cpuTicksBetween(proxyBefore, treeCpuTicks(c.proxyPid));
  const podTicks = cpuTicksBetween(podsBefore, ticksOf(c.podPids));
  const rss = c.proxyPid === null ? null : treePeakRss(c.proxyPid).maxKiB;
  return {
    id: c.id,
    section: c.section,
    variant: c.variant,
    proxy: c.proxy,
    tool: c.tool,
    round,
    ...outcome,
    ...derive(outcome, proxyTicks, podTicks, ticksPerSecond),
    proxyPeakRssKiB: rss,
  };
}
