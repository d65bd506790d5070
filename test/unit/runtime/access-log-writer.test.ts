/**
 * The access log's batched writer (runtime/access-log-writer.ts) and its composition (runtime/access-log.ts),
 * on real files: lines are batched into few writes, out within the interval, all out at close, capped
 * (counted, reported) when the destination does not keep up, and written to the new file after reopen.
 */
import { mkdtempSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HttpExchange } from '../../../src/dataplane/exchange.ts';
import { ExchangeTrace } from '../../../src/dataplane/exchange-trace.ts';
import { checkAccessLogTarget, createAccessLog } from '../../../src/runtime/access-log.ts';
import { BatchWriter, cutAtLines, type BatchWriterOptions } from '../../../src/runtime/access-log-writer.ts';

// Counts write(2) calls the writer makes (the real write still happens).
const writes = vi.hoisted(() => ({ n: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    write: ((...args: Parameters<typeof real.write>) => {
      writes.n++;
      return (real.write as (...a: unknown[]) => void)(...args);
    }) as typeof real.write,
  };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'swy-alog-'));
  writes.n = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').filter(Boolean);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writer(path: string, options: Partial<BatchWriterOptions> = {}) {
  const dropped: number[] = [];
  const errors: string[] = [];
  const w = new BatchWriter({
    fd: fs.openSync(path, 'a'),
    path,
    atomicBytes: Infinity,
    onDropped: (n) => dropped.push(n),
    onError: (err, op) => errors.push(`${op}:${err.code}`),
    ...options,
  });
  return { w, dropped, errors };
}

describe('BatchWriter', () => {
  it('batches: 1000 lines pushed at once reach the file in one write, within the interval', async () => {
    const path = join(dir, 'a.log');
    const { w } = writer(path, { flushIntervalMs: 100 });
    for (let i = 0; i < 1000; i++) w.push(`{"n":${i}}\n`);
    expect(writes.n).toBe(0);
    await sleep(20);
    expect(lines(path)).toEqual([]);
    await vi.waitFor(() => expect(lines(path)).toHaveLength(1000), { timeout: 1000, interval: 10 });
    expect(writes.n).toBe(1);
    expect(lines(path).map((l) => JSON.parse(l).n)).toEqual([...Array(1000).keys()]);
    await w.close();
  });

  it('a single line is out within the interval, with no more lines to fill a batch', async () => {
    const path = join(dir, 'a.log');
    const { w } = writer(path, { flushIntervalMs: 200 });
    const t0 = performance.now();
    w.push('one\n');
    await vi.waitFor(() => expect(lines(path)).toEqual(['one']), { timeout: 1000, interval: 10 });
    expect(performance.now() - t0).toBeLessThan(1000);
    await w.close();
  });

  it('a full batch is written at once, without waiting for the interval', () => {
    const { w } = writer(join(dir, 'a.log'), { flushIntervalMs: 60_000, batchBytes: 100 });
    for (let i = 0; i < 9; i++) w.push('0123456789\n');
    expect(writes.n).toBe(0);
    w.push('0123456789\n');
    expect(writes.n).toBe(1);
    return w.close();
  });

  it('lines are bytes at once: non-ASCII lines, lines longer than a slab, and slabs reused across batches arrive intact and in order', async () => {
    const path = join(dir, 'a.log');
    // 100-byte slabs: most lines start a slab, and every batch's slabs are reused by the next ones.
    const { w } = writer(path, { flushIntervalMs: 5, batchBytes: 100 });
    const sent: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const line = i % 97 === 0 ? `long ${i} ${'x€'.repeat(200)}` : `{"n":${i},"ua":"café ☕ ${'é'.repeat(i % 13)}"}`;
      sent.push(line);
      w.push(`${line}\n`);
      if (i % 500 === 0) await sleep(10); // let batches go out while others are queued
    }
    await w.close();
    expect(readFileSync(path, 'utf8')).toBe(sent.map((l) => `${l}\n`).join(''));
  });

  it('close writes everything queued, including what arrived during a write, then ignores later lines', async () => {
    const path = join(dir, 'a.log');
    const { w } = writer(path, { flushIntervalMs: 60_000, batchBytes: 1000 });
    for (let i = 0; i < 20_000; i++) w.push(`line ${i}\n`);
    await w.close();
    w.push('late\n');
    const got = lines(path);
    expect(got).toHaveLength(20_000);
    expect(got.at(-1)).toBe('line 19999');
    await sleep(10);
    expect(lines(path)).toHaveLength(20_000);
  });

  it('reopen after a rename: later lines go to a new file at the path', async () => {
    const path = join(dir, 'a.log');
    const { w, errors } = writer(path, { flushIntervalMs: 20 });
    w.push('before\n');
    await vi.waitFor(() => expect(lines(path)).toEqual(['before']), { timeout: 1000, interval: 5 });
    renameSync(path, `${path}.1`);
    w.reopen();
    await vi.waitFor(() => expect(fs.existsSync(path)).toBe(true), { timeout: 1000, interval: 5 });
    w.push('after\n');
    await w.close();
    expect(lines(`${path}.1`)).toEqual(['before']);
    expect(lines(path)).toEqual(['after']);
    expect(errors).toEqual([]);
  });

  it('a reopen that fails keeps writing to the old file and says so', async () => {
    const path = join(dir, 'sub', 'a.log');
    fs.mkdirSync(join(dir, 'sub'));
    const { w, errors } = writer(path, { flushIntervalMs: 20 });
    renameSync(join(dir, 'sub'), join(dir, 'moved'));
    w.reopen();
    await vi.waitFor(() => expect(errors).toEqual(['reopen:ENOENT']), { timeout: 1000, interval: 5 });
    w.push('still\n');
    await w.close();
    expect(lines(join(dir, 'moved', 'a.log'))).toEqual(['still']);
  });

  it('beyond the buffer cap lines are dropped, counted and reported once per interval', async () => {
    const path = join(dir, 'a.log');
    const { w, dropped } = writer(path, { flushIntervalMs: 60_000, batchBytes: 1 << 20, maxBufferBytes: 100, dropReportIntervalMs: 50 });
    for (let i = 0; i < 30; i++) w.push('0123456789\n'); // 11 bytes: 9 fit in 100
    expect(dropped).toEqual([]);
    await vi.waitFor(() => expect(dropped).toEqual([21]), { timeout: 1000, interval: 5 });
    await w.close();
    expect(lines(path)).toHaveLength(9);
  });

  it('a failing destination (/dev/full: ENOSPC) reports the error and the lost lines', async () => {
    const dropped: number[] = [];
    const errors: string[] = [];
    const w = new BatchWriter({ fd: openSync('/dev/full', 'w'), path: '/dev/full', atomicBytes: Infinity, flushIntervalMs: 10, onDropped: (n) => dropped.push(n), onError: (err, op) => errors.push(`${op}:${err.code}`) });
    w.push('a\n');
    w.push('b\n');
    await w.close();
    expect(errors).toEqual(['write:ENOSPC']);
    expect(dropped).toEqual([2]);
  });

  it('to a pipe, a batch goes in writes of at most PIPE_BUF, cut at line ends', async () => {
    const path = join(dir, 'a.log');
    const { w } = writer(path, { flushIntervalMs: 60_000, atomicBytes: 100 });
    for (let i = 0; i < 50; i++) w.push('0123456789\n');
    await w.close();
    expect(writes.n).toBe(Math.ceil(50 / 9));
    expect(lines(path)).toHaveLength(50);
  });
});

describe('cutAtLines', () => {
  const b = (s: string) => Buffer.from(s);
  it.each([
    ['fits', 'a\nb\n', 10, ['a\nb\n']],
    ['cut at the last line end within the limit', 'aa\nbb\ncc\n', 6, ['aa\nbb\n', 'cc\n']],
    ['exactly the limit', 'aa\nbb\n', 3, ['aa\n', 'bb\n']],
    ['a line longer than the limit goes alone, whole', 'a\nbbbbbbbb\nc\n', 4, ['a\n', 'bbbbbbbb\n', 'c\n']],
  ])('%s', (_name, input, limit, expected) => {
    expect(cutAtLines(b(input), limit).map(String)).toEqual(expected);
  });
});

function fakeExchange(): HttpExchange {
  return {
    method: 'GET',
    url: '/x',
    host: 'a.example',
    rawHeaders: [],
    statusCode: 204,
    headersSent: true,
    protocol: 'http/1.1',
    scheme: 'http',
    remoteAddress: '127.0.0.1',
    requestId: 'id-1',
    trace: new ExchangeTrace(1234),
  } as unknown as HttpExchange;
}

describe('createAccessLog', () => {
  const log = pino({ level: 'silent' });

  it('off: no sink at all (the data plane then skips the access log entirely)', () => {
    expect(createAccessLog({ accessLog: 'off', accessLogFormat: 'json' }, log)).toBeUndefined();
  });

  it.each(['json', 'combined'] as const)('a file in %s: one line per exchange, written by close', async (format) => {
    const path = join(dir, 'access.log');
    const alog = createAccessLog({ accessLog: path, accessLogFormat: format }, log, { flushIntervalMs: 60_000 })!;
    alog.write('ingress', fakeExchange(), true, performance.now());
    alog.write('ingress', fakeExchange(), true, performance.now());
    await alog.close();
    const got = lines(path);
    expect(got).toHaveLength(2);
    if (format === 'json') expect(JSON.parse(got[0]!)).toMatchObject({ status: 204, requestId: 'id-1', path: '/x', listener: 'ingress' });
    else expect(got[0]).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/x HTTP\/1\.1" 204 0 "-" "-"$/);
  });

  it.each([
    ['a missing directory', (d: string) => join(d, 'nope', 'access.log'), 'ENOENT'],
    ['a directory', (d: string) => d, 'EISDIR'],
  ])('%s fails at once with a coded error naming the path', (_name, pathOf, code) => {
    const path = pathOf(dir);
    for (const open of [() => createAccessLog({ accessLog: path, accessLogFormat: 'json' }, log), () => checkAccessLogTarget({ accessLog: path })]) {
      let err: unknown;
      try {
        open();
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'SWY_ERR_ACCESS_LOG_OPEN_FAILED' });
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toContain(code);
    }
  });
});
