/**
 * Traffic counters of one data-plane process, kept as plain numbers (no allocation per request) and
 * summed across worker processes by the primary for the admin API's /metrics.
 */

/** Responses by listener role and status class: index 1 = 1xx … 5 = 5xx, 0 = no status (connection cut). */
export interface CountersView {
  readonly responses: Readonly<Record<string, readonly number[]>>;
  readonly retries: number;
  /** Tunnels (WebSocket and other upgrades) open now: a gauge, not a counter. */
  readonly tunnelsOpen: number;
  /** Tunnels opened since start. */
  readonly tunnelsTotal: number;
}

export class TrafficCounters {
  readonly #responses = new Map<string, number[]>();
  retries = 0;
  tunnelsOpen = 0;
  tunnelsTotal = 0;

  /** The array a listener of `role` counts into; looked up once per listener, not per request. */
  forRole(role: string): number[] {
    let counts = this.#responses.get(role);
    if (counts === undefined) this.#responses.set(role, (counts = [0, 0, 0, 0, 0, 0]));
    return counts;
  }

  view(): CountersView {
    return {
      responses: Object.fromEntries([...this.#responses].map(([role, c]) => [role, [...c]])),
      retries: this.retries,
      tunnelsOpen: this.tunnelsOpen,
      tunnelsTotal: this.tunnelsTotal,
    };
  }
}

/** Adds `b` into a copy of `a`. */
export function addCounters(a: CountersView, b: CountersView): CountersView {
  const responses: Record<string, number[]> = {};
  for (const view of [a, b]) {
    for (const [role, counts] of Object.entries(view.responses)) {
      const sum = (responses[role] ??= [0, 0, 0, 0, 0, 0]);
      counts.forEach((n, i) => (sum[i]! += n));
    }
  }
  return { responses, retries: a.retries + b.retries, tunnelsOpen: a.tunnelsOpen + b.tunnelsOpen, tunnelsTotal: a.tunnelsTotal + b.tunnelsTotal };
}

/** What a worker that exited still counts: its counters, but none of its tunnels are open any more. */
export function retiredCounters(view: CountersView): CountersView {
  return { ...view, tunnelsOpen: 0 };
}

export const NO_COUNTS: CountersView = { responses: {}, retries: 0, tunnelsOpen: 0, tunnelsTotal: 0 };
