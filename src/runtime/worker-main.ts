/**
 * Entry point of a data-plane worker thread (started by primary.ts). It serves the listeners, bound
 * with SO_REUSEPORT beside the other workers', from the snapshots the main thread sends; it reports
 * its health decisions and applies everyone else's. Signals are the main thread's: a worker stops
 * when told to.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { emptySnapshot } from '../snapshot/empty.ts';
import { SharedCursors } from '../dataplane/cursors.ts';
import { threadWeightedChoice } from '../dataplane/weighted.ts';
import { AffinityTable } from '../dataplane/affinity-table.ts';
import type { HostPort } from '../flags.ts';
import { EndpointHealth } from '../health/endpoint-health.ts';
import { createRootLogger } from '../log.ts';
import { collectStartupGarbage } from './startup-gc.ts';
import { SnapshotHolder } from '../snapshot/holder.ts';
import { createDataPlane } from './data-plane.ts';
import { createAccessLog, type AccessLog } from './access-log.ts';
import { TicketKeyHolder } from './ticket-keys.ts';
import { STATS_INTERVAL_MS, type FromWorker, type ToWorker, type WorkerData } from './messages.ts';

const { config, index, cursors: cursorBuffer, affinity } = workerData as WorkerData;
const port = parentPort!;
const log = createRootLogger(config.logLevel).child({ worker: index });
const send = (m: FromWorker): void => port.postMessage(m);

const holder = new SnapshotHolder(emptySnapshot(config.clusterDomain));
const cursors = new SharedCursors(cursorBuffer);
// Weighted rules count their picks in the same shared cells (their slots come in the same table).
threadWeightedChoice.share(cursors);
const ticketKeys = new TicketKeyHolder();
const health = new EndpointHealth({ log: log.child({ component: 'health' }), onEvent: (event) => send({ t: 'health', event }) });
let accessLog: AccessLog | undefined;
try {
  // The main thread checked the path before starting workers: failing here means it changed since; reported like a listen failure.
  accessLog = createAccessLog(config, log);
} catch (err) {
  const e = err as { code?: string; message?: string };
  send({ t: 'fatal', code: e.code ?? 'unknown', message: e.message ?? String(err) });
  process.exit(1);
}
const dataPlane = createDataPlane({
  config,
  holder,
  health,
  log,
  cursors,
  affinity: new AffinityTable(affinity),
  observeHealth: true,
  ticketKeys,
  accessLog,
  onDrainingChange: (draining) => send({ t: 'draining', entries: [...draining] }),
  onGatewayPorts: (report) => send({ t: 'gatewayPorts', report }),
});

let snapshotIn = false;
/** Where to listen, once told (undefined inside: the configured addresses). */
let listenAt: { at: Readonly<Record<string, HostPort>> | undefined } | undefined;
let listening = false;
let stopping = false;

function listenWhenReady(): void {
  if (listening || stopping || !snapshotIn || listenAt === undefined) return;
  listening = true;
  collectStartupGarbage(config.startupGcHeapMb, log);
  dataPlane.listen({ at: listenAt.at, reusePort: true }).then(
    (addresses) => send({ t: 'listening', addresses, bound: dataPlane.bound() }),
    (err: unknown) => {
      const e = err as { code?: string; message?: string };
      send({ t: 'fatal', code: e.code ?? 'unknown', message: e.message ?? String(err) });
      process.exit(1);
    },
  );
}

async function stop(drainTimeoutMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const { cut } = listening ? await dataPlane.drain(drainTimeoutMs) : { cut: 0 };
  if (cut > 0) log.warn({ cut }, 'drain timeout reached; cut requests still in flight');
  await dataPlane.close(cut > 0);
  await accessLog?.close();
  process.exit(0);
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'snapshot':
      // The slots first: the new snapshot's backends must find their shared cursors.
      cursors.setSlots(m.cursorSlots);
      holder.swap(m.snapshot);
      snapshotIn = true;
      listenWhenReady();
      break;
    case 'listen':
      listenAt = { at: m.at };
      listenWhenReady();
      break;
    case 'health':
      for (const event of m.events) health.apply(event);
      break;
    case 'ticketKeys':
      ticketKeys.set(m.keys);
      break;
    case 'stop':
      void stop(m.drainTimeoutMs);
      break;
    case 'reopenLogs':
      accessLog?.reopen();
      break;
    case 'collect':
      // No process_* or nodejs_* figures here: they are the whole process's, which the main thread reports once.
      void dataPlane.metricFamilies().then((families) => send({ t: 'collected', id: m.id, families }));
      break;
  }
});

setInterval(() => send({ t: 'stats', counters: dataPlane.counters.view(), inFlight: dataPlane.inFlight(), requests: dataPlane.stats.recorded }), STATS_INTERVAL_MS).unref();

send({ t: 'hello' });
