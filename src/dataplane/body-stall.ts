/**
 * `--client-body-timeout` as the periodic sweeps of the HTTP/1.1 connections, the HTTP/2 connections
 * and the node:http fallback see it: a body has stalled when the proxy has been waiting for its next
 * bytes longer than the limit with no read at all. A read counts however small (a byte a second keeps
 * a body alive; --client-request-timeout bounds the whole request). Counting reads instead of timing
 * each one keeps the per-chunk cost at an increment.
 */
export class BodyStallWatch {
  #reads = 0;
  /** The read count when the sweep last looked; -1 while the proxy is not waiting for the body. */
  #seen = -1;
  /** Since when (performance.now()) no read came while waiting. */
  #since = 0;

  /** A body chunk arrived. */
  read(): void {
    this.#reads++;
  }

  /** From a sweep: whether the wait for body bytes (`waiting`: the proxy wants them now) has lasted over `limitMs` with no read. */
  stalled(waiting: boolean, now: number, limitMs: number): boolean {
    if (!waiting) {
      this.#seen = -1;
      return false;
    }
    if (this.#reads !== this.#seen) {
      this.#seen = this.#reads;
      this.#since = now;
      return false;
    }
    return now - this.#since > limitMs;
  }
}
