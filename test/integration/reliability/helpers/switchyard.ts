/**
 * The real CLI as a child process (`bin/switchyard.js`, run from the worktree root), its JSON log
 * lines collected, its listening addresses read from the `listening role=… address=…` lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './processes.ts';
import { request } from './http.ts';
import { switchyardFileArgs } from '../../../helpers/switchyard.ts';

/** The worktree root: four levels above this file (test/integration/reliability/helpers). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface SwitchyardProcess {
  readonly proc: ChildProcess;
  /** `host:port` of the ingress listener. */
  readonly ingress: string;
  /** `host:port` of the admin API. */
  readonly admin: string;
  /** Parsed log lines so far. */
  readonly logs: readonly Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** GET on the admin API, parsed JSON. */
  adminJson<T = unknown>(path: string): Promise<T>;
}

/**
 * Starts `switchyard --manifests DIR --listen 127.0.0.1:0 --admin 127.0.0.1:0 …extraArgs`.
 * Defaults added unless overridden: --shutdown-delay 0s, --drain-timeout 3s.
 */
export function startSwitchyard(manifestDir: string, extraArgs: readonly string[] = []): Promise<SwitchyardProcess> {
  // One process (exact pick sequences); a test's own flags come later and win.
  const args = ['bin/switchyard.js', '--manifests', manifestDir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1'];
  if (!extraArgs.includes('--shutdown-delay')) args.push('--shutdown-delay', '0s');
  if (!extraArgs.includes('--drain-timeout')) args.push('--drain-timeout', '3s');
  args.push(...switchyardFileArgs(), ...extraArgs);
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  track(proc);
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  return new Promise((resolveStart, reject) => {
    const addresses: Record<string, string> = {};
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`switchyard did not start in 10 s; stderr: ${stderr}`)), 10_000);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`switchyard exited during start-up (${code ?? signal}); stderr: ${stderr}`));
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        // Access log lines (stdout by default) are not kept: a long load would pile them up here.
        if (typeof entry['msg'] !== 'string') continue;
        logs.push(entry);
        const m = /^listening role=(\w+) address=(\S+)$/.exec(String(entry['msg'] ?? ''));
        if (m) addresses[m[1]!] = m[2]!;
        if (m && addresses['ingress'] && addresses['admin']) {
          clearTimeout(timer);
          const admin = addresses['admin'];
          resolveStart({
            proc,
            ingress: addresses['ingress'],
            admin,
            logs,
            exited,
            async adminJson<T>(path: string): Promise<T> {
              const r = await request(admin, { path });
              if (r.status !== 200) throw new Error(`admin ${path}: ${r.status} ${r.body}`);
              return JSON.parse(r.body) as T;
            },
          });
        }
      }
    });
  });
}

export interface AdminEndpoint {
  readonly backend: string | null;
  readonly key: string;
  readonly state: string;
  readonly reason: string;
  readonly since: string;
  readonly activeCheck?: string;
  readonly ejections?: number;
  readonly ejectedUntil?: string | null;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export interface AdminServices {
  readonly services: readonly {
    readonly namespace: string;
    readonly name: string;
    readonly ports: readonly { readonly backend: string; readonly panic: boolean; readonly terminatingFallback: boolean; readonly endpoints: readonly { state: string }[] }[];
  }[];
}

/** Endpoints of one backend (`rel/NAME:80`), plus draining ones (backend null) when `withDraining`. */
export async function endpointsOf(sy: SwitchyardProcess, service: string, withDraining = false): Promise<AdminEndpoint[]> {
  const { endpoints } = await sy.adminJson<{ endpoints: AdminEndpoint[] }>('/api/v1/endpoints');
  return endpoints.filter((e) => e.backend === `rel/${service}:80` || (withDraining && e.backend === null));
}

/** State of one endpoint key in one backend ('absent' when it is not listed). */
export async function stateOf(sy: SwitchyardProcess, service: string, key: string): Promise<string> {
  const eps = await endpointsOf(sy, service, true);
  return eps.find((e) => e.key === key)?.state ?? 'absent';
}

/** Resolves when the backend lists exactly `keys` (in any state). */
export async function waitForEndpoints(sy: SwitchyardProcess, service: string, keys: readonly string[], timeoutMs = 5000): Promise<void> {
  const want = [...keys].sort().join(',');
  await waitFor(`endpoints of ${service} = ${want}`, timeoutMs, async () => {
    const eps = await endpointsOf(sy, service);
    return eps.map((e) => e.key).sort().join(',') === want;
  });
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, intervalMs = 25): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
