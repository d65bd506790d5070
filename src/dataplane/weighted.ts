/**
 * Per-request choice among a route's weighted backends (HTTPRoute and GRPCRoute backendRefs, an Ingress
 * canary), beside the balancer (balancer.ts), which then picks an endpoint of the chosen backend.
 *
 * Smooth weighted round-robin, as nginx does it (each pick adds every weight to its running score, takes
 * the highest score and takes the total off it), computed once per weighted list into the sequence of
 * one period (`weightedSequence`): weights 90/10 give the period b0 b0 b0 b0 b0 b1 b0 b0 b0 b0, exactly 9
 * of every 10 requests to the first, interleaved; 1/1 alternate. A pick is `sequence[position % length]`
 * and the position one counter per rule that only moves forward. With several worker threads the
 * counter is a shared cursor (cursors.ts, slot given by the main thread under the rule's `weightKey`),
 * moved with one atomic add: the interleaving is exact over all threads together (issue 17 item 3), as
 * the round-robin over endpoints is. The counter survives snapshot swaps while the rule exists.
 */
import type { Snapshot, WeightedTarget } from '../snapshot/types.ts';
import { LocalCounter, LocalCursors, type Counter, type Cursors } from './cursors.ts';

/**
 * Longest sequence kept per weighted list. Weights are divided by their greatest common divisor first;
 * a sum still above this is scaled down to it, each weight rounded, none above 0 below 1. Each rounding
 * is at most half a step of 1/MAX_SEQUENCE, and the sum moves by at most half a step per weight: with the
 * 16 backendRefs Gateway API allows a share moves by under 0.1 percentage point, well inside the ±2 % of
 * issue 17; the memory stays 20 KB a rule.
 */
export const MAX_SEQUENCE = 10_000;
/**
 * A counter this far along is set back by a whole number of periods (to 0 at a period's end), so an
 * Int32 never wraps mid-period; a thread that loses that race leaves it to the next period's end.
 */
const REWIND_AT = 2 ** 30;

/** One period of smooth weighted round-robin over `weights`: indices into them. Empty when none is above 0. */
export function weightedSequence(weights: readonly number[]): Uint16Array {
  const w = reduced(weights);
  let total = 0;
  for (const x of w) total += x;
  const out = new Uint16Array(total);
  const scores = new Float64Array(w.length);
  for (let k = 0; k < total; k++) {
    let best = -1;
    for (let i = 0; i < w.length; i++) {
      scores[i]! += w[i]!;
      if (w[i]! > 0 && (best < 0 || scores[i]! > scores[best]!)) best = i;
    }
    scores[best]! -= total;
    out[k] = best;
  }
  return out;
}

/** Weights divided by their gcd, scaled down to MAX_SEQUENCE when their sum is above it. */
function reduced(weights: readonly number[]): number[] {
  const positive = weights.map((x) => (x > 0 && Number.isFinite(x) ? x : 0));
  const integers = positive.every(Number.isInteger);
  const divisor = integers ? positive.reduce(gcd, 0) : 0;
  const w = divisor > 1 ? positive.map((x) => x / divisor) : positive;
  const sum = w.reduce((a, b) => a + b, 0);
  if (sum <= MAX_SEQUENCE && integers) return w;
  const scaled = w.map((x) => (x > 0 ? Math.max(1, Math.round((x * MAX_SEQUENCE) / sum)) : 0));
  const again = scaled.reduce(gcd, 0);
  return again > 1 ? scaled.map((x) => x / again) : scaled;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

interface Entry {
  readonly sequence: Uint16Array;
  /** The rule's counter; a list without a weightKey has one of its own. */
  readonly counter: Counter;
}

/** Where a pick would land: the target and its position in the period. */
export interface WeightedPeek {
  readonly target: WeightedTarget;
  readonly index: number;
  readonly position: number;
  readonly length: number;
}

export class WeightedChoice {
  readonly #entries = new WeakMap<readonly WeightedTarget[], Entry>();
  #counters: Cursors;
  /** The counters when they are this thread's own (then `retain` frees them); undefined once shared. */
  #own: LocalCursors | undefined;

  /** `counters`: the worker threads' shared cursors; default: this thread's own. */
  constructor(counters?: Cursors) {
    this.#own = counters === undefined ? new LocalCursors() : undefined;
    this.#counters = counters ?? this.#own!;
  }

  /** Moves the counters to the worker threads' shared cursors (worker-main.ts; primary.ts to peek). */
  share(counters: Cursors): void {
    this.#counters = counters;
    this.#own = undefined;
  }

  /**
   * The next target by weight; undefined when none has weight. `key`: the route's `weightKey`, the counter
   * shared by threads and kept across snapshots; undefined: a counter of this list alone.
   */
  pick(targets: readonly WeightedTarget[], key?: string): WeightedTarget | undefined {
    const n = targets.length;
    if (n === 0) return undefined;
    if (n === 1) return targets[0]!.weight > 0 ? targets[0] : undefined;
    const entry = this.#entry(targets, key);
    const length = entry.sequence.length;
    if (length === 0) return undefined;
    const at = entry.counter.take();
    if (at >= REWIND_AT && (at + 1) % length === 0) entry.counter.rewind(at + 1);
    return targets[entry.sequence[(at >>> 0) % length]!];
  }

  /** Where the next pick of `targets` goes, without taking it (explain); undefined when none has weight. */
  peek(targets: readonly WeightedTarget[], key?: string): WeightedPeek | undefined {
    const entry = this.#entry(targets, key);
    const length = entry.sequence.length;
    if (length === 0) return undefined;
    const position = (entry.counter.load() >>> 0) % length;
    const index = entry.sequence[position]!;
    return { target: targets[index]!, index, position, length };
  }

  /**
   * Forgets this thread's own counters of rules no longer in `snapshot`. Shared ones are not touched: the
   * main thread frees their slots (CursorSlots), and their per-thread fallback is the balancer's to retain.
   */
  retain(snapshot: Pick<Snapshot, 'routes' | 'gatewayPorts'>): void {
    this.#own?.retain(weightKeys(snapshot));
  }

  #entry(targets: readonly WeightedTarget[], key: string | undefined): Entry {
    let entry = this.#entries.get(targets);
    if (entry === undefined) {
      // Once per list and snapshot: the sequence, and the counter found by key (a shared slot's, with workers).
      entry = { sequence: weightedSequence(targets.map((t) => t.weight)), counter: key === undefined ? new LocalCounter() : this.#counters.counter(key) };
      this.#entries.set(targets, entry);
    }
    return entry;
  }
}

/**
 * The weightKey of every weighted route of `snapshot` (Ingress routes and each Gateway port's): the
 * shared counters the main thread gives slots to with each snapshot (primary.ts). They never collide
 * with backend keys: they start with a kind (`HTTPRoute/`, `Ingress/`…), and namespaces are lower-case.
 */
export function weightKeys(snapshot: Pick<Snapshot, 'routes' | 'gatewayPorts'>): Set<string> {
  const keys = new Set<string>();
  const add = (list: readonly { readonly weighted?: unknown; readonly weightKey?: string; readonly next?: unknown }[]): void => {
    for (const head of list) {
      for (let r = head as (typeof list)[number] | undefined; r !== undefined; r = r.next as typeof r) if (r.weighted !== undefined && r.weightKey !== undefined) keys.add(r.weightKey);
    }
  };
  add(snapshot.routes.list);
  if (snapshot.routes.defaultBackend !== undefined) add([snapshot.routes.defaultBackend]);
  for (const port of snapshot.gatewayPorts?.values() ?? []) add(port.routes.list);
  return keys;
}

/** This thread's weighted choice, shared by its listeners (plaintext, TLS and Gateway ports). */
export const threadWeightedChoice = new WeightedChoice();
