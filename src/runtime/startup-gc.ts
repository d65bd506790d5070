/**
 * One full garbage collection when start-up is done, before the process takes traffic.
 *
 * Reading and compiling the manifests leaves their garbage in V8's old generation (at 10,000 Ingresses:
 * the YAML text, parsed documents, the compile's intermediates, ~17 MB of heap). V8 collects it only when
 * the old generation grows enough, so under load the process carried it beside its working set, and the
 * peak RSS with 10,000 routes was ~10 MB higher (side by side, 10 s of load: 146–148 MiB without this,
 * 137 MiB with it). Only at start-up: a later snapshot is compiled while the process serves, where a
 * forced full collection (~35 ms at 10,000 routes) would pause every request in flight.
 *
 * `gc` exists when Node runs with --expose-gc, which bin/switchyard.js's #! line and the workers' flags
 * give. Without it (plain `node dist/cli.js`) nothing is forced and V8 collects in its own time.
 */
import type { Logger } from '../log.ts';

export function collectStartupGarbage(log: Logger): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    log.debug('start-up garbage left to V8: Node runs without --expose-gc');
    return;
  }
  const before = process.memoryUsage();
  const started = performance.now();
  gc();
  const after = process.memoryUsage();
  const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
  log.debug(
    { ms: Math.round(performance.now() - started), heapUsedMB: [mb(before.heapUsed), mb(after.heapUsed)], rssMB: [mb(before.rss), mb(after.rss)] },
    'collected start-up garbage',
  );
}
