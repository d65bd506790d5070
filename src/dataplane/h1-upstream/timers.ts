/**
 * The three deadlines of an upstream connection: response headers, a pause inside the response body,
 * an idle keep-alive connection.
 *
 * Headers and body are checked by one process-wide ticker every TICK_MS over the connections that have
 * a socket, as undici's own "fast timers" do for these two: arming one per request is a timestamp, not a
 * timer, and a deadline fires between its time and TICK_MS later — undici's precision, which the tests
 * and users' settings were made with (a 500 ms --upstream-timeout fires within ~1 s either way). The idle
 * keep-alive deadline is a Node timer, precise, as undici's is: closing late could meet the pod closing
 * first. That timer is made once per connection and re-armed with refresh().
 */

/** undici's defaults for a pod's `Keep-Alive: timeout=N` hint: N s minus 2 s of margin, at most 600 s. */
const KEEP_ALIVE_MARGIN_MS = 2000;
const KEEP_ALIVE_MAX_MS = 600_000;
const TIMEOUT_PARAM = /timeout=(\d+)/;
/** undici's fast-timer tick (RESOLUTION_MS / 2 - 1). */
const TICK_MS = 499;

/**
 * The idle time a Keep-Alive field value allows, ms (undici's rule); ≤ 0: do not reuse the connection;
 * undefined: the value has no timeout.
 */
export function keepAliveHint(value: string): number | undefined {
  // A pod sends the same value with every response (node:http: `timeout=5`): read once, not per response.
  if (value === lastHint) return lastHintMs;
  const m = TIMEOUT_PARAM.exec(value);
  const ms = m === null ? undefined : Math.min(Number.parseInt(m[1]!, 10) * 1000 - KEEP_ALIVE_MARGIN_MS, KEEP_ALIVE_MAX_MS);
  lastHint = value;
  lastHintMs = ms;
  return ms;
}

let lastHint = '';
let lastHintMs: number | undefined;

/** Connections with a socket: the ticker's round. A connection joins and leaves once per socket, not per request. */
const watched = new Set<ConnectionTimers>();
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  const now = performance.now();
  for (const t of watched) t.check(now);
}

export class ConnectionTimers {
  /** The idle time for the next keep-alive wait, ms (the pool's, or the pod's hint). */
  idleMs = 0;
  readonly #onHeaders: () => void;
  readonly #onBody: () => boolean;
  readonly #onIdle: () => void;
  /** performance.now() ms by which headers must come; 0: no deadline. */
  #headersBy = 0;
  #headersMs = 0;
  /** Longest pause in the body, ms; 0: no deadline. */
  #bodyMs = 0;
  #lastBody = 0;
  #idle: NodeJS.Timeout | undefined;
  #idleTimerMs = 0;
  #idleOn = false;

  /** `onBody` answers true to wait again (the body is paused by backpressure: no deadline then). */
  constructor(onHeaders: () => void, onBody: () => boolean, onIdle: () => void) {
    this.#onHeaders = onHeaders;
    this.#onBody = onBody;
    this.#onIdle = onIdle;
  }

  /** The connection has a socket: its deadlines are checked. */
  watch(): void {
    watched.add(this);
    ticker ??= setInterval(tick, TICK_MS).unref();
  }

  /** The socket is gone: nothing to check until the next one. */
  unwatch(): void {
    this.stopRequest();
    watched.delete(this);
    if (watched.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  /** Called by the ticker. */
  check(now: number): void {
    if (this.#headersBy !== 0 && now >= this.#headersBy) {
      this.#headersBy = 0;
      this.#onHeaders();
    } else if (this.#bodyMs !== 0 && now - this.#lastBody >= this.#bodyMs) {
      if (this.#onBody()) this.#lastBody = now;
      else this.#bodyMs = 0;
    }
  }

  /** Starts the wait for response headers; 0: none. */
  armHeaders(ms: number): void {
    this.#headersMs = ms;
    this.#headersBy = ms > 0 ? performance.now() + ms : 0;
  }

  /** The wait for headers starts again (a body chunk went out, an interim response came). */
  refreshHeaders(): void {
    if (this.#headersBy !== 0) this.#headersBy = performance.now() + this.#headersMs;
  }

  /** Headers came: the body's pause limit starts; 0: none. */
  armBody(ms: number): void {
    this.#headersBy = 0;
    this.#bodyMs = ms;
    if (ms !== 0) this.#lastBody = performance.now();
  }

  bodyActivity(): void {
    if (this.#bodyMs !== 0) this.#lastBody = performance.now();
  }

  /** The request ended (or failed). */
  stopRequest(): void {
    this.#headersBy = 0;
    this.#bodyMs = 0;
  }

  armIdle(): void {
    const ms = this.idleMs;
    this.#idleOn = ms > 0;
    if (ms <= 0) return;
    if (this.#idle !== undefined && this.#idleTimerMs === ms) {
      this.#idle.refresh();
      return;
    }
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idleTimerMs = ms;
    this.#idle = setTimeout(() => this.#idleOn && this.#onIdle(), ms).unref();
  }

  stopIdle(): void {
    this.#idleOn = false;
  }

  /** The connection is closed for good. */
  stopAll(): void {
    this.unwatch();
    this.stopIdle();
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    this.#idle = undefined;
  }
}
