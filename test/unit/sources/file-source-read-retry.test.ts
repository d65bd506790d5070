/**
 * ReadRetry, the read-error episode of the file source: one warning when it starts and one info line
 * when it ends (never one per retry), retries with capped backoff, and the admin view in between.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReadFailure } from '../../../src/sources/manifest-scan.ts';
import { ReadRetry } from '../../../src/sources/read-retry.ts';

const failure = (code: string, op: ReadFailure['op'] = 'list'): ReadFailure => ({ op, error: Object.assign(new Error(`${code}: injected`), { code }) });

function harness(backoff = { initialMs: 100, maxMs: 400 }) {
  const logs: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as (typeof logs)[number]) });
  let clock = 1_000_000;
  let retries = 0;
  // random() = 1: every delay is its ceiling, so the sequence is exact.
  const retry = new ReadRetry({ log, backoff, retry: () => retries++, now: () => clock, random: () => 1 });
  return {
    retry,
    logs,
    retries: () => retries,
    advance(ms: number) {
      clock += ms;
      vi.advanceTimersByTime(ms);
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ReadRetry', () => {
  it('retries after 100, 200, 400, 400 ms (capped), warning once, and reports the recovery once', () => {
    const h = harness();
    const failing = new Map([['/m', failure('EMFILE')]]);
    const delays: (number | null)[] = [];
    h.retry.settle(failing);
    for (let i = 0; i < 4; i++) {
      const view = h.retry.view()!;
      delays.push(view.retryInMs);
      expect(view.attempts).toBe(i);
      h.advance(view.retryInMs! - 1);
      expect(h.retries()).toBe(i);
      h.advance(1);
      expect(h.retries()).toBe(i + 1);
      expect(h.retry.view()!.retryInMs).toBeNull(); // the retry pass is running
      h.retry.settle(failing);
    }
    expect(delays).toEqual([100, 200, 400, 400]);
    expect(h.logs.filter((l) => l.level === 40)).toHaveLength(1);
    expect(h.logs[0]).toMatchObject({ level: 40, code: 'EMFILE', path: '/m', op: 'list', paths: 1 });
    expect(h.retry.view()).toMatchObject({ code: 'EMFILE', path: '/m', paths: ['/m'], since: new Date(1_000_000).toISOString(), attempts: 4 });

    h.advance(50);
    h.retry.settle(new Map());
    expect(h.retry.view()).toBeNull();
    expect(h.retry.active).toBe(false);
    const info = h.logs.filter((l) => l.level === 30);
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ code: 'EMFILE', path: '/m', attempts: 4, durationMs: 100 + 200 + 400 + 400 + 50 });
    // The armed retry was cancelled with the episode.
    h.advance(1000);
    expect(h.retries()).toBe(4);
  });

  it('names the first unreadable path in sorted order and follows what is unreadable now', () => {
    const h = harness();
    h.retry.settle(new Map([['/m/z', failure('EIO')], ['/m/b.yaml', failure('EACCES', 'read')]]));
    expect(h.retry.view()).toMatchObject({ code: 'EACCES', path: '/m/b.yaml', paths: ['/m/b.yaml', '/m/z'] });
    h.retry.settle(new Map([['/m/z', failure('EIO')]]));
    expect(h.retry.view()).toMatchObject({ code: 'EIO', path: '/m/z', paths: ['/m/z'], attempts: 1 });
    expect(h.logs.filter((l) => l.level === 40)).toHaveLength(1);
  });

  it('a pass that reads everything outside an episode logs nothing; a new episode warns again', () => {
    const h = harness();
    h.retry.settle(new Map());
    expect(h.logs).toEqual([]);
    h.retry.settle(new Map([['/m', failure('EMFILE')]]));
    h.retry.settle(new Map());
    h.retry.settle(new Map([['/m', failure('ENFILE')]]));
    expect(h.logs.map((l) => l.level)).toEqual([40, 30, 40]);
    expect(h.retry.view()).toMatchObject({ code: 'ENFILE', attempts: 0 });
  });

  it('close() cancels the armed retry', () => {
    const h = harness();
    h.retry.settle(new Map([['/m', failure('EMFILE')]]));
    h.retry.close();
    h.advance(10_000);
    expect(h.retries()).toBe(0);
  });
});
