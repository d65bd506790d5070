import type { Snapshot } from './types.ts';

type SwapListener = (next: Snapshot, previous: Snapshot) => void;

/** Holds the current snapshot. A swap is one reference assignment; readers take current() once per request. */
export class SnapshotHolder {
  #current: Snapshot;
  readonly #listeners: SwapListener[] = [];

  constructor(initial: Snapshot) {
    this.#current = initial;
  }

  current(): Snapshot {
    return this.#current;
  }

  swap(next: Snapshot): void {
    const previous = this.#current;
    this.#current = next;
    for (const fn of this.#listeners) fn(next, previous);
  }

  onSwap(fn: SwapListener): () => void {
    this.#listeners.push(fn);
    return () => {
      const i = this.#listeners.indexOf(fn);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }
}
