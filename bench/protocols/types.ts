/**
 * The protocols run's vocabulary: a case is one figure (a section's variant, through one proxy, with one
 * load tool); a run is one measurement of a case in one round.
 */
import type { ProtocolSection } from '../settings.ts';

/**
 * Who is under load: a pod straight, this Switchyard, the --base-dir Switchyard, nginx, or (handshakes
 * only) a bare node:tls server, the floor Node itself sets (tls-floor.ts).
 */
export type ProxyKind = 'direct' | 'switchyard' | 'switchyard-base' | 'switchyard-access-log' | 'nginx' | 'node-tls';

export interface CaseKey {
  readonly section: ProtocolSection;
  /** What is measured within the section: `h1-tls`, `h1-plain`, `h2c`, `h1-plain-4`, `echo`, `unary`, … */
  readonly variant: string;
  readonly proxy: ProxyKind;
  /** The load tool: wrk, autocannon, h2load, tls.connect, ws, grpc-js. */
  readonly tool: string;
}

/** What a load tool reports for one run. */
export interface CaseOutcome {
  readonly seconds: number;
  /** Completed operations: responses (2xx), handshakes, echoed messages, OK calls. */
  readonly ops: number;
  /** Connection errors, timeouts, failed calls, wrong answers. */
  readonly errors: number;
  /** HTTP responses that were not 2xx (0 where the unit is not a response). */
  readonly non2xx: number;
  /** ms; NaN where the tool does not report it (h2load: mean only). */
  readonly latencyMs: { readonly mean: number; readonly p50: number; readonly p99: number };
  readonly details: Readonly<Record<string, string | number>>;
}

export interface ProtocolCase extends CaseKey {
  /** `section/variant/proxy/tool`. */
  readonly id: string;
  readonly label: string;
  /** What one operation is, for the tables: request, handshake, message, call. */
  readonly unit: 'request' | 'handshake' | 'message' | 'call';
  /** How the load is made, for the notes and the JSON. */
  readonly setup: string;
  /** Root of the proxy's process tree; null for direct. */
  readonly proxyPid: number | null;
  readonly podPids: readonly number[];
  /** Throws when the case would not measure what it says (wrong certificate, protocol, answer). */
  preflight(): Promise<void>;
  run(seconds: number): Promise<CaseOutcome>;
}

/** One measured run of a case, with the proxy's CPU from /proc around it. */
export interface ProtocolRun extends CaseKey, CaseOutcome {
  readonly id: string;
  readonly round: number;
  readonly opsPerSec: number;
  /** The proxy's CPU time (user + system, whole process tree) per operation, µs; null for direct or without /proc. */
  readonly proxyCpuUsPerOp: number | null;
  /** Operations per second of the proxy's CPU time: the "per core" figure. */
  readonly opsPerProxyCpuSecond: number | null;
  /** The proxy's CPU time ÷ wall time: how many cores it kept busy. */
  readonly proxyCores: number | null;
  readonly podCpuUsPerOp: number | null;
  readonly proxyPeakRssKiB: number | null;
}

export const caseId = (k: CaseKey): string => `${k.section}/${k.variant}/${k.proxy}/${k.tool}`;
