/**
 * Per-request choice among a route's weighted backends (HTTPRoute backendRefs), beside the balancer
 * (balancer.ts), which then picks an endpoint of the chosen backend. Smooth weighted round-robin, as
 * nginx does it: each pick adds every weight to its running score, takes the highest score and takes the
 * total off it. Weights 90/10 give exactly 9 of every 10 requests to the first, the tenth to the second,
 * interleaved (never 90 in a row), and weights 1/1 alternate.
 *
 * The scores live per route in this thread, keyed by the weighted list of the current snapshot (a new
 * snapshot starts over). With several worker threads each keeps its own: the proportions hold per
 * thread, so overall, but the interleaving is per thread; exact sequences across threads would need a
 * shared score like the round-robin cursors (cursors.ts).
 */
import type { WeightedTarget } from '../snapshot/types.ts';

export class WeightedChoice {
  readonly #scores = new WeakMap<readonly WeightedTarget[], Float64Array>();

  /** The next target by weight; undefined when none has weight. */
  pick(targets: readonly WeightedTarget[]): WeightedTarget | undefined {
    const n = targets.length;
    if (n === 0) return undefined;
    if (n === 1) return targets[0]!.weight > 0 ? targets[0] : undefined;
    let scores = this.#scores.get(targets);
    if (scores === undefined) this.#scores.set(targets, (scores = new Float64Array(n)));
    let total = 0;
    let best = -1;
    for (let i = 0; i < n; i++) {
      const w = targets[i]!.weight;
      total += w;
      scores[i]! += w;
      if (w > 0 && (best < 0 || scores[i]! > scores[best]!)) best = i;
    }
    if (best < 0) return undefined;
    scores[best]! -= total;
    return targets[best];
  }
}

/** This thread's scores, shared by its listeners (plaintext and TLS). */
export const threadWeightedChoice = new WeightedChoice();
