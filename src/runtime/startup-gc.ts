/**
 * One full garbage collection when start-up is done, before the process takes traffic, when start-up
 * left a large heap behind (`--startup-gc-heap`, in MB of heap in use; default 32).
 *
 * Why: reading and compiling a large configuration leaves its garbage in V8's old generation (at 10,000
 * Ingresses: the YAML text, parsed documents, the compile's intermediates; 53 MB of heap in use before
 * the collection, 35 MB after). V8 collects it only when the old generation grows enough, so under load
 * the process carried it beside its working set: peak RSS with 10,000 routes under 10 s of load was
 * 146–148 MiB without the collection and 137 MiB with it, side by side. Re-measured with worker threads
 * (issue 19: a trick stays only while it pays; 2026-12-05, 10,000 routes, 8 s of load, 2 runs each):
 * `--workers 2` at rest 176–177 MB with it, 193–197 without, peak 199–205 against 222; `--workers 1`
 * peak 154–155 against 159–160. Worker threads build nothing (they receive the compiled snapshot), so
 * only the main thread collects.
 *
 * Why not always: a small configuration frees ~1–2 MB and no RSS (10 routes: 17.7 → 16.7 MB of heap;
 * 1,000 routes: 21 → 19), not worth a pause; the default lies between 1,000 routes (21 MB) and 10,000
 * (53 MB). Only at start-up: a later snapshot is compiled while the process serves, where a forced
 * collection (~35 ms at 10,000 routes) would pause every request in flight.
 *
 * How: V8 hands out `gc` only with --expose-gc, and that flag given at start costs every request ~10 %
 * more instructions (callgrind: 224k against 204k per request, with no collection ever forced; V8 then
 * takes its runtime path for object literals with computed keys 12.5 times per request instead of 2.4,
 * most likely the symbol-keyed tick objects of Node's process.nextTick). So the flag is switched on only
 * long enough to compile `gc` in a throw-away context, and off again: the main context never has it.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from '../log.ts';

const MB = 1e6;

/** V8's full-collection function, made in a context of its own. */
function fullCollector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as () => void;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

export function collectStartupGarbage(minHeapMb: number, log: Logger): void {
  const before = process.memoryUsage();
  const mb = (bytes: number): number => Math.round(bytes / (MB / 10)) / 10;
  if (before.heapUsed < minHeapMb * MB) {
    log.debug({ heapUsedMB: mb(before.heapUsed), minHeapMb }, 'start-up garbage left to V8: the heap is below --startup-gc-heap');
    return;
  }
  const started = performance.now();
  fullCollector()();
  const after = process.memoryUsage();
  log.debug(
    { ms: Math.round(performance.now() - started), heapUsedMB: [mb(before.heapUsed), mb(after.heapUsed)], rssMB: [mb(before.rss), mb(after.rss)] },
    'collected start-up garbage',
  );
}
