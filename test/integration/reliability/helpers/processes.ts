/**
 * Every child process a reliability test starts, so that each test can kill what it started
 * (afterEach), whatever happened, and nothing outlives the test worker.
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

export function track(proc: ChildProcess): void {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
}

/** SIGKILLs every tracked child still running and waits until each has exited. */
export async function killAll(): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const proc of children) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      children.delete(proc);
      continue;
    }
    waits.push(new Promise((resolve) => proc.once('exit', () => resolve())));
    proc.kill('SIGKILL');
  }
  await Promise.all(waits);
  children.clear();
}

process.once('exit', () => {
  for (const proc of children) proc.kill('SIGKILL');
});
