/** Retry delays for reconnecting to a server: capped exponential backoff with jitter. */

export interface BackoffOptions {
  /** Ceiling of the first delay; default 500 ms. */
  readonly initialMs?: number;
  /** Ceiling of every delay; default 30 s. */
  readonly maxMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 500, maxMs: 30_000 };

/**
 * The delay before retry number `attempt` (0-based): the ceiling doubles from `initialMs` up to `maxMs`,
 * and the delay is drawn uniformly from its upper half ("equal jitter"), so many clients losing the same
 * server do not come back in lockstep, and no retry comes sooner than half its ceiling.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const max = Math.max(options.maxMs ?? DEFAULT_BACKOFF.maxMs, initial);
  const ceiling = Math.min(max, initial * 2 ** Math.min(Math.max(attempt, 0), 40));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Jitters a delay chosen by someone else (same equal-jitter rule), capped at `maxMs`. */
export function jitter(ms: number, maxMs: number = DEFAULT_BACKOFF.maxMs, random: () => number = Math.random): number {
  const ceiling = Math.min(ms, maxMs);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
