import { describe, expect, it } from 'vitest';
import { elapsedText, overviewRows, summaryTool } from '../overview.ts';
import { summarizeAll } from '../summary.ts';
import { overviewTable } from '../tables.ts';
import { run, scaleCase } from './fixtures.ts';

const candidates = [
  { id: 'direct', label: 'direct → pod 1', setup: '', restRssKiB: null, restProcesses: null },
  { id: 'switchyard-1', label: 'Switchyard --workers 1', setup: '', restRssKiB: 58_594, restProcesses: 1 },
  { id: 'http-proxy-3', label: 'http-proxy-3 2.0', setup: '', restRssKiB: 48_828, restProcesses: 1 },
  { id: 'nginx', label: 'nginx, 1 worker', setup: '', restRssKiB: 6_836, restProcesses: 2 },
];

// Round 2 is slower for everyone: the ratios stay those of each round.
const runs = [
  run('direct', 1, { rps: 20_000 }),
  run('switchyard-1', 1, { rps: 8_000, p99: 12, cpu: 70, rssKiB: 95_000 }),
  run('http-proxy-3', 1, { rps: 4_000, p99: 20, cpu: 200, rssKiB: 80_000, errors: 3 }),
  run('nginx', 1, { rps: 16_000, p99: 8, cpu: 35, rssKiB: 7_000 }),
  run('direct', 2, { rps: 10_000 }),
  run('switchyard-1', 2, { rps: 4_000, p99: 14, cpu: 72, rssKiB: 97_000 }),
  run('http-proxy-3', 2, { rps: 2_000, p99: 22, cpu: 210, rssKiB: 81_000 }),
  run('nginx', 2, { rps: 8_000, p99: 9, cpu: 36, rssKiB: 7_100 }),
  // Another tool's runs do not leak into the autocannon summary.
  run('switchyard-1', 1, { rps: 1, tool: 'wrk', rssKiB: 500_000 }),
];

const comparison = { candidates, ...summarizeAll(runs, ['autocannon', 'wrk'], candidates.map((c) => c.id)) };
const scale = {
  workers: 1,
  cases: [scaleCase(10, 3), scaleCase(10_000, 3, { reqPerSec: 6_800, p99Ms: 13, proxyCpuUsPerRequest: 75, restRssKiB: 117_188, loadRssKiB: 136_719 }), scaleCase(10_000, 1_000)],
  runs: [],
  notes: [],
};

describe('overviewRows', () => {
  it('one row per candidate of the summary tool, then Switchyard with 10,000 routes × 3 endpoints from the scale run', () => {
    const rows = overviewRows({ tool: 'autocannon', comparison, scale });
    expect(rows.map((r) => r.label)).toEqual(['direct → pod 1', 'Switchyard --workers 1', 'http-proxy-3 2.0', 'nginx, 1 worker', 'Switchyard --workers 1, 10,000 routes (scale run, autocannon)']);
    expect(rows[1]).toEqual({
      label: 'Switchyard --workers 1',
      reqPerSec: 6_000,
      toNginx: 0.5,
      toDirect: 0.4,
      cpuUsPerRequest: 71,
      p99Ms: 13,
      restRssKiB: 58_594,
      loadRssKiB: 97_000,
      processes: 1,
      failures: 0,
    });
    expect(rows[0]).toMatchObject({ toDirect: 1, toNginx: 1.25, cpuUsPerRequest: null, loadRssKiB: null });
    expect(rows[2]).toMatchObject({ failures: 3 });
    expect(rows[3]).toMatchObject({ toNginx: 1, toDirect: 0.8, processes: 2 });
    expect(rows[4]).toMatchObject({ reqPerSec: 6_800, toNginx: null, toDirect: null, restRssKiB: 117_188, loadRssKiB: 136_719 });
  });

  it('no comparison (--scale-only): the scale row alone; nothing at all: no rows', () => {
    expect(overviewRows({ tool: null, comparison: null, scale }).map((r) => r.label)).toEqual(['Switchyard --workers 1, 10,000 routes (scale run, autocannon)']);
    expect(overviewRows({ tool: null, comparison: null, scale: null })).toEqual([]);
  });
});

describe('overviewTable', () => {
  it('renders ratios with ×, RSS in MB (10^6 bytes), a dash for what has no figure, errors beside the label', () => {
    const lines = overviewTable(overviewRows({ tool: 'autocannon', comparison, scale }));
    expect(lines[0]).toBe('| candidate | req/s | × nginx | × direct | proxy CPU µs/req | p99 ms | RSS at rest | RSS under load (peak) | processes |');
    expect(lines[1]).toBe('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    expect(lines.slice(2)).toEqual([
      '| direct → pod 1 | 15,000 | 1.25× | 1.00× | — | 5.00 | — | — | — |',
      '| Switchyard --workers 1 | 6,000 | 0.50× | 0.40× | 71.0 | 13.00 | 60 MB | 99 MB | 1 |',
      '| http-proxy-3 2.0 (3 errors) | 3,000 | 0.25× | 0.20× | 205.0 | 21.00 | 50 MB | 83 MB | 1 |',
      '| nginx, 1 worker | 12,000 | 1.00× | 0.80× | 35.5 | 8.50 | 7 MB | 7 MB | 2 |',
      '| Switchyard --workers 1, 10,000 routes (scale run, autocannon) | 6,800 | — | — | 75.0 | 13.00 | 120 MB | 140 MB | 1 |',
    ]);
  });
});

describe('summaryTool and elapsedText', () => {
  it('wrk when it ran, else the first tool', () => {
    expect(summaryTool(['autocannon', 'wrk'])).toBe('wrk');
    expect(summaryTool(['autocannon'])).toBe('autocannon');
    expect(summaryTool([])).toBeNull();
  });
  it('seconds, then minutes and seconds', () => {
    expect(elapsedText(38.4)).toBe('38 s');
    expect(elapsedText(102.6)).toBe('1 min 43 s');
  });
});
