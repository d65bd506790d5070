/**
 * Where round-robin cursors live. One data-plane thread keeps them in a Map (`LocalCursors`); several
 * worker threads share them (`SharedCursors`): one Int32 per backend in a SharedArrayBuffer, moved with
 * compare-and-swap, so N requests over k endpoints give each ⌊N/k⌋ or ⌈N/k⌉ whichever thread serves
 * them (issue 18: with a cursor per worker, a curl loop showed every pod twice in a row).
 *
 * A cursor holds the rotation index the next pick starts at. The balancer reads it, finds the endpoint
 * (skipping unavailable ones), and swaps in that index + 1 only if no other thread moved it meanwhile;
 * otherwise it reads again. A plain atomic add would not do: skipping an unavailable endpoint must move
 * the cursor past it, or the endpoint after it would get the skipped one's turns too.
 *
 * Slots are given out by the thread that owns snapshots (`CursorSlots`, in the main thread) and sent
 * with each snapshot, so every thread maps a backend key to the same slot. Weighted rules (weighted.ts)
 * get slots from the same table under their `weightKey`, and move theirs with `counter(key).take()`.
 */

/** The cursor of each backend, by backend key. */
export interface Cursors {
  /** The rotation index the next pick of `key` starts at (any non-negative number: callers take it modulo the rotation's length). */
  load(key: string): number;
  /** Sets the cursor to `next` if it still is `seen`; false when another thread moved it first. */
  swap(key: string, seen: number, next: number): boolean;
  /**
   * The counter of a weighted rule (weighted.ts) under `key`, kept apart from the backends' cursors; the
   * same one while the key lives. Looked up once per snapshot, not per pick.
   */
  counter(key: string): Counter;
  /** Forgets cursors of backends that no longer exist. */
  retain(keys: ReadonlySet<string> | ReadonlyMap<string, unknown>): void;
}

/**
 * A position that only moves forward, one per pick: where no pick is ever skipped (weighted.ts), so one
 * atomic add does when shared, no compare-and-swap loop.
 */
export interface Counter {
  /** The position, moved on by one in the same step. */
  take(): number;
  load(): number;
  /** Sets the position back to 0 if it still is `seen` (another thread may have moved it: then nothing). */
  rewind(seen: number): void;
}

/** A counter of one thread. */
export class LocalCounter implements Counter {
  #at = 0;
  take(): number {
    return this.#at++;
  }
  load(): number {
    return this.#at;
  }
  rewind(seen: number): void {
    if (this.#at === seen) this.#at = 0;
  }
}

class SharedCounter implements Counter {
  readonly #cells: Int32Array;
  readonly #slot: number;
  constructor(cells: Int32Array, slot: number) {
    this.#cells = cells;
    this.#slot = slot;
  }
  take(): number {
    return Atomics.add(this.#cells, this.#slot, 1);
  }
  load(): number {
    return Atomics.load(this.#cells, this.#slot);
  }
  rewind(seen: number): void {
    Atomics.compareExchange(this.#cells, this.#slot, seen, 0);
  }
}

/** Cursors of one thread. */
export class LocalCursors implements Cursors {
  readonly #cursors = new Map<string, number>();
  readonly #counters = new Map<string, LocalCounter>();

  load(key: string): number {
    return this.#cursors.get(key) ?? 0;
  }

  swap(key: string, _seen: number, next: number): boolean {
    this.#cursors.set(key, next);
    return true;
  }

  counter(key: string): Counter {
    let counter = this.#counters.get(key);
    if (counter === undefined) this.#counters.set(key, (counter = new LocalCounter()));
    return counter;
  }

  retain(keys: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    for (const key of this.#cursors.keys()) if (!keys.has(key)) this.#cursors.delete(key);
    for (const key of this.#counters.keys()) if (!keys.has(key)) this.#counters.delete(key);
  }
}

/**
 * Cursors shared by threads. A backend without a slot yet (its snapshot arrived before its slot
 * table, which travel together, so only in tests) falls back to a thread-local cursor.
 */
export class SharedCursors implements Cursors {
  readonly #cells: Int32Array;
  #slots: ReadonlyMap<string, number> = new Map();
  readonly #local = new LocalCursors();

  /** `buffer`: from `CursorSlots.buffer`, growable; the view tracks its length. */
  constructor(buffer: SharedArrayBuffer) {
    this.#cells = new Int32Array(buffer);
  }

  /** The slot of every backend of the current snapshot (`CursorSlots#assign`). */
  setSlots(slots: ReadonlyMap<string, number>): void {
    this.#slots = slots;
  }

  load(key: string): number {
    const slot = this.#slots.get(key);
    return slot === undefined || slot >= this.#cells.length ? this.#local.load(key) : Atomics.load(this.#cells, slot);
  }

  swap(key: string, seen: number, next: number): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined || slot >= this.#cells.length) return this.#local.swap(key, seen, next);
    return Atomics.compareExchange(this.#cells, slot, seen, next) === seen;
  }

  counter(key: string): Counter {
    const slot = this.#slots.get(key);
    return slot === undefined || slot >= this.#cells.length ? this.#local.counter(key) : new SharedCounter(this.#cells, slot);
  }

  retain(keys: ReadonlySet<string> | ReadonlyMap<string, unknown>): void {
    this.#local.retain(keys);
  }
}

/** Bytes of one cursor. */
const CELL = Int32Array.BYTES_PER_ELEMENT;
/** Cursors the shared buffer starts with; it grows by doubling. */
const INITIAL_CELLS = 1024;
/**
 * Most backends with a shared cursor: 4 Mi cells, 16 MiB of address space reserved, never touched
 * until used. A backend past it keeps a cursor per thread (and a warning says so).
 */
export const MAX_SHARED_CURSORS = 4 * 1024 * 1024;

/**
 * Gives each backend key a slot in the shared buffer, stable while the backend exists. A slot freed by
 * a backend that went away is reused only after one more snapshot, so a thread still on the previous
 * snapshot never moves the cursor of the backend that took it over; reused, it starts from 0 again.
 */
export class CursorSlots {
  readonly buffer = new SharedArrayBuffer(INITIAL_CELLS * CELL, { maxByteLength: MAX_SHARED_CURSORS * CELL });
  readonly #cells = new Int32Array(this.buffer);
  #slots = new Map<string, number>();
  #free: number[] = [];
  #freedLastTime: number[] = [];
  #next = 0;
  /** Backends left without a shared cursor at the last assign (over MAX_SHARED_CURSORS). */
  overflow = 0;

  /** Slots for `keys` (the backends of a new snapshot): existing ones kept, new ones given out. */
  assign(keys: Iterable<string>): ReadonlyMap<string, number> {
    const previous = this.#slots;
    const slots = new Map<string, number>();
    const reusable = this.#free;
    this.#free = this.#freedLastTime;
    this.overflow = 0;
    for (const key of keys) {
      const kept = previous.get(key);
      if (kept !== undefined) {
        slots.set(key, kept);
        continue;
      }
      const slot = reusable.pop() ?? this.#fresh();
      if (slot === undefined) {
        this.overflow++;
        continue;
      }
      Atomics.store(this.#cells, slot, 0);
      slots.set(key, slot);
    }
    this.#freedLastTime = [];
    for (const [key, slot] of previous) if (!slots.has(key)) this.#freedLastTime.push(slot);
    this.#free.push(...reusable);
    this.#slots = slots;
    return slots;
  }

  #fresh(): number | undefined {
    if (this.#next >= MAX_SHARED_CURSORS) return undefined;
    if (this.#next >= this.#cells.length) this.buffer.grow(Math.min(MAX_SHARED_CURSORS, this.#cells.length * 2) * CELL);
    return this.#next++;
  }
}
