/**
 * Switchyard, the real CLI (bin/switchyard.js) as a child process, on a free loopback port. Ready once
 * a request through it answers 200, whatever it logs, so this works with one process or with workers.
 *
 * `--workers` is being added to the CLI: while `switchyard --help` does not list it, there is one
 * candidate (Switchyard's default); once it does, two: `--workers 1` and `--workers N` (N =
 * os.availableParallelism()).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { startChild, type Child } from '../children.ts';
import { comparisonManifests } from '../manifests.ts';
import { answers200, freePort } from '../net.ts';
import { START_TIMEOUT_MS } from '../pods.ts';
import { switchyardMallocEnv } from '../malloc-env.ts';
import type { CandidateSpec } from './types.ts';

const repoDir = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const cli = path.join(repoDir, 'bin', 'switchyard.js');

const nodeFlags = new Map<string, readonly string[]>();

/**
 * The Node flags of the CLI's `#!/usr/bin/env -S node …` line: the bench starts it as
 * `node <flags> bin/switchyard.js`, which is how `switchyard` on a PATH runs. Read once per bench and
 * file (`cliPath`: another tree's bin/switchyard.js, such as an earlier build's; default this one).
 */
export function launcherNodeFlags(cliPath: string = cli): readonly string[] {
  let flags = nodeFlags.get(cliPath);
  if (flags === undefined) {
    const first = readFileSync(cliPath, 'utf8').split('\n', 1)[0] ?? '';
    const m = /^#!\S*env\s+(?:-S\s+)?node\b(.*)$/.exec(first);
    flags = m ? m[1]!.trim().split(/\s+/).filter((f) => f !== '') : [];
    nodeFlags.set(cliPath, flags);
  }
  return flags;
}

const helpTexts = new Map<string, string>();

/** Whether a Switchyard's --help (this repository's by default) lists `flag` (e.g. `--workers`, `--listen-tls`); asked once per CLI and bench. */
export function cliHasFlag(flag: string, cliPath: string = cli): boolean {
  let helpText = helpTexts.get(cliPath);
  if (helpText === undefined) {
    try {
      helpText = execFileSync(process.execPath, [cliPath, '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    } catch {
      helpText = '';
    }
    helpTexts.set(cliPath, helpText);
  }
  return new RegExp(`${flag.replace(/[-]/g, '\\-')}\\b`).test(helpText);
}

/** Whether this Switchyard has `--workers` (its --help lists it). */
export function hasWorkersFlag(): boolean {
  return cliHasFlag('--workers');
}

/** Warnings and errors of the proxy are worth seeing while the bench runs (pino's level as a word; access log lines have none). */
function forwardLog(name: string, line: string): void {
  let level: unknown = 'fatal';
  try {
    level = (JSON.parse(line) as { level?: unknown }).level;
  } catch {
    // not pino's: show it
  }
  if (level === 'warn' || level === 'error' || level === 'fatal') process.stderr.write(`[${name}] ${line}\n`);
}

export interface SwitchyardOptions {
  readonly name: string;
  readonly manifestDir: string;
  /** --workers N; null leaves the flag out. */
  readonly workers: number | null;
  /** The Host and path of a route that must answer 200 before the instance counts as started. */
  readonly probeHost: string;
  readonly probePath: string;
  /** bin/switchyard.js of the tree to run; default this repository's. */
  readonly cli?: string;
  /** More flags after the bench's own (e.g. --listen-tls). */
  readonly extraArgs?: readonly string[];
}

export interface SwitchyardInstance {
  readonly child: Child;
  /** Ingress listener, host:port. */
  readonly address: string;
  /** From spawn to the first 200 through it. */
  readonly startupMs: number;
}

export async function startSwitchyard(options: SwitchyardOptions): Promise<SwitchyardInstance> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const cliPath = options.cli ?? cli;
  const args = [...launcherNodeFlags(cliPath), cliPath, '--manifests', options.manifestDir, '--listen', address, '--admin', '127.0.0.1:0', '--drain-timeout', '1s', '--shutdown-delay', '0s'];
  if (options.workers !== null) args.push('--workers', String(options.workers));
  args.push(...(options.extraArgs ?? []));
  const started = performance.now();
  const { child } = await startChild({
    name: options.name,
    command: process.execPath,
    args,
    timeoutMs: START_TIMEOUT_MS,
    env: switchyardMallocEnv(options.workers),
    probe: answers200(`http://${address}${options.probePath}`, { host: options.probeHost }),
    onLine: (line) => forwardLog(options.name, line),
  });
  return { child, address, startupMs: performance.now() - started };
}

function candidate(id: string, label: string, workers: number | null, extraArgs: readonly string[] = []): CandidateSpec {
  return {
    id,
    label,
    setup: `node ${[...launcherNodeFlags(), 'bin/switchyard.js'].join(' ')}${workers === null ? '' : ` --workers ${workers}`}${extraArgs.map((a) => ` ${a}`).join('')} (as the switchyard command runs), one Ingress (Host → Service over both pods, round-robin)`,
    start: async ({ pods, scratchDir, host }) => {
      writeFileSync(path.join(scratchDir, 'bench.yaml'), comparisonManifests(host, pods.map((p) => ({ address: p.address, port: p.port, podName: p.name }))));
      const sy = await startSwitchyard({ name: id, manifestDir: scratchDir, workers, probeHost: host, probePath: '/', extraArgs });
      return { target: { url: `http://${sy.address}/`, headers: { host } }, proxyPid: sy.child.pid, spreadsOverPods: true, stop: () => sy.child.stop() };
    },
  };
}

/** The Switchyard candidates this CLI supports, and a note when it is only the default one. */
export function switchyardCandidates(): { specs: CandidateSpec[]; note: string | null } {
  if (!hasWorkersFlag()) {
    return { specs: [candidate('switchyard', 'Switchyard (default)', null)], note: 'switchyard --help lists no --workers yet: only its default configuration runs' };
  }
  const n = os.availableParallelism();
  const specs = [candidate('switchyard-1', 'Switchyard --workers 1', 1)];
  // The other upstream HTTP/1.1 client (issue #19), 1 worker, beside the default's.
  if (cliHasFlag('--upstream-client')) specs.push(candidate('switchyard-1-llhttp', 'Switchyard --workers 1 --upstream-client llhttp', 1, ['--upstream-client', 'llhttp']));
  if (n > 1) specs.push(candidate('switchyard-n', `Switchyard --workers ${n}`, n));
  return { specs, note: n > 1 ? null : 'one core: switchyard-n would equal switchyard-1, so it is left out' };
}
