/**
 * Lines collected in memory and written to a file descriptor in batches, off the event loop (fs.write
 * runs on libuv's thread pool), one write in flight at a time. The access log's writer (access-log.ts).
 *
 * Why whole lines per write(2): several writers share the destination — pino's synchronous lines on
 * stdout, and every worker thread on the same file or pipe. A regular file opened with O_APPEND (or a
 * shared offset) takes each write whole; a pipe only up to PIPE_BUF bytes, so for a pipe, a terminal
 * or a socket the batch is cut at line ends into writes of at most PIPE_BUF (a single longer line goes
 * alone and may then interleave).
 *
 * Why bytes at once, not strings: a line waits up to the flush interval, long enough to survive two of
 * V8's young-generation collections at proxy rates, so every line string queued for a batch was promoted
 * to the old generation and died there: with the log on stdout, one process's peak RSS under 8 s of load
 * was 215–224 MB against 112–113 MB with `--access-log off` (2026-12-05). Each line is encoded at once
 * into a reusable slab of bytes and its string dies young.
 */
import { close as closeFd, open as openFd, write as writeFd } from 'node:fs';

/** POSIX's guarantee for an atomic pipe write; Linux's value. */
export const PIPE_BUF = 4096;

export interface BatchWriterOptions {
  /** Where lines go (an open, writable descriptor). */
  readonly fd: number;
  /** The path `fd` was opened from, for reopen(); undefined for stdout/stderr (reopen does nothing). */
  readonly path?: string | undefined;
  /** Largest write that must not be split between other writers: PIPE_BUF for pipes, Infinity for regular files. */
  readonly atomicBytes: number;
  /** Longest a line waits before its batch is written, ms; default 200 (lines are out within a second). */
  readonly flushIntervalMs?: number;
  /** A batch this large is written at once, without waiting for the interval; default 64 KiB. */
  readonly batchBytes?: number;
  /** Lines arriving while this much waits are dropped (and counted) instead; default 8 MiB. */
  readonly maxBufferBytes?: number;
  /** How often at most `onDropped` is told, ms; default 10 000. */
  readonly dropReportIntervalMs?: number;
  /** Lines dropped since the last report (a full buffer, or a failed write). */
  readonly onDropped: (count: number) => void;
  /** A write or reopen failed (the lines of a failed write are dropped). */
  readonly onError: (err: NodeJS.ErrnoException, op: 'write' | 'reopen') => void;
  /** reopen() opened the path again. */
  readonly onReopened?: () => void;
}

/** Slabs kept for reuse once their batch is written (64 KiB each by default). */
const MAX_SPARE_SLABS = 4;

/** How long a write waits after EAGAIN (a non-blocking pipe that is full) before trying again. */
const EAGAIN_RETRY_MS = 10;

export class BatchWriter {
  readonly #o: BatchWriterOptions;
  readonly #flushIntervalMs: number;
  readonly #batchBytes: number;
  readonly #maxBufferBytes: number;
  #fd: number;
  /** A descriptor reopen() got, taken at the next write. */
  #nextFd: number | undefined;
  /** The slab lines are encoded into now, and how much of it they fill. */
  #slab: Buffer | undefined;
  #used = 0;
  /** Filled slabs waiting for the next batch (each holds whole lines). */
  #full: Buffer[] = [];
  /** Bytes waiting: the filled slabs and the current one. */
  #queued = 0;
  /** Slabs of the batch being written, given back to #spare once it is out. */
  #inFlight: Buffer[] = [];
  #spare: Buffer[] = [];
  /** The batch being written, cut into chunks; [0] is in flight. */
  #chunks: Buffer[] = [];
  #writing = false;
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;
  #dropTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Set while reopen() opens the path again. */
  #reopening: Promise<void> | undefined;
  #idle: (() => void)[] = [];

  constructor(options: BatchWriterOptions) {
    this.#o = options;
    this.#fd = options.fd;
    this.#flushIntervalMs = options.flushIntervalMs ?? 200;
    this.#batchBytes = options.batchBytes ?? 64 * 1024;
    this.#maxBufferBytes = options.maxBufferBytes ?? 8 * 1024 * 1024;
  }

  /** Queues one line (ending in '\n'). */
  push(line: string): void {
    if (this.#closed) return;
    if (this.#queued + line.length > this.#maxBufferBytes) {
      this.#drop(1);
      return;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit: a line that may not fit starts a slab of its own.
    const room = line.length * 3;
    if (this.#slab === undefined || this.#slab.length - this.#used < room) {
      this.#seal();
      this.#slab = this.#takeSlab(room);
    }
    const bytes = this.#slab.write(line, this.#used, 'utf8');
    this.#used += bytes;
    this.#queued += bytes;
    if (this.#writing) return;
    if (this.#queued >= this.#batchBytes) this.#flush();
    else this.#timer ??= setTimeout(this.#onTimer, this.#flushIntervalMs).unref();
  }

  /** Moves the current slab's lines to the filled ones. */
  #seal(): void {
    if (this.#slab !== undefined && this.#used > 0) this.#full.push(this.#slab.subarray(0, this.#used));
    else if (this.#slab !== undefined) this.#spare.push(this.#slab);
    this.#slab = undefined;
    this.#used = 0;
  }

  /** A slab of at least `bytes`: a spare one when it is large enough, else a new one (outside Buffer's pool: it lives long). */
  #takeSlab(bytes: number): Buffer {
    const spare = this.#spare.pop();
    if (spare !== undefined && spare.length >= bytes) return spare;
    return Buffer.allocUnsafeSlow(Math.max(this.#batchBytes, bytes));
  }

  /** Opens the path again (after logrotate moved the file); lines from the next write on go to the new file. */
  reopen(): void {
    const path = this.#o.path;
    // A second signal while the first reopen is under way asks for the same thing.
    if (path === undefined || this.#closed || this.#reopening !== undefined) return;
    // Batches wait for the open, so that every line queued after the signal goes to the new file.
    this.#reopening = new Promise<void>((resolve) => {
      openFd(path, 'a', 0o644, (err, fd) => {
        this.#reopening = undefined;
        if (err) this.#o.onError(err, 'reopen');
        else {
          this.#nextFd = fd;
          if (!this.#writing) this.#takeNextFd();
          this.#o.onReopened?.();
        }
        resolve();
        if (!this.#closed) this.#flush();
      });
    });
  }

  /** Writes everything queued, then closes the descriptor (when it came from a path). Later lines are ignored. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await this.#reopening;
    this.#flush();
    if (this.#writing) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#dropTimer !== undefined) {
      clearTimeout(this.#dropTimer);
      this.#reportDropped();
    }
    if (this.#o.path === undefined) return;
    this.#takeNextFd();
    await new Promise<void>((resolve) => closeFd(this.#fd, () => resolve()));
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#flush();
  };

  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#writing || this.#reopening !== undefined || this.#queued === 0) return;
    this.#seal();
    this.#inFlight = this.#full;
    this.#full = [];
    this.#queued = 0;
    this.#chunks = this.#inFlight.flatMap((filled) => cutAtLines(filled, this.#o.atomicBytes));
    this.#writing = true;
    this.#takeNextFd();
    this.#writeChunk();
  }

  #writeChunk(): void {
    const chunk = this.#chunks[0]!;
    writeFd(this.#fd, chunk, 0, chunk.length, null, (err, written) => {
      if (err) {
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.#writeChunk(), EAGAIN_RETRY_MS).unref();
          return;
        }
        this.#o.onError(err, 'write');
        this.#drop(countLines(chunk));
        this.#chunks.shift();
      } else if (written < chunk.length) {
        this.#chunks[0] = chunk.subarray(written);
      } else {
        this.#chunks.shift();
      }
      if (this.#chunks.length > 0) return this.#writeChunk();
      this.#writing = false;
      // The batch is out: its slabs take lines again (a few kept; a burst's extra ones go to the GC).
      for (const filled of this.#inFlight) if (this.#spare.length < MAX_SPARE_SLABS) this.#spare.push(Buffer.from(filled.buffer, filled.byteOffset, filled.buffer.byteLength - filled.byteOffset));
      this.#inFlight = [];
      // What arrived during the write waits for a full batch or the interval, like any line: a fast
      // destination must not turn a busy proxy into one write per event-loop turn.
      if (this.#queued > 0) {
        if (this.#closed || this.#queued >= this.#batchBytes) return this.#flush();
        this.#timer ??= setTimeout(this.#onTimer, this.#flushIntervalMs).unref();
      }
      this.#takeNextFd();
      for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  #takeNextFd(): void {
    if (this.#nextFd === undefined) return;
    const old = this.#fd;
    this.#fd = this.#nextFd;
    this.#nextFd = undefined;
    closeFd(old, () => undefined);
  }

  #drop(lines: number): void {
    this.#dropped += lines;
    this.#dropTimer ??= setTimeout(() => {
      this.#dropTimer = undefined;
      this.#reportDropped();
    }, this.#o.dropReportIntervalMs ?? 10_000).unref();
  }

  #reportDropped(): void {
    if (this.#dropped === 0) return;
    const n = this.#dropped;
    this.#dropped = 0;
    this.#o.onDropped(n);
  }
}

/** `batch` cut at line ends into pieces of at most `limit` bytes (a longer line is a piece of its own). */
export function cutAtLines(batch: Buffer, limit: number): Buffer[] {
  if (batch.length <= limit) return [batch];
  const pieces: Buffer[] = [];
  let start = 0;
  while (start < batch.length) {
    if (batch.length - start <= limit) {
      pieces.push(batch.subarray(start));
      break;
    }
    let end = batch.lastIndexOf(0x0a, start + limit - 1) + 1;
    if (end <= start) end = batch.indexOf(0x0a, start) + 1 || batch.length;
    pieces.push(batch.subarray(start, end));
    start = end;
  }
  return pieces;
}

function countLines(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++;
  return n;
}
