/**
 * What the bench's own load scripts (handshakes, ws-echo, grpc-unary) print when they finish: one JSON
 * line `{"result":{…}}` on stdout, read by run-script.ts. Latencies come from a node:perf_hooks
 * histogram of microseconds.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface ScriptResult {
  /** Operations completed inside the measured window (handshakes, echoed messages, OK calls). */
  readonly ops: number;
  readonly seconds: number;
  /** Operations that failed (connect errors, timeouts, wrong answers, non-OK gRPC status). */
  readonly errors: number;
  readonly latencyMs: { readonly mean: number; readonly p50: number; readonly p99: number; readonly max: number };
  /** What the run negotiated or saw (protocol, cipher, group, …), for the record. */
  readonly details: Readonly<Record<string, string | number>>;
}

export function microsecondHistogram(): RecordableHistogram {
  return createHistogram();
}

/** Records a duration given in nanoseconds (process.hrtime.bigint differences), at 1 µs resolution. */
export function recordNs(h: RecordableHistogram, ns: bigint): void {
  h.record(Math.max(1, Number(ns / 1000n)));
}

export function latencyOf(h: RecordableHistogram): ScriptResult['latencyMs'] {
  if (h.count === 0) return { mean: NaN, p50: NaN, p99: NaN, max: NaN };
  return { mean: h.mean / 1000, p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 };
}

/**
 * Prints the result line and exits (0), so no stray handle keeps a load script alive. Adds the script's
 * own CPU time ÷ its run time (`clientCores`): near 1, the load generator, not the proxy, set the pace.
 */
export function finish(result: ScriptResult): never {
  const cpu = process.cpuUsage();
  const clientCores = Number(((cpu.user + cpu.system) / 1e6 / (process.uptime() || 1)).toFixed(2));
  result = { ...result, details: { ...result.details, clientCores } };
  process.stdout.write(`\n${JSON.stringify({ result }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
  process.exit(0);
}

/** A positive whole number from a flag, or exit 2 with a message. */
export function positiveInt(flag: string, value: string | undefined, max: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1 || n > max) {
    process.stderr.write(`--${flag}: ${JSON.stringify(value)} is not a whole number from 1 to ${max}\n`);
    process.exit(2);
  }
  return n;
}

/** A required string flag, or exit 2. */
export function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') {
    process.stderr.write(`--${flag} is required\n`);
    process.exit(2);
  }
  return value;
}
