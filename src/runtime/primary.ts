/**
 * The worker pool of the primary process: forks the data-plane workers (node:cluster, which keeps the
 * listening sockets in the primary and hands connections to workers, so a dying worker never closes a
 * listener), sends each snapshot to every worker, relays health decisions between workers and into
 * the control plane's registry, and replaces a worker that dies.
 *
 * Round-robin across workers: each worker balances on its own cursor, starting at its index, so the
 * first requests of W workers start on W different endpoints; over N requests an endpoint's share
 * differs from ⌊N/k⌋/⌈N/k⌉ by at most W − 1.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, SwyError } from '../errors.ts';
import type { Config } from '../flags.ts';
import type { EndpointHealth, HealthEvent } from '../health/endpoint-health.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { addCounters, NO_COUNTS, retiredCounters, type CountersView } from '../dataplane/counters.ts';
import { WORKER_ENV, type FromWorker, type ToWorker } from './messages.ts';
import type { TicketKeys } from './ticket-keys.ts';

/**
 * V8's young generation per worker, in MB per semi-space. Node's default lets it grow to 16 MB×3 under
 * load, which the proxy's short-lived garbage never needs: 4 MB measured ≈ 45 MB less peak RSS per
 * process at the same req/s. The same value as bin/switchyard.js's #! line, so that workers get it even when
 * the primary was started with plain `node`. NODE_OPTIONS or the primary's own flags still apply, after this one.
 */
const WORKER_SEMI_SPACE_MB = 4;
/** A replacement for a worker that died this soon after it started waits before being forked again. */
const CRASH_LOOP_MS = 5_000;
const MAX_RESTART_DELAY_MS = 5_000;
/** A worker that has not sent its metric families this long after a scrape asked counts with its last ones. */
const COLLECT_TIMEOUT_MS = 1_000;

export interface WorkerView {
  readonly index: number;
  readonly pid: number | undefined;
  readonly state: 'starting' | 'ready' | 'stopping';
  readonly startedAt: string;
  readonly restarts: number;
  readonly draining: number;
  readonly inFlight: number;
  /** WebSocket/upgrade tunnels open in this worker (as of its last report). */
  readonly tunnels: number;
}

interface Slot {
  index: number;
  worker: Worker;
  state: WorkerView['state'];
  startedAt: number;
  restarts: number;
  quickDeaths: number;
  draining: Map<string, number>;
  counters: CountersView;
  inFlight: number;
  /** The worker's metric families as of its last answer to a scrape. */
  families: readonly object[];
}

export interface WorkerPool {
  /** Resolves with `role → address` once every worker listens; rejects when one cannot. */
  readonly ready: Promise<Record<string, string>>;
  /** Sends health decisions taken in the primary (active checks) to every worker. */
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
  /** Tells every worker to drain (bounded by `drainTimeoutMs`), waits for them to exit. */
  stop(drainTimeoutMs: number): Promise<void>;
}

export function startWorkerPool(config: Config, holder: SnapshotHolder, health: EndpointHealth, ticketKeys: TicketKeys, log: Logger): WorkerPool {
  cluster.setupPrimary({
    // Beside this module, with its extension: worker-main.js when running the build in dist/, .ts from src/.
    exec: fileURLToPath(new URL(`./worker-main${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url)),
    execArgv: [`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`, ...process.execArgv],
    serialization: 'advanced',
  });
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
  let readySettled = false;

  const send = (slot: Slot, m: ToWorker): void => {
    if (slot.worker.isConnected()) slot.worker.send(m);
  };
  const broadcast = (m: ToWorker, except?: Slot): void => {
    for (const slot of slots) if (slot !== except) send(slot, m);
  };

  const fork = (index: number, restarts: number, quickDeaths: number): void => {
    const worker = cluster.fork({ [WORKER_ENV.config]: JSON.stringify(config), [WORKER_ENV.index]: String(index) });
    const slot: Slot = { index, worker, state: 'starting', startedAt: Date.now(), restarts, quickDeaths, draining: new Map(), counters: NO_COUNTS, inFlight: 0, families: [] };
    slots[index] = slot;
    worker.on('message', (m: FromWorker) => onMessage(slot, m));
    worker.on('exit', (code, signal) => onExit(slot, code, signal));
  };

  const onMessage = (slot: Slot, m: FromWorker): void => {
    switch (m.t) {
      case 'hello':
        // A new worker (first start or replacement) gets the current state before it listens.
        // The ticket key first: a worker listens once its first snapshot arrives.
        send(slot, { t: 'ticketKeys', keys: ticketKeys.current() });
        send(slot, { t: 'snapshot', snapshot: holder.current() });
        send(slot, { t: 'health', events: health.currentEvents() });
        break;
      case 'listening':
        slot.state = 'ready';
        addresses ??= { ...m.addresses };
        if (!readySettled && slots.length === config.workers && slots.every((s) => s.state === 'ready')) {
          readySettled = true;
          resolveReady(addresses);
        }
        if (slot.restarts > 0) log.info({ worker: slot.index, pid: slot.worker.process.pid }, 'replacement worker serving');
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
        break;
      case 'collected':
        slot.families = m.families;
        collecting.get(m.id)?.(m.families);
        break;
      case 'fatal':
        if (!readySettled) {
          readySettled = true;
          rejectReady(new SwyError(m.code === ErrorCode.LISTEN_FAILED ? ErrorCode.LISTEN_FAILED : ErrorCode.WORKER_FAILED, `worker ${slot.index}: ${m.message}`));
        }
        break;
    }
  };

  const onExit = (slot: Slot, code: number | null, signal: string | null): void => {
    if (slots[slot.index] !== slot) return;
    // What the dead worker counted stays counted (Prometheus counters must not go down); its tunnels died with it.
    retired = addCounters(retired, retiredCounters(slot.counters));
    slot.counters = NO_COUNTS;
    // Its gauges (open connections, memory) died with it; what it counted did not.
    const counted = slot.families.filter((f) => (f as { type?: string }).type !== 'gauge');
    slot.families = [];
    if (counted.length > 0) retiredFamilies = retiredFamilies.then((before) => AggregatorRegistry.aggregate([before, counted]).getMetricsAsJSON());
    slot.inFlight = 0;
    if (stopping) return;
    if (!readySettled) {
      readySettled = true;
      rejectReady(new SwyError(ErrorCode.WORKER_FAILED, `worker ${slot.index} exited during start-up (code ${code}, signal ${signal})`));
      return;
    }
    const lived = Date.now() - slot.startedAt;
    const quickDeaths = lived < CRASH_LOOP_MS ? slot.quickDeaths + 1 : 0;
    const delay = quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** quickDeaths);
    log.error({ worker: slot.index, pid: slot.worker.process.pid, code, signal, restartInMs: delay }, 'worker died; replacing it (the listeners stay open)');
    setTimeout(() => {
      if (!stopping) fork(slot.index, slot.restarts + 1, quickDeaths);
    }, delay);
  };

  holder.onSwap((next) => broadcast({ t: 'snapshot', snapshot: next }));
  ticketKeys.onChange((keys) => broadcast({ t: 'ticketKeys', keys }));
  for (let i = 0; i < config.workers; i++) fork(i, 0, 0);

  return {
    ready,
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
        pid: s.worker.process.pid,
        state: s.state,
        startedAt: new Date(s.startedAt).toISOString(),
        restarts: s.restarts,
        draining: s.draining.size,
        inFlight: s.inFlight,
        tunnels: s.counters.tunnelsOpen,
      })),
    counters: () => slots.reduce((sum, s) => addCounters(sum, s.counters), retired),
    inFlight: () => slots.reduce((n, s) => n + s.inFlight, 0),
    async metricFamilies() {
      const live = slots.filter((s) => s.worker.isConnected());
      const answers = live.map(
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
    async stop(drainTimeoutMs) {
      stopping = true;
      const exits = slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            if (slot.worker.isDead()) return resolve();
            slot.state = 'stopping';
            slot.worker.once('exit', () => resolve());
            send(slot, { t: 'stop', drainTimeoutMs });
          }),
      );
      // A worker that does not finish within the drain timeout (plus a margin) is killed.
      const deadline = setTimeout(() => {
        for (const slot of slots) if (!slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
      }, drainTimeoutMs + 3_000);
      await Promise.all(exits);
      clearTimeout(deadline);
    },
  };
}
