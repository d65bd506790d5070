/**
 * The data-plane worker threads of `--workers N` (N > 1): starts them, sends each snapshot to every
 * one, relays health decisions between them and into the control plane's registry, and replaces one
 * that dies.
 *
 * Threads, not processes (issue 19): one process for the whole group, so the control plane, Node and
 * the libraries are loaded once and the workers add only their own V8 heaps; and threads can share
 * memory, which makes round-robin exact across workers: every backend's cursor is one Int32 in a
 * SharedArrayBuffer (dataplane/cursors.ts), its slot given out here with each snapshot.
 *
 * Listeners: threads cannot hand each other sockets, so every worker binds each listener itself with
 * SO_REUSEPORT and the kernel spreads new connections over them. The first worker binds the configured
 * addresses (port 0 picks one); the others, and any replacement, bind the ports it got. A worker that
 * dies takes its own listening socket with it (connections still in that socket's accept queue are
 * reset, as with any SO_REUSEPORT group); the others keep the port served while it is replaced.
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry } from 'prom-client';
import { RoundRobin } from '../dataplane/balancer.ts';
import { CursorSlots, MAX_SHARED_CURSORS, SharedCursors } from '../dataplane/cursors.ts';
import { affinityBuffer } from '../dataplane/affinity-table.ts';
import { threadWeightedChoice, weightKeys } from '../dataplane/weighted.ts';
import { addCounters, NO_COUNTS, retiredCounters, type CountersView } from '../dataplane/counters.ts';
import { ErrorCode, SwyError } from '../errors.ts';
import type { Config, HostPort } from '../flags.ts';
import type { EndpointHealth, HealthEvent } from '../health/endpoint-health.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import type { Snapshot } from '../snapshot/types.ts';
import type { FromWorker, ToWorker, WorkerData } from './messages.ts';
import type { TicketKeys } from './ticket-keys.ts';
import { gatewayPortStatus } from './gateway-port-status.ts';
import { sameForWorkers, workerSnapshot } from './worker-snapshot.ts';

/**
 * V8's young generation per worker thread, in MB: 3 × the 4 MB semi-spaces that bin/switchyard.js's
 * #! line gives the main thread (V8 sizes a young generation as two semi-spaces plus as much again for
 * large objects). Node's default lets it grow to 16 MB semi-spaces under load, which the proxy's
 * short-lived garbage never needs: 4 MB measured ≈ 45 MB less peak RSS per data plane at the same req/s.
 */
const WORKER_YOUNG_GENERATION_MB = 12;
/**
 * A worker inherits the main thread's Node flags (--cpu-prof, --enable-source-maps… apply to it too), but
 * --input-type, which a main thread started with --eval may have, fails a worker's start; a list given
 * instead of inheriting may hold no V8 flag, so such a main thread's workers get none of its flags.
 */
const WORKER_EXEC_ARGV = process.execArgv.some((arg) => arg.startsWith('--input-type')) ? { execArgv: [] } : {};
/** A replacement for a worker that died this soon after it started waits before being started again. */
const CRASH_LOOP_MS = 5_000;
const MAX_RESTART_DELAY_MS = 5_000;
/** A worker that has not sent its metric families this long after a scrape asked counts with its last ones. */
const COLLECT_TIMEOUT_MS = 1_000;

export interface WorkerView {
  readonly index: number;
  /** The worker thread's id (worker_threads.threadId): a replacement gets a new one. */
  readonly threadId: number;
  readonly state: 'starting' | 'ready' | 'stopping';
  readonly startedAt: string;
  readonly restarts: number;
  readonly draining: number;
  readonly inFlight: number;
  /** Requests this worker answered since it started (as of its last report): how the kernel spreads connections. */
  readonly requests: number;
  /** WebSocket/upgrade tunnels open in this worker (as of its last report). */
  readonly tunnels: number;
}

interface Slot {
  index: number;
  worker: Worker;
  threadId: number;
  state: WorkerView['state'];
  /** Its first snapshot is sent: it may be told to listen. */
  greeted: boolean;
  /** Told where to listen. */
  listenSent: boolean;
  startedAt: number;
  restarts: number;
  quickDeaths: number;
  draining: Map<string, number>;
  counters: CountersView;
  inFlight: number;
  requests: number;
  /** The worker's metric families as of its last answer to a scrape. */
  families: readonly object[];
}

export interface WorkerPool {
  /** Resolves with `role → address` once every worker listens; rejects when one cannot. */
  readonly ready: Promise<Record<string, string>>;
  /** A balancer on the workers' shared cursors, for peeking at the next pick (`/api/v1/explain`); it never picks. */
  readonly balancer: RoundRobin;
  /** Sends health decisions taken in the control plane (active checks) to every worker. */
  broadcastHealth(event: HealthEvent): void;
  /** Tells every worker to reopen its access log file (SIGUSR1). */
  reopenLogs(): void;
  draining(): ReadonlyMap<string, number>;
  views(): WorkerView[];
  /** Counters summed over every worker, past ones included (as of their last report). */
  counters(): CountersView;
  /**
   * Every worker's metric families, asked for now (a worker that does not answer within a second counts
   * with its last ones), plus the counters and histograms of the workers that died (as of their last answer).
   */
  metricFamilies(): Promise<(readonly object[])[]>;
  inFlight(): number;
  /** Stops worker `index` at once, as a crash would (its requests in flight are cut); it is replaced. */
  terminate(index: number): Promise<void>;
  /** Tells every worker to drain (bounded by `drainTimeoutMs`), waits for them to exit. */
  stop(drainTimeoutMs: number): Promise<void>;
}

export function startWorkerPool(config: Config, holder: SnapshotHolder, health: EndpointHealth, ticketKeys: TicketKeys, log: Logger): WorkerPool {
  // Beside this module, with its extension: worker-main.js when running the build in dist/, .ts from src/.
  const entry = new URL(`./worker-main${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);
  const cursorSlots = new CursorSlots();
  const peekCursors = new SharedCursors(cursorSlots.buffer);
  // No data plane runs in this thread: its weighted choice only peeks (explain) at the workers' counters.
  threadWeightedChoice.share(peekCursors);
  const affinity = affinityBuffer();
  // Every worker binds the Gateway ports itself (SO_REUSEPORT); the ports any could not bind are reported.
  const reportGatewayPorts = gatewayPortStatus(holder, config.gatewayAddress, log);
  let slotTable = assignSlots(holder.current());
  /** The snapshot whose worker copy was posted last (to every worker then; a new one gets the current). */
  let posted = holder.current();
  const slots: Slot[] = [];
  let retired: CountersView = NO_COUNTS;
  /** Counter and histogram families of the workers that died, summed into one list. */
  let retiredFamilies: Promise<readonly object[]> = Promise.resolve([]);
  let collectId = 0;
  const collecting = new Map<number, (families: readonly object[]) => void>();
  let stopping = false;
  let resolveReady: (addresses: Record<string, string>) => void;
  let rejectReady: (err: Error) => void;
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  let addresses: Record<string, string> | undefined;
  /** Where every worker binds, once the first one has (its ports, when the flags said 0). */
  let bound: Record<string, HostPort> | undefined;
  /** The worker binding first; the others wait for its ports. */
  let binding: Slot | undefined;
  let readySettled = false;

  function assignSlots(snapshot: Snapshot): ReadonlyMap<string, number> {
    // Weighted rules' counters (dataplane/weighted.ts) share the table: a rule keeps its slot across snapshots as a backend does.
    const table = cursorSlots.assign([...snapshot.backends.keys(), ...weightKeys(snapshot)]);
    if (cursorSlots.overflow > 0) log.warn({ backends: snapshot.backends.size, max: MAX_SHARED_CURSORS }, `${cursorSlots.overflow} backends and weighted rules past ${MAX_SHARED_CURSORS} get a cursor per worker instead of a shared one`);
    peekCursors.setSlots(table);
    return table;
  }

  const send = (slot: Slot, m: ToWorker): void => {
    if (slot.state !== 'stopping' || m.t === 'collect') slot.worker.postMessage(m);
  };
  const broadcast = (m: ToWorker, except?: Slot): void => {
    for (const slot of slots) if (slot !== except) send(slot, m);
  };
  const tellWhereToListen = (slot: Slot): void => {
    if (slot.listenSent || !slot.greeted) return;
    if (bound !== undefined) {
      slot.listenSent = true;
      send(slot, { t: 'listen', at: bound });
    } else if (binding === undefined) {
      binding = slot;
      slot.listenSent = true;
      send(slot, { t: 'listen', at: undefined });
    }
  };

  const start = (index: number, restarts: number, quickDeaths: number): void => {
    const data: WorkerData = { config, index, cursors: cursorSlots.buffer, affinity };
    const worker = new Worker(entry, { workerData: data, ...WORKER_EXEC_ARGV, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB }, name: `switchyard-worker-${index}` });
    const slot: Slot = { index, worker, threadId: worker.threadId, state: 'starting', greeted: false, listenSent: false, startedAt: Date.now(), restarts, quickDeaths, draining: new Map(), counters: NO_COUNTS, inFlight: 0, requests: 0, families: [] };
    slots[index] = slot;
    worker.on('message', (m: FromWorker) => onMessage(slot, m));
    // An exception nothing caught ends the thread ('exit' follows): say what it was.
    worker.on('error', (err) => log.error({ worker: index, threadId: slot.threadId, err }, 'worker thread failed'));
    worker.on('exit', (code) => onExit(slot, code));
  };

  const onMessage = (slot: Slot, m: FromWorker): void => {
    switch (m.t) {
      case 'hello':
        // A new worker (first start or replacement) gets the current state before it listens.
        send(slot, { t: 'ticketKeys', keys: ticketKeys.current() });
        send(slot, { t: 'snapshot', snapshot: workerSnapshot(holder.current()), cursorSlots: slotTable });
        send(slot, { t: 'health', events: health.currentEvents() });
        slot.greeted = true;
        tellWhereToListen(slot);
        break;
      case 'listening':
        slot.state = 'ready';
        addresses ??= { ...m.addresses };
        if (bound === undefined) {
          bound = m.bound;
          for (const other of slots) tellWhereToListen(other);
        }
        if (!readySettled && slots.length === config.workers && slots.every((s) => s.state === 'ready')) {
          readySettled = true;
          resolveReady(addresses);
        }
        if (slot.restarts > 0) log.info({ worker: slot.index, threadId: slot.threadId }, 'replacement worker serving');
        break;
      case 'health':
        // One worker's decision becomes everyone's, and the control plane's (for the admin API).
        health.apply(m.event);
        broadcast({ t: 'health', events: [m.event] }, slot);
        break;
      case 'draining':
        slot.draining = new Map(m.entries);
        break;
      case 'stats':
        slot.counters = m.counters;
        slot.inFlight = m.inFlight;
        slot.requests = m.requests;
        break;
      case 'collected':
        slot.families = m.families;
        collecting.get(m.id)?.(m.families);
        break;
      case 'gatewayPorts':
        reportGatewayPorts(slot.index, m.report);
        break;
      case 'fatal':
        if (!readySettled) {
          readySettled = true;
          rejectReady(new SwyError(m.code === ErrorCode.LISTEN_FAILED ? ErrorCode.LISTEN_FAILED : ErrorCode.WORKER_FAILED, `worker ${slot.index}: ${m.message}`));
        }
        break;
    }
  };

  const onExit = (slot: Slot, code: number): void => {
    if (slots[slot.index] !== slot) return;
    if (binding === slot && bound === undefined) binding = undefined;
    // What the dead worker counted stays counted (Prometheus counters must not go down); its tunnels died with it.
    retired = addCounters(retired, retiredCounters(slot.counters));
    slot.counters = NO_COUNTS;
    // Its gauges (open connections) died with it; what it counted did not.
    const counted = slot.families.filter((f) => (f as { type?: string }).type !== 'gauge');
    slot.families = [];
    if (counted.length > 0) retiredFamilies = retiredFamilies.then((before) => AggregatorRegistry.aggregate([before, counted]).getMetricsAsJSON());
    slot.inFlight = 0;
    if (stopping) return;
    if (!readySettled) {
      readySettled = true;
      rejectReady(new SwyError(ErrorCode.WORKER_FAILED, `worker ${slot.index} exited during start-up (exit code ${code})`));
      return;
    }
    const lived = Date.now() - slot.startedAt;
    const quickDeaths = lived < CRASH_LOOP_MS ? slot.quickDeaths + 1 : 0;
    const delay = quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** quickDeaths);
    log.error({ worker: slot.index, threadId: slot.threadId, code, restartInMs: delay }, 'worker died; replacing it (the other workers keep the listeners served)');
    setTimeout(() => {
      if (!stopping) start(slot.index, slot.restarts + 1, quickDeaths);
    }, delay);
  };

  holder.onSwap((next) => {
    if (sameForWorkers(next, posted)) return;
    posted = next;
    slotTable = assignSlots(next);
    broadcast({ t: 'snapshot', snapshot: workerSnapshot(next), cursorSlots: slotTable });
  });
  ticketKeys.onChange((keys) => broadcast({ t: 'ticketKeys', keys }));
  for (let i = 0; i < config.workers; i++) start(i, 0, 0);

  return {
    ready,
    balancer: new RoundRobin(peekCursors),
    broadcastHealth: (event) => broadcast({ t: 'health', events: [event] }),
    reopenLogs: () => broadcast({ t: 'reopenLogs' }),
    draining() {
      const all = new Map<string, number>();
      for (const slot of slots) for (const [key, since] of slot.draining) if (!all.has(key) || all.get(key)! > since) all.set(key, since);
      return all;
    },
    views: () =>
      slots.map((s) => ({
        index: s.index,
        threadId: s.threadId,
        state: s.state,
        startedAt: new Date(s.startedAt).toISOString(),
        restarts: s.restarts,
        draining: s.draining.size,
        inFlight: s.inFlight,
        requests: s.requests,
        tunnels: s.counters.tunnelsOpen,
      })),
    counters: () => slots.reduce((sum, s) => addCounters(sum, s.counters), retired),
    inFlight: () => slots.reduce((n, s) => n + s.inFlight, 0),
    async metricFamilies() {
      const answers = slots.map(
        (slot) =>
          new Promise<readonly object[]>((resolve) => {
            const id = ++collectId;
            const done = (families: readonly object[]): void => {
              clearTimeout(timer);
              collecting.delete(id);
              resolve(families);
            };
            const timer = setTimeout(() => done(slot.families), COLLECT_TIMEOUT_MS);
            collecting.set(id, done);
            send(slot, { t: 'collect', id });
          }),
      );
      return [...(await Promise.all(answers)), await retiredFamilies];
    },
    async terminate(index) {
      await slots[index]?.worker.terminate();
    },
    async stop(drainTimeoutMs) {
      stopping = true;
      const exits = slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            if (slot.worker.threadId === -1) return resolve();
            slot.worker.once('exit', () => resolve());
            send(slot, { t: 'stop', drainTimeoutMs });
            slot.state = 'stopping';
          }),
      );
      // A worker that does not finish within the drain timeout (plus a margin) is stopped.
      const deadline = setTimeout(() => {
        for (const slot of slots) void slot.worker.terminate();
      }, drainTimeoutMs + 3_000);
      await Promise.all(exits);
      clearTimeout(deadline);
    },
  };
}
