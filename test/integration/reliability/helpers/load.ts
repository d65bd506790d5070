/**
 * Bounded load with autocannon through the ingress listener, and the one summary line per load test.
 * Failures as the client sees them: connection errors + timeouts + non-2xx responses.
 */
import autocannon from 'autocannon';

export interface LoadOptions {
  /** Ingress `host:port`. */
  readonly address: string;
  /** Host header (the Ingress rule). */
  readonly host: string;
  readonly path?: string;
  readonly connections: number;
  /** Seconds; the run can also be stopped early with `stop()`. */
  readonly durationSec: number;
  /** Per-request timeout, seconds (default 5). */
  readonly timeoutSec?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** errors (timeouts included) + non-2xx. */
  readonly failed: number;
  readonly statusCodes: Record<string, number>;
  /** The first few error messages, for the failure message. */
  readonly errorSamples: readonly string[];
  readonly durationSec: number;
}

export interface LoadRun {
  readonly done: Promise<LoadResult>;
  /** Ends the run now (requests in flight are dropped, not counted). */
  stop(): void;
}

export function startLoad(options: LoadOptions): LoadRun {
  const errorSamples: string[] = [];
  let finish!: (r: LoadResult) => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<LoadResult>((res, rej) => {
    finish = res;
    fail = rej;
  });
  const instance = autocannon(
    {
      url: `http://${options.address}${options.path ?? '/'}`,
      connections: options.connections,
      duration: options.durationSec,
      timeout: options.timeoutSec ?? 5,
      headers: { host: options.host },
    },
    (err, result) => {
      if (err) return fail(err);
      const statusCodes: Record<string, number> = {};
      for (const [code, v] of Object.entries((result as unknown as { statusCodeStats: Record<string, { count: number }> }).statusCodeStats ?? {})) statusCodes[code] = v.count;
      finish({
        requests: result.requests.total,
        ok2xx: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        failed: result.errors + result.non2xx,
        statusCodes,
        errorSamples,
        durationSec: result.duration,
      });
    },
  );
  instance.on('reqError', (err: Error) => {
    if (errorSamples.length < 5) errorSamples.push(err.message);
  });
  return { done, stop: () => instance.stop() };
}

/** The one summary line a load test prints. */
/** The counts of a load run, as the first figures of a summary line. */
export function loadFigures(result: LoadResult): Record<string, number> {
  return { requests: result.requests, ok2xx: result.ok2xx, failed: result.failed, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx };
}

export function summary(test: string, figures: Record<string, string | number>): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v}`);
  console.log(`[reliability] ${test}: ${parts.join(' ')}`);
}
