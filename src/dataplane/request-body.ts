/**
 * The client's request body as handed to undici for one attempt. undici destroys a body stream when
 * an attempt fails; handing it this wrapper instead of the request keeps the client connection alive,
 * so Switchyard can still answer 502 — and, while nothing has been read yet, retry on another endpoint.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

export class RequestBody extends Readable {
  readonly #src: IncomingMessage;
  #attached = false;
  /** True once any byte was taken from the client: from then on the request cannot be replayed. */
  consumed = false;

  constructor(src: IncomingMessage) {
    super();
    this.#src = src;
  }

  override _read(): void {
    if (!this.#attached) {
      this.#attached = true;
      this.#src.on('data', this.#onData);
      this.#src.once('end', this.#onEnd);
      this.#src.once('error', this.#onError);
    }
    this.#src.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#attached) {
      this.#src.off('data', this.#onData);
      this.#src.off('end', this.#onEnd);
      this.#src.off('error', this.#onError);
      this.#src.pause();
    }
    callback(err);
  }

  readonly #onData = (chunk: Buffer): void => {
    this.consumed = true;
    if (!this.push(chunk)) this.#src.pause();
  };

  readonly #onEnd = (): void => {
    this.push(null);
  };

  readonly #onError = (err: Error): void => {
    this.destroy(err);
  };
}
