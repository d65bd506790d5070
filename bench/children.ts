/**
 * Child processes of the bench (the pods and Switchyard): start one and wait for the line that says it
 * is ready, notice when one dies mid-run, and stop them all — on success, on error and on Ctrl-C.
 * A child that is still alive when the bench process exits is killed synchronously from the `exit` hook,
 * so no path leaves an orphan behind (short of SIGKILL on the bench itself; the pods also exit when their
 * stdin closes, which covers that too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The last stderr output, for error messages. */
  stderrTail(): string;
}

export interface StartOptions<T> {
  readonly name: string;
  readonly args: readonly string[];
  /** Returns a value once a stdout line shows the child is ready; undefined for any other line. */
  readonly ready: (line: string) => T | undefined;
  /** Called with every stdout line after ready. */
  readonly onLine?: (line: string) => void;
  readonly timeoutMs: number;
}

const children = new Set<Child>();
let stopping = false;
let rejectDied: (err: Error) => void = () => undefined;

/** Rejects when a child exits while the bench still needs it. Never resolves. */
export const childDied: Promise<never> = new Promise<never>((_resolve, reject) => {
  rejectDied = reject;
});
// Only awaited inside races; without this an early death with nobody racing would be "unhandled".
childDied.catch(() => undefined);

function alive(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/** Spawns `node ARGS…` (the same Node binary as the bench) and resolves with the child and its ready value. */
export function startChild<T>(options: StartOptions<T>): Promise<{ child: Child; value: T }> {
  const proc = spawn(process.execPath, [...options.args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  // The pods exit when stdin closes; an EPIPE on a child that already died must not crash the bench.
  proc.stdin.on('error', () => undefined);
  const child: Child = { name: options.name, proc, pid: proc.pid ?? -1, stderrTail: () => stderr.trim() };
  children.add(child);

  return new Promise((resolve, reject) => {
    let ready = false;
    const fail = (message: string): void => {
      clearTimeout(timer);
      if (alive(proc)) proc.kill('SIGKILL');
      const tail = child.stderrTail();
      reject(new Error(`${options.name}: ${message}${tail ? `\n--- stderr of ${options.name} ---\n${tail}` : ''}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${options.timeoutMs / 1000} s`), options.timeoutMs);

    proc.once('error', (err) => fail(`could not be spawned: ${err.message}`));
    proc.once('exit', (code, signal) => {
      children.delete(child);
      if (!ready) fail(`exited before it was ready (${signal ?? `code ${code}`})`);
      else if (!stopping) rejectDied(new Error(`${options.name} (pid ${child.pid}) exited during the bench (${signal ?? `code ${code}`})${child.stderrTail() ? `\n${child.stderrTail()}` : ''}`));
    });

    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      if (ready) {
        options.onLine?.(line);
        return;
      }
      const value = options.ready(line);
      if (value === undefined) return;
      ready = true;
      clearTimeout(timer);
      resolve({ child, value });
    });
  });
}

/** SIGTERM to every child, SIGKILL to whatever is left after `graceMs`; resolves when all have exited. */
export async function stopAll(graceMs = 3000): Promise<void> {
  stopping = true;
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          const { proc } = child;
          if (!alive(proc)) return resolve();
          const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
          proc.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          proc.kill('SIGTERM');
          proc.stdin?.end();
        }),
    ),
  );
  children.clear();
}

/** Last resort, synchronous: runs from process.on('exit'), where nothing can be awaited. */
export function killAllNow(): void {
  stopping = true;
  for (const { proc } of children) if (alive(proc)) proc.kill('SIGKILL');
}
