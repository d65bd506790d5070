/**
 * Starts the real `switchyard` CLI as a child process (bin/switchyard.js under the Node running the
 * tests) and finds its ports from the `listening role=... address=...` log lines.
 * Every child is registered for cleanup: a test that fails half-way leaves no process behind (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defer } from './cleanup.ts';
import { withTimeout } from './wait.ts';

/** The repository root, found from this file's location (test/helpers/ → ../..). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** One pino JSON line from the child's stdout (`level` as a word: "info", "warn"…). */
export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface ExitResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningSwitchyard {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly ingress: HostPort;
  /** The TLS edge listener, when started with --listen-tls. */
  readonly tls: HostPort | undefined;
  readonly admin: HostPort;
  /** Parsed JSON log lines so far (stdout). */
  readonly logs: LogLine[];
  /** JSON access log lines so far (stdout, the default `--access-log`): JSON lines without a `msg`. */
  readonly accessLines: Record<string, unknown>[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitResult>;
  /** Resolves with the first log line (already seen or yet to come) that satisfies `pred`. */
  waitForLog(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` and waits (bounded) for the exit. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitResult>;
}

export interface StartOptions {
  /** One or more --manifests paths. */
  readonly manifests: string | readonly string[];
  /** Extra flags, e.g. ['--upstream-timeout', '500ms']. */
  readonly args?: readonly string[];
  /** How long start-up may take; default 10 s. */
  readonly timeoutMs?: number;
  /** Node flags before bin/switchyard.js, e.g. those of its #! line. */
  readonly nodeFlags?: readonly string[];
  /** Start under `prlimit --nofile=SOFT:HARD` (Linux): the open-file limit the process gets. */
  readonly nofile?: { readonly soft: number; readonly hard: number };
}

const BIN = 'bin/switchyard.js';

function parseAddress(address: string): HostPort {
  const i = address.lastIndexOf(':');
  let host = address.slice(0, i);
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(i + 1)) };
}

function manifestArgs(manifests: string | readonly string[]): string[] {
  return (typeof manifests === 'string' ? [manifests] : [...manifests]).flatMap((m) => ['--manifests', m]);
}

/** Spawns the CLI, registers it for cleanup, and collects its output. */
function spawnCli(args: readonly string[], nodeFlags: readonly string[] = [], nofile?: StartOptions['nofile']): { child: ChildProcess; logs: LogLine[]; accessLines: Record<string, unknown>[]; stdoutText: () => string; stderrText: () => string; exited: Promise<ExitResult>; onLine: Set<(l: LogLine) => void> } {
  const argv = [...nodeFlags, BIN, ...args];
  // prlimit execs the command: the child's pid is Switchyard's.
  const child = nofile === undefined ? spawn(process.execPath, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('/usr/bin/prlimit', [`--nofile=${nofile.soft}:${nofile.hard}`, '--', process.execPath, ...argv], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const accessLines: Record<string, unknown>[] = [];
  const onLine = new Set<(l: LogLine) => void>();
  let stdout = '';
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const text = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!text.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { level: '', msg: text };
      }
      // Access log lines share stdout with pino's: kept apart, so every LogLine has its `msg`.
      if (typeof line.msg !== 'string') {
        accessLines.push(line);
        continue;
      }
      logs.push(line);
      for (const fn of onLine) fn(line);
    }
  });
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<ExitResult>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await withTimeout(exited, 5000, `SIGKILLed switchyard pid ${child.pid} to exit`);
    }
  });
  return { child, logs, accessLines, stdoutText: () => stdout, stderrText: () => stderr, exited, onLine };
}

/** Flags added to every startSwitchyard of this test file, before its own (see useSwitchyardArgs). */
let fileArgs: readonly string[] = [];

/**
 * Adds `args` to every Switchyard this test file starts (its own flags come after, so they win): how a
 * suite runs again under another setting, e.g. test/integration/upstream-llhttp.test.ts re-runs the
 * upstream suites with `--upstream-client llhttp`. Module state is per test file (one worker each).
 */
export function useSwitchyardArgs(args: readonly string[]): void {
  fileArgs = args;
}

/** The flags useSwitchyardArgs set for this file (for the other start helpers, e.g. reliability/helpers). */
export function switchyardFileArgs(): readonly string[] {
  return fileArgs;
}

/**
 * Starts switchyard on 127.0.0.1 port 0 (ingress and admin) and resolves once both listening lines
 * were logged. Rejects (with stderr) if the process exits or the deadline passes first.
 */
export async function startSwitchyard(options: StartOptions): Promise<RunningSwitchyard> {
  // No shutdown delay unless a test asks for one (a later flag wins): most tests stop the proxy and want it gone at once.
  // One process unless a test asks for workers: these tests assert the exact pick sequences of one balancer;
  // test/integration/workers.test.ts covers the multi-process data plane.
  const args = [...manifestArgs(options.manifests), '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--shutdown-delay', '0s', '--workers', '1', ...fileArgs, ...(options.args ?? [])];
  const { child, logs, accessLines, stderrText, exited, onLine } = spawnCli(args, options.nodeFlags, options.nofile);

  const waitForLog = (pred: (line: LogLine) => boolean, timeoutMs = 5000): Promise<LogLine> => {
    const seen = logs.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const listener = (line: LogLine): void => {
        if (!pred(line)) return;
        finish();
        resolve(line);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderrText()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        onLine.delete(listener);
      };
      onLine.add(listener);
    });
  };

  const listening = (role: string) => (l: LogLine) => typeof l.msg === 'string' && l.msg.startsWith(`listening role=${role} address=`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = Promise.all([waitForLog(listening('admin'), timeoutMs), waitForLog(listening('ingress'), timeoutMs)]);
  const early = exited.then((e) => {
    throw new Error(`switchyard exited during start-up (code ${e.code}, signal ${e.signal}); stderr:\n${stderrText()}`);
  });
  const [adminLine, ingressLine] = await Promise.race([started, early]);
  const tlsLine = (options.args ?? []).includes('--listen-tls') ? await Promise.race([waitForLog(listening('ingress-tls'), timeoutMs), early]) : undefined;
  early.catch(() => undefined);
  const addressOf = (line: LogLine): HostPort => parseAddress(/address=(\S+)/.exec(line.msg)![1]!);

  return {
    child,
    pid: child.pid!,
    ingress: addressOf(ingressLine),
    tls: tlsLine === undefined ? undefined : addressOf(tlsLine),
    admin: addressOf(adminLine),
    logs,
    accessLines,
    stderr: stderrText,
    exited,
    waitForLog,
    async stop(signal: NodeJS.Signals = 'SIGTERM', stopTimeoutMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return withTimeout(exited, stopTimeoutMs, `switchyard to exit after ${signal}`);
    },
  };
}

export interface CliRun extends ExitResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion (for start-up failures and bad flags); rejects if it is still running after `timeoutMs`. */
export async function runSwitchyard(args: readonly string[], timeoutMs = 8000): Promise<CliRun> {
  const { exited, stdoutText, stderrText } = spawnCli(args);
  const result = await withTimeout(exited, timeoutMs, `switchyard ${args.join(' ')} to exit`);
  return { ...result, stdout: stdoutText(), stderr: stderrText() };
}

/** Peak resident set size (VmHWM) of a process in bytes, from /proc (Linux only). */
export async function peakRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}
