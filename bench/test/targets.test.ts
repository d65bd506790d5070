import { describe, expect, it } from 'vitest';
import { evaluateTargets, type TargetCheck } from '../targets.ts';
import { run, scaleCase } from './fixtures.ts';

const candidates = [
  { id: 'direct', label: 'direct → pod 1', restRssKiB: null },
  { id: 'switchyard-1', label: 'Switchyard --workers 1', restRssKiB: 60_000 },
  { id: 'switchyard-n', label: 'Switchyard --workers 2', restRssKiB: 90_000 },
  { id: 'http-proxy', label: 'node http-proxy 1.18', restRssKiB: 50_000 },
  { id: 'fastify', label: '@fastify/http-proxy 11', restRssKiB: 70_000 },
  { id: 'nginx', label: 'nginx, 1 worker', restRssKiB: 7_000 },
];

/** Two rounds with the same figures, so every ratio reads the same in both. */
const runs = [1, 2].flatMap((round) => [
  run('direct', round, { rps: 20_000 }),
  run('switchyard-1', round, { rps: 8_000, p99: 12, cpu: 70, rssKiB: 97_000 }),
  run('switchyard-n', round, { rps: 9_000, p99: 18, cpu: 80, rssKiB: 150_000 }),
  run('http-proxy', round, { rps: 3_000 }),
  run('fastify', round, { rps: 4_100 }),
  run('nginx', round, { rps: 14_000, p99: 8, cpu: 35, rssKiB: 7_000 }),
]);

const byDescription = (checks: readonly TargetCheck[]): Record<string, Pick<TargetCheck, 'measured' | 'met'>> =>
  Object.fromEntries(checks.map((c) => [c.description, { measured: c.measured === null ? null : Number(c.measured.toFixed(4)), met: c.met }]));

describe('evaluateTargets: issue 19', () => {
  it('every target in the issue order, with its figure and verdict', () => {
    const checks = evaluateTargets({ runs, tools: ['autocannon'], candidates, scale: null });
    expect(checks.map((c) => `${c.description} ${c.comparison} ${c.threshold}${c.unit === '×' ? '×' : ` ${c.unit}`}`)).toEqual([
      'Switchyard --workers 1 req/s ÷ node http-proxy ≥ 2.5×',
      'Switchyard --workers 1 req/s ÷ @fastify/http-proxy ≥ 2×',
      "Switchyard --workers 1 proxy CPU per request ÷ nginx's ≤ 2×",
      "Switchyard --workers 2 proxy CPU per request ÷ nginx's ≤ 2×",
      'Switchyard --workers 1 p99 ÷ nginx p99 ≤ 1.5×',
      'Switchyard --workers 2 p99 ÷ nginx p99 ≤ 1.5×',
      'Switchyard --workers 1 RSS at rest ≤ 64 MB',
      'Switchyard --workers 1 RSS under load (peak of all runs) ≤ 100 MB',
      "Switchyard --workers 2 RSS at rest (all processes) ÷ Switchyard --workers 1's ≤ 1.5×",
    ]);
    expect(byDescription(checks)).toEqual({
      'Switchyard --workers 1 req/s ÷ node http-proxy': { measured: 2.6667, met: true },
      // 8,000 ÷ 4,100 = 1.95: just short.
      'Switchyard --workers 1 req/s ÷ @fastify/http-proxy': { measured: 1.9512, met: false },
      // Exactly at the threshold is met (≤).
      "Switchyard --workers 1 proxy CPU per request ÷ nginx's": { measured: 2, met: true },
      "Switchyard --workers 2 proxy CPU per request ÷ nginx's": { measured: 2.2857, met: false },
      'Switchyard --workers 1 p99 ÷ nginx p99': { measured: 1.5, met: true },
      'Switchyard --workers 2 p99 ÷ nginx p99': { measured: 2.25, met: false },
      // 60,000 KiB = 61.44 MB (10^6 bytes); 97,000 KiB = 99.33 MB.
      'Switchyard --workers 1 RSS at rest': { measured: 61.44, met: true },
      'Switchyard --workers 1 RSS under load (peak of all runs)': { measured: 99.328, met: true },
      "Switchyard --workers 2 RSS at rest (all processes) ÷ Switchyard --workers 1's": { measured: 1.5, met: true },
    });
  });

  it('ratios are taken within a round, then the median: one slow round does not sink a target', () => {
    const three = [1, 2, 3].flatMap((round) => [
      run('switchyard-1', round, { rps: round === 2 ? 2_000 : 8_000 }),
      run('http-proxy', round, { rps: 3_000 }),
    ]);
    const [vsHttpProxy] = evaluateTargets({ runs: three, tools: ['autocannon'], candidates, scale: null });
    expect(vsHttpProxy).toMatchObject({ measured: 8_000 / 3_000, met: true });
  });

  it('RSS under load is the largest sample of any run, whichever tool', () => {
    const more = [...runs, run('switchyard-1', 1, { rps: 8_000, rssKiB: 120_000, tool: 'wrk' })];
    const checks = evaluateTargets({ runs: more, tools: ['autocannon', 'wrk'], candidates, scale: null });
    const load = checks.filter((c) => c.description.includes('under load'));
    expect(load).toHaveLength(1);
    expect(load[0]).toMatchObject({ tool: 'autocannon + wrk', met: false });
    expect(load[0]!.measured).toBeCloseTo(122.88, 6);
    // Throughput, CPU and p99 are per tool: 6 rows each.
    expect(checks.filter((c) => c.tool === 'wrk')).toHaveLength(6);
  });

  it('a candidate that did not run makes its targets "not measured", never met', () => {
    const some = candidates.filter((c) => c.id !== 'nginx' && c.id !== 'fastify');
    const checks = evaluateTargets({ runs: runs.filter((r) => r.candidate !== 'nginx' && r.candidate !== 'fastify'), tools: ['autocannon'], candidates: some, scale: null });
    const notMeasured = checks.filter((c) => c.met === null).map((c) => c.description);
    expect(notMeasured).toEqual([
      'Switchyard --workers 1 req/s ÷ @fastify/http-proxy',
      "Switchyard --workers 1 proxy CPU per request ÷ nginx's",
      "Switchyard --workers 2 proxy CPU per request ÷ nginx's",
      'Switchyard --workers 1 p99 ÷ nginx p99',
      'Switchyard --workers 2 p99 ÷ nginx p99',
    ]);
    expect(checks.find((c) => c.met === null)?.measured).toBeNull();
  });

  it('without --workers (one default Switchyard) the group ratio is not measured rather than 1.00×', () => {
    const one = [{ id: 'switchyard', label: 'Switchyard (default)', restRssKiB: 60_000 }, ...candidates.filter((c) => !c.id.startsWith('switchyard'))];
    const checks = evaluateTargets({ runs: runs.map((r) => (r.candidate === 'switchyard-1' ? { ...r, candidate: 'switchyard' } : r)), tools: ['autocannon'], candidates: one, scale: null });
    expect(checks.find((c) => c.description.includes('÷ Switchyard (default)'))).toMatchObject({ measured: null, met: null });
    // One variant: one CPU row and one p99 row, not two of the same.
    expect(checks.filter((c) => c.description.includes('CPU'))).toHaveLength(1);
  });

  it('no comparison: no comparison targets, only the scale run\'s', () => {
    const quickScale = { workers: 1, cases: [scaleCase(10, 3), scaleCase(10_000, 3, { relative: 0.97, proxyPeakRssKiB: 140_000 })], runs: [], notes: [] };
    const checks = evaluateTargets({ runs: [], tools: [], candidates: [], scale: quickScale });
    // --quick's scale run has 10 and 10,000 routes × 3 endpoints: the 1,000-endpoint rows are left out, not "not measured".
    expect(checks.map((c) => [c.description, c.met])).toEqual([
      ['Switchyard --workers 1 req/s, 10,000 routes × 3 endpoints ÷ 10 routes × 3 endpoints', true],
      ['peak RSS per process, 10,000 routes × 3 endpoints, --workers 1 (one process), after load', true],
    ]);
  });
});
