/**
 * The dashboard's arithmetic over GET /api/v1/stats: per-Service request rate, 5xx share and latency
 * quantiles from the difference between two polls of cumulative counters. Pure and dependency-free, so
 * the browser loads it as it is (no build step) and the unit tests import the same file in Node.
 */

/** `namespace/service`: the key a Service's history is kept under. */
export function serviceKey(s) {
  return `${s.namespace}/${s.service}`;
}

/**
 * What a counter grew by between two polls. A counter that went down was reset (the process group
 * restarted, or a worker's figures were lost): like Prometheus' rate(), the current value is then all
 * growth since the reset.
 */
export function counterDelta(prev, cur) {
  if (!Number.isFinite(cur)) return 0;
  if (!Number.isFinite(prev) || cur < prev) return cur;
  return cur - prev;
}

/** Bucket upper bound in seconds; "+Inf" (as JSON carries it) is Infinity. */
function bound(le) {
  return le === '+Inf' || le === 'Inf' ? Infinity : Number(le);
}

/**
 * Cumulative buckets `[[le, count], ...]` of the current poll minus those of the previous one, matched
 * by bound. With no previous poll (or a reset: any bucket went down) the current buckets are the delta.
 */
export function bucketDelta(prev, cur) {
  const current = (cur ?? []).map(([le, n]) => [bound(le), Number(n)]).sort((a, b) => a[0] - b[0]);
  if (!prev) return current;
  const before = new Map((prev ?? []).map(([le, n]) => [bound(le), Number(n)]));
  if (current.some(([le, n]) => n < (before.get(le) ?? 0))) return current;
  return current.map(([le, n]) => [le, n - (before.get(le) ?? 0)]);
}

/**
 * The q-quantile (0..1) of cumulative buckets sorted by bound, as Prometheus' histogram_quantile computes
 * it: find the bucket the rank falls in and interpolate linearly inside it, the first bucket starting at 0
 * (when its bound is positive). A rank in the +Inf bucket answers the highest finite bound. Null when
 * there are no observations (or no finite bucket).
 */
export function histogramQuantile(q, buckets) {
  if (!buckets || buckets.length === 0 || !(q >= 0 && q <= 1)) return null;
  const total = buckets[buckets.length - 1][1];
  if (!(total > 0)) return null;
  if (buckets[buckets.length - 1][0] !== Infinity) return null;
  if (buckets.length < 2) return null;
  const rank = q * total;
  let i = buckets.findIndex(([, n]) => n >= rank);
  if (i === buckets.length - 1) return buckets[buckets.length - 2][0];
  if (i === 0 && buckets[0][0] <= 0) return buckets[0][0];
  const [upper, count] = buckets[i];
  const lower = i === 0 ? 0 : buckets[i - 1][0];
  const below = i === 0 ? 0 : buckets[i - 1][1];
  if (count === below) return upper;
  return lower + ((upper - lower) * (rank - below)) / (count - below);
}

/**
 * One point per Service from two polls: req/s, 5xx share (0..1, null with no requests) and p50/p99 in
 * seconds (null with no requests). Services absent from the previous poll count from zero, as a counter
 * that appears does. `prev` may be undefined (first poll): then there is no rate yet and the result is
 * empty.
 */
export function computeRates(prev, cur) {
  const out = new Map();
  if (!prev || !cur || !Array.isArray(cur.services)) return out;
  const seconds = (cur.at - prev.at) / 1000;
  if (!(seconds > 0)) return out;
  const before = new Map((prev.services ?? []).map((s) => [serviceKey(s), s]));
  for (const s of cur.services) {
    const p = before.get(serviceKey(s));
    const requests = counterDelta(p ? p.requests : 0, s.requests);
    // A reset of the request counter resets the error counter with it.
    const errors = p && s.requests < p.requests ? s.errors : counterDelta(p ? p.errors : 0, s.errors);
    const buckets = bucketDelta(p?.latency?.buckets, s.latency?.buckets);
    out.set(serviceKey(s), {
      rps: requests / seconds,
      errorRate: requests > 0 ? Math.min(1, errors / requests) : null,
      p50: histogramQuantile(0.5, buckets),
      p99: histogramQuantile(0.99, buckets),
    });
  }
  return out;
}

/** Keeps the last `max` points of a series (default 60: two minutes at one poll every 2 s). */
export function pushBounded(series, point, max = 60) {
  series.push(point);
  if (series.length > max) series.splice(0, series.length - max);
  return series;
}

/** Seconds as a short human figure: 850 µs, 12.3 ms, 1.25 s; an em dash for null. */
export function formatSeconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 0.001) return `${Math.round(s * 1e6)} µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}

/** A rate per second: 0, 0.50, 12.3, 1234. */
export function formatRate(r) {
  if (r === null || r === undefined || !Number.isFinite(r)) return '—';
  if (r === 0) return '0';
  if (r < 10) return r.toFixed(2);
  if (r < 100) return r.toFixed(1);
  return String(Math.round(r));
}

/** A share 0..1 as a percentage; an em dash for null. */
export function formatPercent(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (x === 0) return '0 %';
  return `${(x * 100).toFixed(x < 0.1 ? 2 : 1)} %`;
}
