/**
 * What the shared round-robin cursor costs a pick (issue 18 item 3: "measure what it costs"): RoundRobin
 * on this thread's Map of cursors against the worker threads' SharedArrayBuffer with compare-and-swap, one
 * thread, the same backends, interleaved rounds; ns per pick, median over rounds. Not part of pass/fail.
 *
 *   node bench/micro/cursors.ts [--picks N] [--rounds N]
 */
import { parseArgs } from 'node:util';
import { RoundRobin } from '../../src/dataplane/balancer.ts';
import { CursorSlots, LocalCursors, SharedCursors } from '../../src/dataplane/cursors.ts';
import type { Backend, EndpointView } from '../../src/snapshot/types.ts';

const { values } = parseArgs({ options: { picks: { type: 'string', default: '2000000' }, rounds: { type: 'string', default: '7' } } });
const PICKS = Number(values.picks);
const ROUNDS = Number(values.rounds);

function backend(i: number): Backend {
  const eps: EndpointView[] = [1, 2, 3].map((n) => ({ key: `10.0.${i}.${n}:8080`, address: `10.0.${i}.${n}`, port: 8080, ready: true, serving: true, terminating: false, hostname: undefined, nodeName: undefined, targetRef: undefined }));
  return {
    key: `ns/svc-${i}:80`, namespace: 'ns', service: `svc-${i}`, port: 80, portName: 'http', protocol: 'TCP', ready: eps, all: eps, rotation: eps, terminatingFallback: false,
    policy: { retries: 2, retryBudgetPercent: 20, connectTimeoutMs: undefined, responseTimeoutMs: undefined, idleTimeoutMs: undefined, outlier: undefined, healthCheck: undefined },
    upstream: { protocol: 'http1', caPem: undefined },
  };
}

const backends = Array.from({ length: 100 }, (_, i) => backend(i));
const slots = new CursorSlots();
const shared = new SharedCursors(slots.buffer);
shared.setSlots(slots.assign(backends.map((b) => b.key)));
const candidates = { local: new RoundRobin(new LocalCursors()), shared: new RoundRobin(shared) };

function nsPerPick(rr: RoundRobin): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < PICKS; i++) sink += rr.pick(backends[i % backends.length]!)!.port;
  const ns = Number(process.hrtime.bigint() - start) / PICKS;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

const results: Record<string, number[]> = { local: [], shared: [] };
for (let r = 0; r < ROUNDS; r++) for (const [name, rr] of Object.entries(candidates)) results[name]!.push(nsPerPick(rr));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const local = median(results.local!.slice(1));
const sharedNs = median(results.shared!.slice(1));
console.log(`round-robin pick, 100 backends × 3 endpoints, ${PICKS.toLocaleString('en')} picks × ${ROUNDS} rounds (the first left out as warm-up), Node ${process.version}`);
console.log(`| cursors | ns per pick (median) |\n| --- | ---: |\n| this thread's Map (--workers 1) | ${local.toFixed(1)} |\n| shared, compare-and-swap (--workers N) | ${sharedNs.toFixed(1)} |`);
console.log(`shared ÷ local: ${(sharedNs / local).toFixed(2)}×; difference ${(sharedNs - local).toFixed(1)} ns per request`);
