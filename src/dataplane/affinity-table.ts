/**
 * ClientIP session affinity (a Service's `sessionAffinity: ClientIP`) remembered where every worker
 * thread sees it: a fixed-size open-addressing table in a SharedArrayBuffer, so a client keeps its pod
 * whichever thread serves its next connection. The main thread makes the buffer and hands it to the
 * workers with their start-up data, as it does the round-robin cursors (cursors.ts).
 *
 * An entry is the 64-bit hash of `backend key | client address` (two 32-bit halves), the endpoint it
 * chose (the 32-bit hash of its `address:port` and its rotation index when chosen, a hint checked
 * against the hash), and when it expires (in 100 ms ticks since the table was made). The timeout runs
 * from the client's last request, as kube-proxy's does; entries need no sweeping: an expired one is free.
 *
 * Bounded by construction (AFFINITY_TABLE_ENTRIES, ~6 MiB of address space the OS maps as it is
 * touched). A key may sit in any of PROBE slots from its hash; when all of them hold other live clients,
 * the one expiring first is replaced: that client moves to a new pod at its next request. So do two
 * clients whose 64-bit hashes collide (they share a pod). Neither ever fails a request.
 *
 * A hit rewrites the entry's expiry only when that moves it by a second or more (an eighth of a timeout
 * under 8 s): a client's burst of requests costs reads, and threads do not keep taking the entry's cache
 * line from each other.
 *
 * Time comes from the caller (the request's start, affinity-request.ts), not a clock read per request.
 *
 * Threads update entries under a per-entry sequence lock (odd: being written) with Atomics, so a reader
 * never takes half of one entry with half of another. A writer that finds an entry locked gives up (the
 * request still gets its pod, only it is not remembered this time); a reader retries a few times, then
 * counts it a miss. Neither ever waits.
 */
import type { EndpointView } from '../snapshot/types.ts';

/** Entries of the table: 2^18 = 262,144 clients × backends remembered at once (24 bytes each, 6 MiB). */
export const AFFINITY_TABLE_ENTRIES = 1 << 18;
/** Slots a key may occupy, from its hash on. */
const PROBE = 4;
/** Int32 cells per entry: sequence, key hash (2), endpoint hash, endpoint index hint, expiry tick. */
const CELLS = 6;
const SEQ = 0;
const KEY1 = 1;
const KEY2 = 2;
const EP_HASH = 3;
const EP_INDEX = 4;
const EXPIRES = 5;
/** Header cells before the first entry: the table's epoch, whole seconds since 1970. */
const HEADER = 2;
const TICK_MS = 100;
/** A hit refreshes the expiry only when this many ticks (1 s) were gained, or an eighth of a shorter timeout. */
const REFRESH_TICKS = 10;
/** Read attempts while another thread rewrites the entry. */
const READ_TRIES = 4;

/** A shared buffer for a table of `entries` (a power of two; default AFFINITY_TABLE_ENTRIES), epoch now. */
export function affinityBuffer(entries = AFFINITY_TABLE_ENTRIES, now = Date.now()): SharedArrayBuffer {
  if (entries <= 0 || (entries & (entries - 1)) !== 0) throw new RangeError(`affinity table entries must be a power of two, not ${entries}`);
  const buffer = new SharedArrayBuffer((HEADER + entries * CELLS) * Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(buffer)[0] = Math.floor(now / 1000);
  return buffer;
}

export class AffinityTable {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: Int32Array;
  readonly #mask: number;
  readonly #epochMs: number;
  // The key of the last lookup and what it found: remember() follows lookup() within one synchronous pick.
  #key1 = 0;
  #key2 = 0;
  /** Sequence of the entry lookup() found for the key (-1: none), to tell another thread's write from it. */
  #seenSeq = -1;
  /** Scratch of #read(): the entry's fields. */
  #k1 = 0;
  #k2 = 0;
  #epHash = 0;
  #epIndex = 0;
  #expires = 0;

  /** `buffer`: from affinityBuffer() (shared with the other threads); default a new one. */
  constructor(buffer: SharedArrayBuffer = affinityBuffer()) {
    this.buffer = buffer;
    this.#cells = new Int32Array(buffer);
    this.#mask = (this.#cells.length - HEADER) / CELLS - 1;
    this.#epochMs = this.#cells[0]! * 1000;
  }

  /**
   * The rotation index of the endpoint `client` was last given for `backendKey`, while that affinity
   * has not expired and the endpoint is still in `rotation`; -1 otherwise. A hit starts the timeout
   * (`timeoutSeconds`) again. `nowMs`: the time, ms since 1970.
   */
  lookup(backendKey: string, client: string, timeoutSeconds: number, rotation: readonly EndpointView[], nowMs: number): number {
    this.#hashKey(backendKey, client);
    this.#seenSeq = -1;
    const tick = this.#tick(nowMs);
    for (let p = 0; p < PROBE; p++) {
      const base = this.#base(p);
      const seq = this.#read(base);
      if (seq < 0 || this.#k1 !== this.#key1 || this.#k2 !== this.#key2) continue;
      this.#seenSeq = seq;
      if (this.#expires - tick <= 0) return -1;
      const index = resolve(rotation, this.#epHash, this.#epIndex);
      if (index < 0) return -1;
      const timeoutTicks = timeoutSeconds * (1000 / TICK_MS);
      const expires = tick + timeoutTicks;
      if (expires - this.#expires < Math.min(REFRESH_TICKS, (timeoutTicks >> 3) || 1) && index === this.#epIndex) return index;
      // Our own refresh is not another thread's choice (remember() tells them apart by the sequence).
      const written = this.#write(base, seq, this.#epHash, index, expires);
      if (written >= 0) this.#seenSeq = written;
      return index;
    }
    return -1;
  }

  /**
   * Remembers rotation[`index`] for the key of the last lookup(). When another thread remembered an
   * endpoint for this client since that lookup (two first requests at once), its choice stands and its
   * index is returned, so the client does not flip between the two; otherwise `index`.
   */
  remember(index: number, timeoutSeconds: number, rotation: readonly EndpointView[], nowMs: number): number {
    const tick = this.#tick(nowMs);
    // Where to write: this key's entry; else the first free one (empty or expired); else the one that
    // expires first (its client moves at its next request).
    let target = -1;
    let targetSeq = 0;
    let targetLeft = 0;
    for (let p = 0; p < PROBE; p++) {
      const base = this.#base(p);
      const seq = this.#read(base);
      if (seq < 0) continue;
      if (this.#k1 === this.#key1 && this.#k2 === this.#key2) {
        if (seq !== this.#seenSeq && this.#expires - tick > 0) {
          const theirs = resolve(rotation, this.#epHash, this.#epIndex);
          if (theirs >= 0) return theirs;
        }
        target = base;
        targetSeq = seq;
        break;
      }
      const left = (this.#k1 === 0 && this.#k2 === 0) || this.#expires - tick <= 0 ? 0 : this.#expires - tick;
      if (target < 0 || left < targetLeft) {
        target = base;
        targetSeq = seq;
        targetLeft = left;
      }
    }
    if (target >= 0) this.#write(target, targetSeq, hashString(rotation[index]!.key, FNV_OFFSET), index, tick + timeoutSeconds * (1000 / TICK_MS), true);
    return index;
  }

  #base(probe: number): number {
    return HEADER + ((this.#key1 + probe) & this.#mask) * CELLS;
  }

  #tick(nowMs: number): number {
    return Math.floor((nowMs - this.#epochMs) / TICK_MS) | 0;
  }

  /** Reads the entry at `base` into the scratch fields; its sequence, or -1 when it kept changing. */
  #read(base: number): number {
    const c = this.#cells;
    for (let i = 0; i < READ_TRIES; i++) {
      const seq = Atomics.load(c, base + SEQ);
      if ((seq & 1) !== 0) continue;
      this.#k1 = Atomics.load(c, base + KEY1);
      this.#k2 = Atomics.load(c, base + KEY2);
      this.#epHash = Atomics.load(c, base + EP_HASH);
      this.#epIndex = Atomics.load(c, base + EP_INDEX);
      this.#expires = Atomics.load(c, base + EXPIRES);
      if (Atomics.load(c, base + SEQ) === seq) return seq & 0x7fffffff;
    }
    return -1;
  }

  /** Rewrites the entry at `base` if it is still at `seq` and no one is writing it: its new sequence; -1 otherwise. */
  #write(base: number, seq: number, epHash: number, epIndex: number, expires: number, withKey = false): number {
    const c = this.#cells;
    // `seq` was masked to stay non-negative: compare against the cell as it is.
    const current = Atomics.load(c, base + SEQ);
    if ((current & 0x7fffffff) !== seq || (current & 1) !== 0) return -1;
    if (Atomics.compareExchange(c, base + SEQ, current, (current + 1) | 0) !== current) return -1;
    if (withKey) {
      Atomics.store(c, base + KEY1, this.#key1);
      Atomics.store(c, base + KEY2, this.#key2);
    }
    Atomics.store(c, base + EP_HASH, epHash);
    Atomics.store(c, base + EP_INDEX, epIndex);
    Atomics.store(c, base + EXPIRES, expires | 0);
    Atomics.store(c, base + SEQ, (current + 2) | 0);
    return ((current + 2) | 0) & 0x7fffffff;
  }

  /** The two halves of the key's hash, never both 0 (the mark of an empty entry). */
  #hashKey(backendKey: string, client: string): void {
    // Both halves in one pass over each string: FNV-1a, and MurmurHash2's step.
    let h1 = FNV_OFFSET;
    let h2 = SEED2;
    for (let i = 0; i < backendKey.length; i++) {
      const c = backendKey.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, FNV_PRIME);
      h2 = Math.imul(h2, M2) ^ Math.imul(c, M2);
    }
    h1 = Math.imul(h1 ^ 0x7c, FNV_PRIME);
    h2 = Math.imul(h2, M2) ^ 0x7c;
    for (let i = 0; i < client.length; i++) {
      const c = client.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, FNV_PRIME);
      h2 = Math.imul(h2, M2) ^ Math.imul(c, M2);
    }
    h1 = fmix(h1);
    h2 = fmix(h2 ^ 0x5f3759df);
    this.#key1 = h1;
    this.#key2 = h1 === 0 && h2 === 0 ? 1 : h2;
  }
}

/** The index in `rotation` of the endpoint whose key hashes to `hash`, trying `hint` first; -1: gone. */
function resolve(rotation: readonly EndpointView[], hash: number, hint: number): number {
  const at = rotation[hint];
  if (at !== undefined && hashString(at.key, FNV_OFFSET) === hash) return hint;
  for (let i = 0; i < rotation.length; i++) if (hashString(rotation[i]!.key, FNV_OFFSET) === hash) return i;
  return -1;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
const SEED2 = 0x2545f491;
const M2 = 0x5bd1e995;

/** FNV-1a over the UTF-16 code units of `s`, from `h`. */
export function hashString(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h | 0;
}

/** MurmurHash3's finalizer: spreads every input bit over the low bits the table index takes. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
