/**
 * Tunnel counters of one data plane, kept as plain numbers and summed across worker threads
 * by the main thread (every second) for /api/v1/tunnels, /api/v1/workers and /metrics. Request metrics live
 * in traffic-stats.ts.
 */

export interface CountersView {
  /** Tunnels (WebSocket and other upgrades) open now: a gauge, not a counter. */
  readonly tunnelsOpen: number;
  /** Tunnels opened since start. */
  readonly tunnelsTotal: number;
}

export class TrafficCounters {
  tunnelsOpen = 0;
  tunnelsTotal = 0;

  view(): CountersView {
    return { tunnelsOpen: this.tunnelsOpen, tunnelsTotal: this.tunnelsTotal };
  }
}

/** Adds `b` into a copy of `a`. */
export function addCounters(a: CountersView, b: CountersView): CountersView {
  return { tunnelsOpen: a.tunnelsOpen + b.tunnelsOpen, tunnelsTotal: a.tunnelsTotal + b.tunnelsTotal };
}

/** What a worker that exited still counts: its counters, but none of its tunnels are open any more. */
export function retiredCounters(view: CountersView): CountersView {
  return { ...view, tunnelsOpen: 0 };
}

export const NO_COUNTS: CountersView = { tunnelsOpen: 0, tunnelsTotal: 0 };
