/**
 * The client's request body as handed to undici for one attempt. undici destroys a body stream when
 * an attempt fails; handing it this wrapper instead of the client's connection keeps that connection
 * alive, so Switchyard can still answer 502 — and, while nothing has been read yet, retry on another
 * endpoint with a new wrapper over the same exchange.
 */
import { Readable } from 'node:stream';
import type { BodySink, HttpExchange } from './exchange.ts';

export class RequestBody extends Readable implements BodySink {
  readonly #src: HttpExchange;
  #attached = false;
  /** True once any byte was taken from the client: from then on the request cannot be replayed. */
  consumed = false;

  constructor(src: HttpExchange) {
    super();
    this.#src = src;
  }

  override _read(): void {
    if (!this.#attached) {
      this.#attached = true;
      this.#src.readBody(this);
    } else {
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
    return this.push(chunk);
  }

  onEnd(): void {
    this.push(null);
  }

  onError(err: Error): void {
    this.destroy(err);
  }
}
