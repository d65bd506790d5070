/**
 * The access log (`--access-log stdout|stderr|PATH|off`, `--access-log-format json|combined`): one line
 * per ended exchange, formatted at once (access-log-format.ts) so the exchange is not kept, and written
 * in batches off the event loop (access-log-writer.ts). Each data-plane process has its own: with
 * `--workers N` every worker appends to the same file (O_APPEND, whole lines per write).
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { ErrorCode, SwyError } from '../errors.ts';
import type { Config } from '../flags.ts';
import type { Logger } from '../log.ts';
import type { HttpExchange } from '../dataplane/exchange.ts';
import { accessLineFormatter, refusedLineFormatter } from './access-log-format.ts';
import { BatchWriter, PIPE_BUF, type BatchWriterOptions } from './access-log-writer.ts';
import type { AccessLogSink } from './data-plane.ts';

export interface AccessLog extends AccessLogSink {
  /** Opens a file log's path again (SIGUSR1, after logrotate renamed it); nothing for stdout/stderr. */
  reopen(): void;
  /** Writes every line queued so far (bounded by 5 s: a destination that takes nothing cannot hold up a stop), then closes a file. */
  close(): Promise<void>;
}

/** Batching knobs, for tests; see BatchWriterOptions for the defaults. */
export type AccessLogTuning = Pick<BatchWriterOptions, 'flushIntervalMs' | 'batchBytes' | 'maxBufferBytes' | 'dropReportIntervalMs'>;

/** How long close() waits for the queued lines to be written. */
const CLOSE_TIMEOUT_MS = 5_000;
/** A failing destination is reported at most this often. */
const ERROR_REPORT_INTERVAL_MS = 10_000;

/**
 * The access log `config` asks for; undefined with `--access-log off`. Opens a file log at once, so a
 * path that cannot be written fails start-up with SWY_ERR_ACCESS_LOG_OPEN_FAILED.
 */
export function createAccessLog(config: Pick<Config, 'accessLog' | 'accessLogFormat'>, log: Logger, tuning: AccessLogTuning = {}): AccessLog | undefined {
  const target = config.accessLog;
  if (target === 'off') return undefined;
  const path = target === 'stdout' || target === 'stderr' ? undefined : target;
  const fd = path === undefined ? (target === 'stdout' ? 1 : 2) : openAccessLog(path);
  const alog = log.child({ component: 'access-log' });
  let lastErrorAt = -Infinity;
  const writer = new BatchWriter({
    ...tuning,
    fd,
    path,
    atomicBytes: isRegularFile(fd) ? Infinity : PIPE_BUF,
    onReopened: () => alog.info({ path }, 'access log reopened'),
    onDropped: (dropped) => alog.warn({ dropped, target }, 'access log lines dropped: the destination does not keep up or failed'),
    onError: (err, op) => {
      const now = performance.now();
      if (op === 'write' && now - lastErrorAt < ERROR_REPORT_INTERVAL_MS) return;
      if (op === 'write') lastErrorAt = now;
      alog.error({ code: err.code, op, target }, `access log ${op} failed: ${err.message}`);
    },
  });
  const format = accessLineFormatter(config.accessLogFormat);
  const formatRefused = refusedLineFormatter(config.accessLogFormat);
  return {
    write(listener: string, exchange: HttpExchange, finished: boolean, now: number): void {
      writer.push(format(listener, exchange, finished, now - exchange.trace.startedAt, Date.now()));
    },
    refused(listener, client, status, reason): void {
      writer.push(formatRefused(listener, client.address, client.port, status, reason, Date.now()));
    },
    reopen: () => writer.reopen(),
    async close() {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), CLOSE_TIMEOUT_MS).unref();
      });
      const late = await Promise.race([writer.close().then(() => false), timedOut]);
      clearTimeout(timer);
      if (late) alog.warn({ target }, `access log: lines still unwritten after ${CLOSE_TIMEOUT_MS} ms at stop; giving up on them`);
    },
  };
}

/**
 * Fails like createAccessLog would when `--access-log` names a file that cannot be opened for appending;
 * for the main thread of `--workers N`, which writes no lines itself but must refuse to start.
 */
export function checkAccessLogTarget(config: Pick<Config, 'accessLog'>): void {
  const target = config.accessLog;
  if (target === 'off' || target === 'stdout' || target === 'stderr') return;
  closeSync(openAccessLog(target));
}

function openAccessLog(path: string): number {
  try {
    return openSync(path, 'a', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    throw new SwyError(ErrorCode.ACCESS_LOG_OPEN_FAILED, `cannot open the access log ${path} for appending (${code}): its directory must exist and be writable`, { cause: err });
  }
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}
