/**
 * Runs one of the bench's own load scripts (handshakes.ts, ws-echo.ts, grpc-unary.ts) as a child
 * process, so its CPU is neither the bench's nor the proxy's, and reads its result line.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { runToCompletion } from '../../children.ts';
import type { ScriptResult } from './child-result.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export type LoadScript = 'handshakes' | 'ws-echo' | 'grpc-unary';

/** The `{"result":…}` line of a load script's stdout (the last one); throws when there is none. */
export function parseScriptResult(stdout: string): ScriptResult {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('{"result":'));
  if (line === undefined) throw new Error(`the load script printed no result:\n${stdout.slice(-2000)}`);
  const { result } = JSON.parse(line) as { result: ScriptResult & { latencyMs: Record<string, number | null> } };
  const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);
  const l = result.latencyMs;
  return { ...result, latencyMs: { mean: num(l.mean), p50: num(l.p50), p99: num(l.p99), max: num(l.max) } };
}

/** Runs `script` with `args` (`--name value` pairs) for about `seconds`, bounded by seconds + 20 s. */
export async function runScript(script: LoadScript, args: Readonly<Record<string, string | number>>, seconds: number): Promise<ScriptResult> {
  const argv = [path.join(here, `${script}.ts`), ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)])];
  return parseScriptResult(await runToCompletion(script, process.execPath, argv, (seconds + 20) * 1000));
}
