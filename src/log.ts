import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger, LevelWithSilent };

/** Log levels accepted by --log-level. */
export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The one root logger. JSON lines on stdout, the level as a word; components log through `child({ component })`.
 * Written synchronously so the start-up `listening` lines and the last lines before exit are never lost.
 */
export function createRootLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: levelWord } }, pino.destination({ fd: 1, sync: true }));
}

/** `"level":"info"`, not pino's number (30): what an operator reads and a log pipeline filters on. */
function levelWord(label: string): { level: string } {
  return { level: label };
}
