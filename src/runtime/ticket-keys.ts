/**
 * The TLS session-ticket key (48 bytes: name, HMAC and AES keys, as Node's setTicketKeys takes it). One
 * key for every worker thread, so a client that resumes its session on another worker than the one
 * that issued the ticket still resumes; it is replaced every --tls-ticket-rotation (default 12h), which
 * bounds how long one stolen key can decrypt recorded sessions. Tickets issued under the previous key
 * then fall back to a full handshake. The main thread, which runs the control plane, makes the keys;
 * worker threads receive them in messages (messages.ts): each TLS server would otherwise make its own.
 */
import { randomBytes } from 'node:crypto';

/** Bytes Node's tls.Server.setTicketKeys takes. */
export const TICKET_KEY_BYTES = 48;

export interface TicketKeys {
  current(): Buffer;
  /** Called with every new key after this call. */
  onChange(fn: (keys: Buffer) => void): void;
}

/** Holds the current key; `set` replaces it (a rotation, or a worker receiving the main thread's). */
export class TicketKeyHolder implements TicketKeys {
  #keys: Buffer;
  readonly #listeners: ((keys: Buffer) => void)[] = [];

  constructor(keys: Buffer = randomBytes(TICKET_KEY_BYTES)) {
    this.#keys = keys;
  }

  current(): Buffer {
    return this.#keys;
  }

  onChange(fn: (keys: Buffer) => void): void {
    this.#listeners.push(fn);
  }

  /** `keys` may be a Uint8Array that crossed a process boundary. */
  set(keys: Uint8Array): void {
    if (keys.byteLength !== TICKET_KEY_BYTES) throw new RangeError(`a session-ticket key is ${TICKET_KEY_BYTES} bytes, not ${keys.byteLength}`);
    this.#keys = Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength);
    for (const fn of this.#listeners) fn(this.#keys);
  }
}

/** Replaces the holder's key with a fresh random one every `intervalMs`; returns a stop function. */
export function rotateTicketKeys(holder: TicketKeyHolder, intervalMs: number): () => void {
  const timer = setInterval(() => holder.set(randomBytes(TICKET_KEY_BYTES)), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
