/**
 * What the shared round-robin cursor costs a pick (issue 18 item 3: "measure what it costs"): RoundRobin
 * on this thread's Map of cursors against the worker threads' SharedArrayBuffer with compare-and-swap, one
 * thread, the same backends, interleaved rounds; ns per pick, median over rounds. Not part of pass/fail.
 * Then the weighted choice of a 90/10 rule (issue 17): the running scores each thread kept before, against
 * the precomputed sequence on this thread's counter and on a shared one (one atomic add per pick).
 *
 *   node bench/micro/cursors.ts [--picks N] [--rounds N]
 */
import { parseArgs } from 'node:util';
import { RoundRobin } from '../../src/dataplane/balancer.ts';
import { CursorSlots, LocalCursors, SharedCursors } from '../../src/dataplane/cursors.ts';
import { WeightedChoice } from '../../src/dataplane/weighted.ts';
import type { Backend, EndpointView, WeightedTarget } from '../../src/snapshot/types.ts';

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

/** The weighted choice as each thread kept it before issue 17's shared counters: running scores per list. */
class ScoresChoice {
  readonly #scores = new WeakMap<readonly WeightedTarget[], Float64Array>();
  pick(targets: readonly WeightedTarget[]): WeightedTarget | undefined {
    const n = targets.length;
    let scores = this.#scores.get(targets);
    if (scores === undefined) this.#scores.set(targets, (scores = new Float64Array(n)));
    let total = 0;
    let best = -1;
    for (let i = 0; i < n; i++) {
      const w = targets[i]!.weight;
      total += w;
      scores[i]! += w;
      if (w > 0 && (best < 0 || scores[i]! > scores[best]!)) best = i;
    }
    if (best < 0) return undefined;
    scores[best]! -= total;
    return targets[best];
  }
}

const rules = Array.from({ length: 100 }, (_, i) => ({
  key: `HTTPRoute/ns/r-${i}#0`,
  targets: [90, 10].map((weight, j): WeightedTarget => ({ backend: `ns/svc-${i}-${j}:80`, weight, describe: '', problem: undefined, ingress: `ns/r-${i}` })),
}));
const weightedShared = new SharedCursors(slots.buffer);
weightedShared.setSlots(slots.assign([...backends.map((b) => b.key), ...rules.map((r) => r.key)]));
const weighted: Record<string, { pick(targets: readonly WeightedTarget[], key: string): WeightedTarget | undefined }> = {
  scores: new ScoresChoice(),
  local: new WeightedChoice(),
  shared: new WeightedChoice(weightedShared),
};
function nsPerWeightedPick(choice: (typeof weighted)[string]): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < PICKS; i++) {
    const rule = rules[i % rules.length]!;
    sink += choice.pick(rule.targets, rule.key)!.weight;
  }
  const ns = Number(process.hrtime.bigint() - start) / PICKS;
  if (sink === 0) throw new Error('unreachable');
  return ns;
}
const wResults: Record<string, number[]> = { scores: [], local: [], shared: [] };
for (let r = 0; r < ROUNDS; r++) for (const [name, c] of Object.entries(weighted)) wResults[name]!.push(nsPerWeightedPick(c));
const [scoresNs, localSeq, sharedSeq] = ['scores', 'local', 'shared'].map((n) => median(wResults[n]!.slice(1))) as [number, number, number];
console.log(`\nweighted choice, 100 rules of 90/10, ${PICKS.toLocaleString('en')} picks × ${ROUNDS} rounds`);
console.log(`| weighting | ns per pick (median) |\n| --- | ---: |\n| running scores per thread (before) | ${scoresNs.toFixed(1)} |\n| sequence, this thread's counter (--workers 1) | ${localSeq.toFixed(1)} |\n| sequence, shared counter, atomic add (--workers N) | ${sharedSeq.toFixed(1)} |`);
console.log(`shared ÷ before: ${(sharedSeq / scoresNs).toFixed(2)}×; local ÷ before: ${(localSeq / scoresNs).toFixed(2)}×`);
