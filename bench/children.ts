/**
 * Child processes of the bench (pods, proxies, nginx, wrk): start one and wait until it is ready, notice
 * when one dies mid-run, and stop them — one by one, all at once on success or error, and on Ctrl-C.
 *
 * Every child is spawned in its own process group (detached), so a proxy that forks (Switchyard's
 * workers, nginx's master and worker) is stopped as a whole: SIGTERM to the leader, then SIGKILL to the
 * group for whatever is left. It also keeps the terminal's Ctrl-C away from the children: the bench
 * handles SIGINT and stops them itself. What is still alive when the bench exits is killed synchronously
 * from the `exit` hook. Pods and the baseline proxies also exit when their stdin closes, which covers a
 * bench killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** The last stderr output, for error messages. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL to the whole group after `graceMs`; resolves when the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions<T> {
  readonly name: string;
  /** The executable; a Node script runs with `process.execPath` (the bench's own Node 24). */
  readonly command: string;
  readonly args: readonly string[];
  /** Ready when a stdout line makes this return a value. */
  readonly readyLine?: (line: string) => T | undefined;
  /** Ready when this resolves to a value; polled every 100 ms (for children that print nothing). */
  readonly probe?: () => Promise<T | undefined>;
  /** Every stdout line that readyLine did not take. */
  readonly onLine?: (line: string) => void;
  readonly timeoutMs: number;
  /** Variables set for this child on top of the bench's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

interface Tracked {
  readonly name: string;
  readonly proc: ChildProcess;
  stopping: boolean;
}

const tracked = new Set<Tracked>();
let rejectDied: (err: Error) => void = () => undefined;

/** Rejects when a ready child exits while the bench still needs it. Never resolves. */
export const childDied: Promise<never> = new Promise<never>((_resolve, reject) => {
  rejectDied = reject;
});
// Only awaited inside races; without this an early death with nobody racing would be "unhandled".
childDied.catch(() => undefined);

function alive(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function spawnTracked(name: string, command: string, args: readonly string[], env?: Readonly<Record<string, string>>): { t: Tracked; proc: ChildProcess } {
  const proc = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: env === undefined ? process.env : { ...process.env, ...env } });
  // An EPIPE on a child that already died must not crash the bench.
  proc.stdin?.on('error', () => undefined);
  const t: Tracked = { name, proc, stopping: false };
  tracked.add(t);
  proc.once('exit', () => {
    tracked.delete(t);
    // Leftovers of a leader that died (a worker, an nginx worker) go with it.
    killGroup(proc.pid, 'SIGKILL');
  });
  return { t, proc };
}

function stopTracked(t: Tracked, graceMs: number): Promise<void> {
  t.stopping = true;
  const { proc } = t;
  return new Promise<void>((resolve) => {
    if (!alive(proc)) {
      killGroup(proc.pid, 'SIGKILL');
      return resolve();
    }
    const timer = setTimeout(() => killGroup(proc.pid, 'SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
    proc.stdin?.end();
  });
}

/** Spawns a child and resolves once it is ready; rejects with its stderr if it exits or times out first. */
export function startChild<T>(options: StartOptions<T>): Promise<{ child: Child; value: T }> {
  const { t, proc } = spawnTracked(options.name, options.command, options.args, options.env);
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const child: Child = {
    name: options.name,
    pid: proc.pid ?? -1,
    stderrTail: () => stderr.trim(),
    stop: (graceMs = 3000) => stopTracked(t, graceMs),
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stopTracked(t, 500);
      const tail = child.stderrTail();
      reject(new Error(`${options.name}: ${message}${tail ? `\n--- stderr of ${options.name} ---\n${tail}` : ''}`));
    };
    const succeed = (value: T): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ child, value });
    };
    const timer = setTimeout(() => fail(`did not start within ${options.timeoutMs / 1000} s`), options.timeoutMs);

    proc.once('error', (err) => fail(`could not be spawned: ${err.message}`));
    proc.once('exit', (code, signal) => {
      if (!settled) fail(`exited before it was ready (${signal ?? `code ${code}`})`);
      else if (!t.stopping) rejectDied(new Error(`${options.name} (pid ${child.pid}) exited during the bench (${signal ?? `code ${code}`})${child.stderrTail() ? `\n${child.stderrTail()}` : ''}`));
    });

    if (proc.stdout) {
      createInterface({ input: proc.stdout }).on('line', (line) => {
        if (!settled && options.readyLine) {
          const value = options.readyLine(line);
          if (value !== undefined) return succeed(value);
        }
        options.onLine?.(line);
      });
    }
    if (options.probe) {
      const probe = options.probe;
      void (async () => {
        while (!settled) {
          const value = await probe().catch(() => undefined);
          if (value !== undefined) return succeed(value);
          await sleep(100);
        }
      })();
    }
  });
}

/**
 * Runs a command to completion (a load generator) and resolves with its stdout; rejects on a non-zero
 * exit, on a spawn error, or when it runs past `timeoutMs` (then it is killed).
 */
export function runToCompletion(name: string, command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const { t, proc } = spawnTracked(name, command, args);
  proc.stdin?.end();
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopTracked(t, 500);
      reject(new Error(`${name} ran past ${timeoutMs / 1000} s`));
    }, timeoutMs);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${name} could not be spawned: ${err.message}`));
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${name} exited with ${signal ?? `code ${code}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

/** Stops every child still running; resolves when all have exited. */
export async function stopAll(graceMs = 3000): Promise<void> {
  await Promise.all([...tracked].map((t) => stopTracked(t, graceMs)));
}

/** Last resort, synchronous: runs from process.on('exit'), where nothing can be awaited. */
export function killAllNow(): void {
  for (const t of tracked) {
    t.stopping = true;
    killGroup(t.proc.pid, 'SIGKILL');
  }
}

/** The ready line of the bench's own children (pods, baseline proxies): `{"listening":{"address","port"}}`. */
export function listeningLine(line: string): { address: string; port: number } | undefined {
  try {
    return (JSON.parse(line) as { listening?: { address: string; port: number } }).listening;
  } catch {
    return undefined;
  }
}
