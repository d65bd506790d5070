/**
 * The client's request body on its way to a pod, in two stages:
 * - BodyPrefetch reads the first `--request-buffer-size` bytes (or the whole body, when it is smaller)
 *   before a pod connection is taken. A client that uploads slowly then holds only its own connection,
 *   never one of the pod's (issue #14: 300 uploads at a byte a second once held every pod connection).
 * - RequestBody is what undici reads for one attempt: the prefetched chunks, then the rest as it comes.
 *   undici destroys a body stream when an attempt fails; handing it this wrapper instead of the client's
 *   connection keeps that connection alive, so Switchyard can still answer — and, while no byte beyond
 *   the prefetched ones was taken, retry on another endpoint with a new wrapper over the same chunks.
 */
import { Readable } from 'node:stream';
import type { BodySink, HttpExchange } from './exchange.ts';

/**
 * The bytes all BodyPrefetches of a process may hold at once (`--request-buffer-total`): without it,
 * every client connection could park `--request-buffer-size` bytes in memory. Past it a prefetch stops
 * early and the rest of its body streams (taking a pod connection, bounded by the pool's queue), so
 * memory stays bounded and nothing is refused.
 */
export class BodyBufferBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  take(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}

/** Collects the start of a request body; calls `done` once (an error: the client broke the body off). */
export class BodyPrefetch implements BodySink {
  readonly chunks: Buffer[] = [];
  size = 0;
  /** The whole body is in `chunks`. */
  ended = false;
  readonly #src: HttpExchange;
  readonly #limit: number;
  readonly #budget: BodyBufferBudget;
  /** Bytes counted against the budget, given back by release(). */
  #held = 0;
  #done: ((err: Error | undefined) => void) | undefined;
  #finishing = false;

  constructor(src: HttpExchange, limit: number, budget: BodyBufferBudget, done: (err: Error | undefined) => void) {
    this.#src = src;
    this.#limit = limit;
    this.#budget = budget;
    this.#done = done;
  }

  start(): void {
    this.#src.readBody(this);
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.size += chunk.length;
    // A chunk already read is kept either way; past the process's budget the body streams from here on.
    const counted = this.#budget.take(chunk.length);
    if (counted) this.#held += chunk.length;
    // Chunks already read may still be on their way in this turn: finish after it, with all of them.
    if ((this.size >= this.#limit || !counted) && !this.#finishing) {
      this.#finishing = true;
      queueMicrotask(() => this.#finish(undefined));
    }
    return true;
  }

  onEnd(): void {
    this.ended = true;
    this.#finish(undefined);
  }

  onError(err: Error): void {
    this.#finish(err);
  }

  /** The whole body as one Buffer, when it all arrived (made once, for retries too); else undefined. */
  whole(): Buffer | undefined {
    if (!this.ended) return undefined;
    if (this.chunks.length !== 1) this.chunks.splice(0, this.chunks.length, Buffer.concat(this.chunks, this.size));
    return this.chunks[0];
  }

  /** Gives the collected bytes back to the budget (the exchange is over); idempotent. */
  release(): void {
    this.#budget.give(this.#held);
    this.#held = 0;
  }


  #finish(err: Error | undefined): void {
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    if (!this.ended) this.#src.unreadBody(this);
    done(err);
  }
}

export class RequestBody extends Readable implements BodySink {
  readonly #src: HttpExchange;
  readonly #prefix: readonly Buffer[] | undefined;
  readonly #prefixIsAll: boolean;
  #started = false;
  #attached = false;
  /** True once a byte beyond the prefetched ones was taken from the client: the request cannot be replayed. */
  consumed = false;
  /** The client broke the body off (or went away): a failure of this attempt is the client's, not the pod's. */
  failed = false;
  /** Also gets every chunk taken from the client (RequestMirror copies); it never pauses the body. */
  tee: BodySink | undefined;

  /** `prefix`: chunks already read (BodyPrefetch); `prefixIsAll`: they are the whole body. */
  constructor(src: HttpExchange, prefix?: BodyPrefetch) {
    super();
    this.#src = src;
    this.#prefix = prefix?.chunks;
    this.#prefixIsAll = prefix?.ended ?? false;
  }

  override _read(): void {
    if (!this.#started) {
      this.#started = true;
      if (this.#prefix !== undefined) for (const chunk of this.#prefix) this.push(chunk);
      if (this.#prefixIsAll) {
        this.push(null);
        return;
      }
      this.#attached = true;
      this.#src.readBody(this);
    } else if (this.#attached) {
      this.#src.resumeBody();
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#attached) {
      this.#attached = false;
      this.#src.unreadBody(this);
    }
    callback(err);
  }

  onData(chunk: Buffer): boolean {
    this.consumed = true;
    this.tee?.onData(chunk);
    return this.push(chunk);
  }

  onEnd(): void {
    this.tee?.onEnd();
    this.push(null);
  }

  onError(err: Error): void {
    this.failed = true;
    this.tee?.onError(err);
    this.destroy(err);
  }
}
