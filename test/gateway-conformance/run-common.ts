/**
 * What the HTTPRoute and GRPCRoute conformance test files share: where the suite is, the settings read
 * from the environment (README.md here lists them), the summary table, the wait for Switchyard's
 * readiness, and how a test's rows become its verdict.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** The suite's `conformance/` directory: GATEWAY_CONFORMANCE_DIR itself, or its `conformance/`. */
export function suiteDir(dirEnv: string): string {
  return existsSync(join(dirEnv, 'tests')) && existsSync(join(dirEnv, 'base')) ? dirEnv : join(dirEnv, 'conformance');
}

/** How rows are retried and waited for (GATEWAY_CONFORMANCE_SUCCESSES, _CONSISTENCY_MS, _STABLE_FAILURE_MS, _STATUS_MS). */
export function rowOptionsFrom(env: Env) {
  const num = (name: string, fallback: number): number => (env[name] ? Number(env[name]) : fallback);
  return {
    requiredSuccesses: num('GATEWAY_CONFORMANCE_SUCCESSES', 3),
    consistencyMs: num('GATEWAY_CONFORMANCE_CONSISTENCY_MS', 10_000),
    stableFailureMs: num('GATEWAY_CONFORMANCE_STABLE_FAILURE_MS', 1_500),
    statusMs: num('GATEWAY_CONFORMANCE_STATUS_MS', 3_000),
  };
}

/** The class, controller and extra CLI flags each test's Switchyard gets; a kept manifest dir per test with GATEWAY_CONFORMANCE_KEEP_DIR. */
export function switchyardOptionsFrom(env: Env) {
  return {
    gatewayClass: env['GATEWAY_CONFORMANCE_CLASS'] || 'switchyard',
    controllerName: env['GATEWAY_CONFORMANCE_CONTROLLER'] || 'switchyard.dev/gateway-controller',
    extraArgs: (env['GATEWAY_CONFORMANCE_SWITCHYARD_ARGS'] ?? '').split(/\s+/).filter((a) => a !== ''),
  };
}

export function keepDirOf(env: Env, shortName: string): { keepDir: string } | Record<string, never> {
  return env['GATEWAY_CONFORMANCE_KEEP_DIR'] ? { keepDir: join(env['GATEWAY_CONFORMANCE_KEEP_DIR'], shortName) } : {};
}

export interface RowResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface SummaryEntry {
  readonly test: string;
  readonly result: string;
  readonly reason: string;
  readonly rows?: readonly RowResult[];
}

/** The summary table, one line per test, and the counts (`of` names what was counted: "HTTPRoute tests"). */
export function summaryLines(summary: readonly SummaryEntry[], of: string): string[] {
  const width = Math.max(...summary.map((s) => s.test.length));
  const lines = summary.map((s) => `${s.test.padEnd(width)}  ${s.result.padEnd(12)}  ${s.reason}`);
  const count = (r: string): number => summary.filter((s) => s.result === r).length;
  lines.push('', `pass ${count('pass')}, fail ${count('fail')}, out of scope ${count('out of scope')}, not parsed ${count('not parsed')} (of ${summary.length} ${of})`);
  return lines;
}

/** Waits (up to 10 s) for the admin API's /readyz to answer 200. */
export async function waitReady(admin: { readonly host: string; readonly port: number }): Promise<void> {
  const url = `http://${admin.host}:${admin.port}/readyz`;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if ((await fetch(url).catch(() => undefined))?.status === 200) break;
  }
}

/** Records a run test's verdict in `summary`, and fails the vitest test when any row failed. */
export function settle(summary: SummaryEntry[], test: string, rows: readonly RowResult[], notes: readonly string[]): void {
  const failed = rows.filter((r) => !r.ok);
  summary.push({ test, result: failed.length === 0 ? 'pass' : 'fail', reason: [`${rows.length - failed.length}/${rows.length} rows`, ...notes].join('; '), rows });
  if (failed.length > 0) throw new Error(`${failed.length} of ${rows.length} rows failed:\n${failed.map((f) => `  ${f.name}: ${f.detail}`).join('\n')}`);
}
