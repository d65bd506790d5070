/**
 * A streamed request body (request-body.ts's RequestBody) written to the pod's socket with backpressure
 * both ways, framed as undici frames it: `content-length` when the client declared one, else chunked;
 * the head leaves with the first chunk (or at the end of an empty body). A body shorter or longer than
 * its declared length fails the request (UND_ERR_REQ_CONTENT_LENGTH_MISMATCH), as undici's strict mode.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { codedError } from '../upstream-connect.ts';

export interface BodyWriterOwner {
  /** The whole body was handed to the socket. */
  bodyWritten(): void;
  /** The body failed (the client broke it off, or it did not match its length); the request fails with `err`. */
  bodyFailed(err: Error): void;
  /** A chunk went out: the wait for response headers starts again (a slow upload is not a slow pod). */
  bodyProgress(): void;
}

function mismatch(): Error {
  return codedError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'Request body length does not match content-length header');
}

export class StreamBodyWriter {
  readonly #socket: Socket;
  readonly #body: Readable;
  readonly #head: string;
  readonly #contentLength: number | null;
  readonly #expectsPayload: boolean;
  readonly #owner: BodyWriterOwner;
  #written = 0;
  #finished = false;

  constructor(socket: Socket, body: Readable, head: string, contentLength: number | null, expectsPayload: boolean, owner: BodyWriterOwner) {
    this.#socket = socket;
    this.#body = body;
    this.#head = head;
    this.#contentLength = contentLength;
    this.#expectsPayload = expectsPayload;
    this.#owner = owner;
    body.on('data', this.#onData);
    body.on('end', this.#onEnd);
    body.on('error', this.#onError);
    body.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
    body.resume();
  }

  /** Stops writing (the request ended or failed) and lets go of the body: destroying it releases the client's body (request-body.ts). */
  stop(): void {
    if (this.#finished) return;
    this.#finish();
    this.#body.destroy();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#finished) return;
    const len = chunk.length;
    if (len === 0) return;
    if (this.#contentLength !== null && this.#written + len > this.#contentLength) return this.#fail(mismatch());
    const socket = this.#socket;
    if (socket.destroyed) return;
    socket.cork();
    if (this.#written === 0) {
      socket.write(this.#contentLength === null ? `${this.#head}transfer-encoding: chunked\r\n` : `${this.#head}content-length: ${this.#contentLength}\r\n\r\n`, 'latin1');
    }
    if (this.#contentLength === null) socket.write(`\r\n${len.toString(16)}\r\n`, 'latin1');
    this.#written += len;
    const more = socket.write(chunk);
    socket.uncork();
    this.#owner.bodyProgress();
    if (!more) this.#body.pause();
  };

  readonly #onDrain = (): void => {
    if (!this.#finished) this.#body.resume();
  };

  readonly #onEnd = (): void => {
    if (this.#finished) return;
    const socket = this.#socket;
    if (this.#contentLength !== null && this.#written !== this.#contentLength) return this.#fail(mismatch());
    this.#finish();
    if (socket.destroyed) return;
    if (this.#written === 0) socket.write(this.#expectsPayload ? `${this.#head}content-length: 0\r\n\r\n` : `${this.#head}\r\n`, 'latin1');
    else if (this.#contentLength === null) socket.write('\r\n0\r\n\r\n', 'latin1');
    this.#owner.bodyWritten();
  };

  readonly #onError = (err: Error): void => {
    if (!this.#finished) this.#fail(err);
  };

  readonly #onClose = (): void => {
    // 'close' without 'end' or 'error': the body was cut off.
    if (!this.#finished) this.#fail(codedError('UND_ERR_ABORTED', 'Request aborted'));
  };

  #fail(err: Error): void {
    this.#finish();
    this.#body.destroy();
    this.#owner.bodyFailed(err);
  }

  #finish(): void {
    this.#finished = true;
    this.#body.off('data', this.#onData);
    this.#body.off('end', this.#onEnd);
    this.#body.off('close', this.#onClose);
    // 'error' stays: a body destroyed with an error later must not throw as unhandled.
    this.#socket.off('drain', this.#onDrain);
  }
}
