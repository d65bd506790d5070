/**
 * Medians and per-round ratios: pure functions over measured runs.
 */

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median of the known values; null when there is none. */
export function medianOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length === 0 ? null : median(known);
}

export function maxOrNull(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : Math.max(...known);
}

/**
 * a ÷ b of a metric, taken within each round (so both sides saw the same machine state), then the
 * median over rounds. null when a round lacks either side.
 */
export function pairedRatio<R extends { readonly round: number }>(runsA: readonly R[], runsB: readonly R[], metric: (r: R) => number): { median: number | null; perRound: number[] } {
  const perRound: number[] = [];
  for (const a of runsA) {
    const b = runsB.find((r) => r.round === a.round);
    if (b === undefined) continue;
    perRound.push(metric(a) / metric(b));
  }
  return { median: perRound.length === 0 ? null : median(perRound), perRound };
}
