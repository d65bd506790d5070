/**
 * One full garbage collection when start-up is done, before the process takes traffic, when start-up
 * left a large heap behind (`--startup-gc-heap`, in MB of heap in use; default 32).
 *
 * Why: reading and compiling a large configuration leaves its garbage in V8's old generation (at 10,000
 * Ingresses: the YAML text, parsed documents, the compile's intermediates; 53 MB of heap in use before
 * the collection, 35 MB after). V8 collects it only when the old generation grows enough, so under load
 * the process carried it beside its working set: peak RSS with 10,000 routes under 10 s of load was
 * 146–148 MiB without the collection and 137 MiB with it, side by side.
 *
 * Why not always: a forced full collection at that moment has a lasting CPU cost. Under callgrind, every
 * request afterwards ran ~5 % more instructions (216k and 217k per request against 205k and 212k
 * without, two runs each; an async major collection and one run from inside a tick cost the same): Node's
 * process.nextTick, which streams call about six times per request, then defines its tick objects'
 * symbol-keyed properties through the V8 runtime (12.5 calls of DefineKeyedOwnPropertyInLiteral per
 * request, against 2.4 without). A small configuration frees ~1–2 MB and no RSS (10 routes: 17.7 → 16.7
 * MB of heap; 1,000 routes: 21 → 19), so it is not worth that; the default threshold lies between 1,000
 * routes (21 MB) and 10,000 (53 MB).
 *
 * Only at start-up: a later snapshot is compiled while the process serves, where a forced collection
 * (~35 ms at 10,000 routes) would pause every request in flight.
 *
 * `gc` exists when Node runs with --expose-gc, which bin/switchyard.js's #! line and the workers' flags
 * give. Without it (plain `node dist/cli.js`) nothing is forced and V8 collects in its own time.
 */
import type { Logger } from '../log.ts';

const MB = 1e6;

export function collectStartupGarbage(minHeapMb: number, log: Logger): void {
  const before = process.memoryUsage();
  const mb = (bytes: number): number => Math.round(bytes / (MB / 10)) / 10;
  if (before.heapUsed < minHeapMb * MB) {
    log.debug({ heapUsedMB: mb(before.heapUsed), minHeapMb }, 'start-up garbage left to V8: the heap is below --startup-gc-heap');
    return;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    log.debug('start-up garbage left to V8: Node runs without --expose-gc');
    return;
  }
  const started = performance.now();
  gc();
  const after = process.memoryUsage();
  log.debug(
    { ms: Math.round(performance.now() - started), heapUsedMB: [mb(before.heapUsed), mb(after.heapUsed)], rssMB: [mb(before.rss), mb(after.rss)] },
    'collected start-up garbage',
  );
}
