/**
 * Polling instead of sleeping: a condition is checked every few milliseconds until it holds or a
 * bounded deadline passes, so tests are as fast as the system under test and never hang.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** Give up after this long; default 3000 ms. */
  readonly timeoutMs?: number;
  /** Pause between attempts; default 20 ms. */
  readonly intervalMs?: number;
  /** Said in the error when the deadline passes. */
  readonly what?: string;
}

/**
 * Calls `probe` until it returns something other than `undefined`/`false` and returns that value.
 * A probe that throws counts as "not yet"; the last error is reported if the deadline passes.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      lastValue = value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const detail = lastError instanceof Error ? `last error: ${lastError.message}` : `last value: ${String(lastValue)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'condition'} (${detail})`, { cause: lastError });
}

/** Rejects with a clear message when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
