/**
 * A read-error episode of a source: from the first pass that could not read something to the first
 * pass that read everything. It logs twice per episode (a warning when it starts, an info line when it
 * ends), never once per retry: a process out of file descriptors fails every retry, and a log line per
 * retry would bury the one that matters. Between the two it arms retries with capped backoff.
 */
import type { Logger } from '../log.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { errorCode, type ReadFailure } from './manifest-scan.ts';

/** Retry delays of a file source; default 500 ms doubling to 10 s, with jitter. */
export const DEFAULT_READ_RETRY: Required<BackoffOptions> = {
  initialMs: 500,
  // A retry costs a few syscalls, and the cap bounds how long a source keeps serving stale state
  // after the cause went away (a watch event retries sooner).
  maxMs: 10_000,
};

/** The read error of a source as the admin API shows it (`readError` in /api/v1/config). */
export interface ReadErrorView {
  /** errno code of the first unreadable path, e.g. EMFILE, EACCES, EIO, ENOENT (a --manifests root gone). */
  readonly code: string;
  /** The first unreadable path (sorted), a file or a directory. */
  readonly path: string;
  readonly message: string;
  /** Every path currently unreadable; what was loaded at or under each is being kept. */
  readonly paths: readonly string[];
  /** When the episode began (ISO 8601). */
  readonly since: string;
  /** Retries done so far in this episode. */
  readonly attempts: number;
  /** Time until the next retry; null when none is armed (closed). */
  readonly retryInMs: number | null;
}

export interface ReadRetryOptions {
  readonly log: Logger;
  /** Starts a retry pass. */
  readonly retry: () => void;
  readonly backoff?: BackoffOptions;
  /** Clock for `since` and `retryInMs`; default Date.now. */
  readonly now?: () => number;
  /** Jitter source; default Math.random. */
  readonly random?: () => number;
}

interface Episode {
  readonly since: number;
  attempts: number;
  code: string;
  path: string;
  message: string;
  paths: string[];
  retryAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class ReadRetry {
  readonly #options: ReadRetryOptions;
  readonly #now: () => number;
  #episode: Episode | undefined;
  #closed = false;

  constructor(options: ReadRetryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Whether an episode is under way (its retries replace the periodic rescan). */
  get active(): boolean {
    return this.#episode !== undefined;
  }

  /** Records the outcome of a pass: what it could not read (empty: everything was read). */
  settle(unreadable: ReadonlyMap<string, ReadFailure>): void {
    const log = this.#options.log;
    const now = this.#now();
    const ep = this.#episode;
    if (unreadable.size === 0) {
      if (ep === undefined) return;
      if (ep.timer) clearTimeout(ep.timer);
      this.#episode = undefined;
      log.info({ code: ep.code, path: ep.path, since: new Date(ep.since).toISOString(), attempts: ep.attempts, durationMs: now - ep.since }, 'manifests readable again; reading resumed');
      return;
    }
    const paths = [...unreadable.keys()].sort();
    const first = unreadable.get(paths[0]!)!;
    const next: Episode = ep ?? { since: now, attempts: 0, code: '', path: '', message: '', paths: [], retryAt: undefined, timer: undefined };
    if (ep !== undefined) next.attempts++;
    next.code = errorCode(first.error);
    next.path = paths[0]!;
    next.message = first.error.message;
    next.paths = paths;
    if (ep === undefined) {
      this.#episode = next;
      log.warn(
        { code: next.code, path: next.path, op: first.op, paths: paths.length },
        `cannot read manifests (${next.code}): keeping the last good state of everything at or under ${paths.length === 1 ? 'that path' : `those ${paths.length} paths`}; retrying with backoff`,
      );
    }
    if (next.timer) clearTimeout(next.timer);
    if (this.#closed) return;
    const delay = backoffDelay(next.attempts, { ...DEFAULT_READ_RETRY, ...this.#options.backoff }, this.#options.random);
    next.retryAt = now + delay;
    next.timer = setTimeout(() => {
      next.timer = undefined;
      next.retryAt = undefined;
      this.#options.retry();
    }, delay);
    next.timer.unref();
  }

  view(): ReadErrorView | null {
    const ep = this.#episode;
    if (ep === undefined) return null;
    return {
      code: ep.code,
      path: ep.path,
      message: ep.message,
      paths: ep.paths,
      since: new Date(ep.since).toISOString(),
      attempts: ep.attempts,
      retryInMs: ep.retryAt === undefined ? null : Math.max(0, ep.retryAt - this.#now()),
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#episode?.timer) clearTimeout(this.#episode.timer);
  }
}
