/**
 * Counts events in a sliding time window: the (limit + 1)-th event within `windowMs` of the limit-th
 * before it trips. The times of the last `limit` events are kept in a ring, so the window is exact
 * and costs `limit` numbers, allocated once. Times are passed in (performance.now() in production),
 * which keeps the clock injectable.
 */
export class SlidingWindowCounter {
  readonly #times: Float64Array;
  readonly #windowMs: number;
  /** The ring slot the next event goes to; once the ring is full, it holds the oldest event. */
  #next = 0;
  #count = 0;

  /** @param limit events allowed within the window (at least 1) */
  constructor(limit: number, windowMs: number) {
    this.#times = new Float64Array(Math.max(1, Math.floor(limit)));
    this.#windowMs = windowMs;
  }

  /** Records one event at `now` (ms); true when it is more than `limit` events within the window. */
  record(now: number): boolean {
    const times = this.#times;
    if (this.#count === times.length) {
      if (now - times[this.#next]! < this.#windowMs) return true;
    } else {
      this.#count++;
    }
    times[this.#next] = now;
    this.#next = this.#next + 1 === times.length ? 0 : this.#next + 1;
    return false;
  }
}
