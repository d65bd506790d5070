/**
 * A comparison candidate: something the load can be pointed at, and the process tree whose CPU and
 * memory count as the proxy's.
 */
import type { Pod } from '../pods.ts';
import type { Target } from '../load/types.ts';

export interface StartContext {
  readonly pods: readonly Pod[];
  /** A fresh directory of this candidate's own, removed after the bench. */
  readonly scratchDir: string;
  /** The Host header every request carries; the proxies that route by host route by this one. */
  readonly host: string;
}

export interface RunningCandidate {
  readonly target: Target;
  /** Root of the proxy's process tree; null for the direct runs. */
  readonly proxyPid: number | null;
  /** Whether every pod should answer through it (round-robin); false for direct (pod 1 only). */
  readonly spreadsOverPods: boolean;
  stop(): Promise<void>;
}

export interface CandidateSpec {
  /** As --only names it and the JSON keys it: direct, switchyard-1, switchyard-n, http-proxy, … */
  readonly id: string;
  /** For the tables. */
  readonly label: string;
  /** How it is set up, for the JSON and the notes under the tables. */
  readonly setup: string;
  start(context: StartContext): Promise<RunningCandidate>;
}
