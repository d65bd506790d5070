/**
 * One full garbage collection when start-up is done, before the process takes traffic, that also gives
 * the freed memory back to the system (`--startup-gc-heap`: only when the heap in use is at least that
 * many MB; default 0, always).
 *
 * Why: reading and compiling a large configuration leaves its garbage in V8's old generation (at 10,000
 * Ingresses: the YAML text, parsed documents, the compile's intermediates; 53 MB of heap in use before
 * the collection, 35 MB after). V8 collects it only when the old generation grows enough, so under load
 * the process carried it beside its working set: peak RSS with 10,000 routes under 10 s of load was
 * 146–148 MiB without the collection and 137 MiB with it, side by side. Re-measured with worker threads
 * (issue 19: a trick stays only while it pays; 2026-12-05, 10,000 routes, 8 s of load, 2 runs each):
 * `--workers 2` at rest 176–177 MB with it, 193–197 without, peak 199–205 against 222; `--workers 1`
 * peak 154–155 against 159–160. Worker threads build nothing (they receive the compiled snapshot), but
 * loading the data plane leaves its own garbage: each collects too, once, before it first listens
 * (`--workers 2`, the demo, RSS at rest 119–120 MB → 106 MB, 2 runs each, 2026-12-05).
 *
 * Which collection: V8's "last resort" one (what it runs before giving up on memory: full collections
 * until nothing more dies, then its free pages and the young generation's unused half handed back), not
 * a plain full one. A plain one frees the objects but V8 keeps the pages, and the process keeps the RSS
 * until V8's memory reducer runs ~10 s later, after the bench's reading at rest and often into the load.
 * Measured (2026-12-05, issue 19, `--workers 1`, RSS 1–5 s after ready, 2 runs each): the demo's manifests
 * 88 MB with the old default (no collection below 32 MB of heap), 86 MB with a plain collection, 81–82 MB
 * with this one (its log: 92.4 → 82.5 MB in 46–48 ms, against 16 ms for a plain one that gave nothing
 * back); 10,000 Ingresses 135–138 MB against 106–107 MB (164 ms against 48 ms). So it now runs by
 * default whatever the heap; the flag still skips it below a size. Options V8 does not know are ignored,
 * so an engine without this flavor makes a plain collection.
 *
 * Only at start-up: a later snapshot is compiled while the process serves, where a forced collection
 * would pause every request in flight.
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

type Collector = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** Tries at making the collector before a thread leaves its garbage to V8. */
const COLLECTOR_TRIES = 3;

/**
 * V8's collection function (its options as V8's gc extension takes them), made in a context of its own;
 * undefined when it could not be had. V8's flags are the process's: another thread collecting at the same
 * moment may switch `--expose-gc` off between this one's switching it on and making the context (seen in 9
 * of 3,000 tries of 3 threads in a loop), so a thread tries a few times rather than fail its start.
 */
function fullCollector(): Collector | undefined {
  for (let i = 0; i < COLLECTOR_TRIES; i++) {
    v8.setFlagsFromString('--expose-gc');
    try {
      const gc = vm.runInNewContext('typeof gc === "function" ? gc : undefined') as Collector | undefined;
      if (gc !== undefined) return gc;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  return undefined;
}

export function collectStartupGarbage(minHeapMb: number, log: Logger): void {
  const before = process.memoryUsage();
  const mb = (bytes: number): number => Math.round(bytes / (MB / 10)) / 10;
  if (before.heapUsed < minHeapMb * MB) {
    log.debug({ heapUsedMB: mb(before.heapUsed), minHeapMb }, 'start-up garbage left to V8: the heap is below --startup-gc-heap');
    return;
  }
  const collect = fullCollector();
  if (collect === undefined) {
    log.debug({ heapUsedMB: mb(before.heapUsed), tries: COLLECTOR_TRIES }, 'start-up garbage left to V8: no gc function (another thread held --expose-gc)');
    return;
  }
  const started = performance.now();
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  const after = process.memoryUsage();
  log.debug(
    { ms: Math.round(performance.now() - started), heapUsedMB: [mb(before.heapUsed), mb(after.heapUsed)], rssMB: [mb(before.rss), mb(after.rss)] },
    'collected start-up garbage',
  );
}
