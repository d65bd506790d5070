/**
 * CPU time and peak memory of a process and its descendants, from Linux /proc. A proxy may be several
 * processes (Switchyard's primary and workers, nginx's master and worker): its cost is the sum over the
 * whole tree, found by walking the ppid of every /proc/<pid>/stat. Elsewhere every reading is null and
 * the report says "n/a" rather than guessing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on practically every Linux). */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** Fields of /proc/<pid>/stat after the command name; index 0 is field 3 (state). */
function statFields(pid: number): string[] | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** `root` and every descendant of it that is alive now; [] when /proc cannot be read. */
export function processTree(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const childrenOf = new Map<number, number[]>();
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const ppid = Number(statFields(pid)?.[1]); // field 4
    if (!Number.isInteger(ppid)) continue;
    const list = childrenOf.get(ppid);
    if (list) list.push(pid);
    else childrenOf.set(ppid, [pid]);
  }
  if (statFields(root) === null) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(childrenOf.get(tree[i]!) ?? []));
  return tree;
}

/** utime + stime of one process, in clock ticks; null when /proc cannot be read. */
export function cpuTicks(pid: number): number | null {
  const fields = statFields(pid);
  if (fields === null) return null;
  // utime is field 14 (index 11), stime field 15 (index 12).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : null;
}

/** CPU ticks of every process of a tree, by pid. */
export type TreeTicks = ReadonlyMap<number, number>;

export function treeCpuTicks(root: number): TreeTicks {
  const ticks = new Map<number, number>();
  for (const pid of processTree(root)) {
    const t = cpuTicks(pid);
    if (t !== null) ticks.set(pid, t);
  }
  return ticks;
}

/**
 * Ticks spent by the tree between two readings: a process that appeared in between counts from zero;
 * one that exited in between is lost (a proxy does not fork per request). null when nothing was read.
 */
export function cpuTicksBetween(before: TreeTicks, after: TreeTicks): number | null {
  if (after.size === 0) return null;
  let total = 0;
  for (const [pid, t] of after) total += t - (before.get(pid) ?? 0);
  return total;
}

const VM_RSS = /^VmRSS:\s+(\d+) kB$/m;
const VM_HWM = /^VmHWM:\s+(\d+) kB$/m;

/** Resident set size now (VmRSS) and its peak (VmHWM) from the text of /proc/<pid>/status, KiB; null where a field is missing. */
export function statusMemoryKiB(status: string): { rssKiB: number | null; hwmKiB: number | null } {
  const rss = VM_RSS.exec(status);
  const hwm = VM_HWM.exec(status);
  return { rssKiB: rss ? Number(rss[1]) : null, hwmKiB: hwm ? Number(hwm[1]) : null };
}

function readStatus(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
}

/** Peak resident set size (VmHWM) of one process in KiB; null when /proc cannot be read. */
export function peakRssKiB(pid: number): number | null {
  const status = readStatus(pid);
  return status === null ? null : statusMemoryKiB(status).hwmKiB;
}

/**
 * The resident set size now (VmRSS) summed over `pids`, KiB; null when none could be read. Summed, not
 * the largest: a proxy of several processes (workers, nginx's master and worker) costs the machine all
 * of them. Pages they share (the Node binary's) count once per process, as RSS counts them.
 */
export function rssSumKiB(pids: readonly number[]): number | null {
  let total: number | null = null;
  for (const pid of pids) {
    const status = readStatus(pid);
    const kib = status === null ? null : statusMemoryKiB(status).rssKiB;
    if (kib !== null) total = (total ?? 0) + kib;
  }
  return total;
}

/** VmRSS summed over `root` and every descendant (one process with threads, or a group), and how many processes that is. */
export function treeRss(root: number): { totalKiB: number | null; processes: number } {
  const tree = processTree(root);
  return { totalKiB: rssSumKiB(tree), processes: tree.length };
}

/**
 * Samples a tree's summed VmRSS every `intervalMs` until stopped, and keeps the largest: the peak
 * under load of the whole proxy at once, which per-process VmHWM cannot give for a group. The tree is
 * read once at the start (a proxy does not fork per request); each sample reads only its status files.
 */
export function sampleTreeRss(root: number, intervalMs = 100): { stop(): { peakKiB: number | null; processes: number } } {
  const pids = processTree(root);
  let peak: number | null = null;
  const sample = (): void => {
    const kib = rssSumKiB(pids);
    if (kib !== null && (peak === null || kib > peak)) peak = kib;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { peakKiB: peak, processes: pids.length };
    },
  };
}

/** The largest VmHWM of any process of the tree (KiB) and how many processes it has. */
export function treePeakRss(root: number): { maxKiB: number | null; processes: number } {
  const tree = processTree(root);
  let maxKiB: number | null = null;
  for (const pid of tree) {
    const kib = peakRssKiB(pid);
    if (kib !== null && (maxKiB === null || kib > maxKiB)) maxKiB = kib;
  }
  return { maxKiB, processes: tree.length };
}
