/**
 * Progress on stderr, so stdout carries only the tables.
 */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** One line for a finished run. */
export function runLine(r: { reqPerSec: number; latencyMs: { p50: number; p99: number }; errors: number; timeouts: number; non2xx: number; proxyCpuUsPerRequest: number | null }): string {
  const cpu = r.proxyCpuUsPerRequest === null ? '' : `, proxy CPU ${fixed(r.proxyCpuUsPerRequest, 1)} µs/req`;
  return `  ${Math.round(r.reqPerSec)} req/s, p50 ${fixed(r.latencyMs.p50, 2)} ms, p99 ${fixed(r.latencyMs.p99, 2)} ms, errors ${r.errors + r.timeouts}, non-2xx ${r.non2xx}${cpu}`;
}
