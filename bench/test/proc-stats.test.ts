import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { plannedScaleCases } from '../scale.ts';
import { statusMemoryKiB } from '../proc-stats.ts';
import { cpuRatio } from '../summary.ts';
import { run } from './fixtures.ts';

describe('statusMemoryKiB', () => {
  it('reads VmRSS and VmHWM from /proc/<pid>/status', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t   98304 kB\nVmRSS:\t   61440 kB\nRssAnon:\t   30000 kB\nThreads:\t7\n';
    expect(statusMemoryKiB(status)).toEqual({ rssKiB: 61_440, hwmKiB: 98_304 });
  });
  it('a kernel thread or a zombie has no such lines: null, not 0', () => {
    expect(statusMemoryKiB('Name:\tkthreadd\nState:\tS (sleeping)\n')).toEqual({ rssKiB: null, hwmKiB: null });
  });
  it('this process: RSS at most its peak', () => {
    if (process.platform !== 'linux') return;
    const m = statusMemoryKiB(readFileSync('/proc/self/status', 'utf8'));
    expect(m.rssKiB).toBeGreaterThan(0);
    expect(m.rssKiB!).toBeLessThanOrEqual(m.hwmKiB!);
  });
});

describe('cpuRatio', () => {
  it('within each round, median over rounds; a round without a CPU figure on either side is left out', () => {
    const a = [run('switchyard-1', 1, { rps: 1, cpu: 70 }), run('switchyard-1', 2, { rps: 1, cpu: 90 }), run('switchyard-1', 3, { rps: 1, cpu: 80 })];
    const b = [run('nginx', 1, { rps: 1, cpu: 35 }), run('nginx', 2, { rps: 1, cpu: 30 }), { ...run('nginx', 3, { rps: 1 }), proxyCpuUsPerRequest: null }];
    expect(cpuRatio(a, b)).toBe(2.5);
    expect(cpuRatio(a, [])).toBeNull();
  });
});

describe('plannedScaleCases', () => {
  it('--quick keeps 10 and 10,000 routes × 3 endpoints, one process each', () => {
    expect(plannedScaleCases(true).cases).toEqual([
      { proxy: 'switchyard', routes: 10, endpoints: 3 },
      { proxy: 'switchyard', routes: 10_000, endpoints: 3 },
    ]);
  });
});
