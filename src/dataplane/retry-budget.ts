/**
 * Retry budgets, per backend, in the manner of Finagle's RetryBudget: over a sliding window of the
 * last 10 s, retries may add at most a share of the requests (default 20 %) plus a small reserve, so
 * a quiet Service can still retry. A burst of retries — every request that was in flight on a pod
 * that just died — fits in the budget that the traffic before it earned; a Service that fails
 * everything is not hammered with more than the share on top of its normal load.
 */

/** Retries always allowed per window, whatever the traffic. */
export const RETRY_RESERVE = 10;
const BUCKET_MS = 1000;
const BUCKETS = 10;

interface Window {
  /** Index (time / BUCKET_MS) of the newest bucket. */
  head: number;
  requests: number[];
  retries: number[];
}

export class RetryBudget {
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A request to `backendKey` started: it earns the budget its share. */
  recordRequest(backendKey: string): void {
    const w = this.#window(backendKey);
    w.requests[w.head % BUCKETS]!++;
  }

  /** Takes one retry from the budget, when there is one left. */
  tryAcquire(backendKey: string, budgetPercent: number): boolean {
    const w = this.#window(backendKey);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      requests += w.requests[i]!;
      retries += w.retries[i]!;
    }
    if (retries >= RETRY_RESERVE + (requests * budgetPercent) / 100) return false;
    w.retries[w.head % BUCKETS]!++;
    return true;
  }

  /** Forgets backends that no longer exist. */
  retain(backendKeys: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const key of this.#windows.keys()) if (!backendKeys.has(key)) this.#windows.delete(key);
  }

  #window(key: string): Window {
    const index = Math.floor(this.#now() / BUCKET_MS);
    let w = this.#windows.get(key);
    if (w === undefined) {
      w = { head: index, requests: new Array<number>(BUCKETS).fill(0), retries: new Array<number>(BUCKETS).fill(0) };
      this.#windows.set(key, w);
      return w;
    }
    // Clear the buckets the clock moved past (all of them after a long pause).
    for (let i = w.head + 1; i <= index && i <= w.head + BUCKETS; i++) {
      w.requests[i % BUCKETS] = 0;
      w.retries[i % BUCKETS] = 0;
    }
    if (index > w.head) w.head = index;
    return w;
  }
}
