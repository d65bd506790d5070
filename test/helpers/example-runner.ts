/**
 * Runs an example runner (examples/<name>/run.ts) as a user would, in its own process group so a
 * failed test can kill Switchyard with it, and waits for the printout that ends in "Ctrl-C stops everything."
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { defer } from './cleanup.ts';
import { REPO_ROOT, type ExitResult, type HostPort } from './switchyard.ts';
import { withTimeout } from './wait.ts';

/** `host:port` → HostPort. */
export function hostPort(address: string): HostPort {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

/** Starts the runner in its own process group (so a failed test can kill Switchyard with it) and waits for its printout. */
export async function startExampleRunner(runner: string, args: readonly string[]): Promise<{ output: () => string; exited: Promise<ExitResult>; interrupt: () => void }> {
  const child = spawn(process.execPath, [runner, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
  const exited = new Promise<ExitResult>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // The whole group: Switchyard too, should the runner have died without stopping it.
  defer(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // ESRCH: everything already exited.
    }
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => output.includes('Ctrl-C stops everything.') && resolve());
    void exited.then((r) => reject(new Error(`the runner exited (${r.code ?? r.signal}) before it was ready:\n${output}`)));
  });
  await withTimeout(ready, 20_000, `${runner} printing its commands`).catch((err: Error) => {
    throw new Error(`${err.message}; its output so far:\n${output}`);
  });
  // With --free-ports the runner loads a temporary copy of the manifests, which a killed runner leaves behind.
  const copy = /^Manifests: (\S+) \(a copy/m.exec(output)?.[1];
  if (copy !== undefined) defer(() => rm(copy, { recursive: true, force: true }));
  return { output: () => output, exited, interrupt: () => child.kill('SIGINT') };
}

