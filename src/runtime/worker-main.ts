/**
 * Entry point of a data-plane worker process (forked by primary.ts through node:cluster). It serves
 * the shared listeners from the snapshots the primary sends, reports its health decisions and applies
 * everyone else's. Signals are the primary's to handle: a worker stops when told to, or when the
 * primary goes away.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { emptySnapshot } from '../compile/compile.ts';
import type { Config } from '../flags.ts';
import { EndpointHealth } from '../health/endpoint-health.ts';
import { createRootLogger } from '../log.ts';
import { SnapshotHolder } from '../snapshot/holder.ts';
import { createDataPlane } from './data-plane.ts';
import { createAccessLog, type AccessLog } from './access-log.ts';
import { collectStartupGarbage } from './startup-gc.ts';
import { TicketKeyHolder } from './ticket-keys.ts';
import { STATS_INTERVAL_MS, WORKER_ENV, type FromWorker, type ToWorker } from './messages.ts';

const config = JSON.parse(process.env[WORKER_ENV.config] ?? '{}') as Config;
const index = Number(process.env[WORKER_ENV.index] ?? '0');
const log = createRootLogger(config.logLevel).child({ worker: index });
const send = (m: FromWorker): void => {
  if (process.connected) process.send!(m);
};

const holder = new SnapshotHolder(emptySnapshot(config.clusterDomain));
const ticketKeys = new TicketKeyHolder();
const health = new EndpointHealth({ log: log.child({ component: 'health' }), onEvent: (event) => send({ t: 'health', event }) });
let accessLog: AccessLog | undefined;
try {
  // The primary checked the path before forking: failing here means it changed since; reported like a listen failure.
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
  rrOffset: index,
  observeHealth: true,
  ticketKeys,
  accessLog,
  onDrainingChange: (draining) => send({ t: 'draining', entries: [...draining] }),
});

// This process's own process_* and nodejs_* figures; the primary sums them with its own and the other workers'.
const metrics = new Registry();
collectDefaultMetrics({ register: metrics });

let listening = false;
let stopping = false;

async function stop(drainTimeoutMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const { cut } = listening ? await dataPlane.drain(drainTimeoutMs) : { cut: 0 };
  if (cut > 0) log.warn({ cut }, 'drain timeout reached; cut requests still in flight');
  await dataPlane.close(cut > 0);
  await accessLog?.close();
  process.exit(0);
}

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'snapshot':
      holder.swap(m.snapshot);
      if (!listening && !stopping) {
        listening = true;
        // Receiving the first snapshot left its serialized copy behind; collect before taking traffic.
        collectStartupGarbage(config.startupGcHeapMb, log);
        dataPlane.listen().then(
          (addresses) => send({ t: 'listening', addresses }),
          (err: unknown) => {
            const e = err as { code?: string; message?: string };
            send({ t: 'fatal', code: e.code ?? 'unknown', message: e.message ?? String(err) });
            process.exit(1);
          },
        );
      }
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
      void Promise.all([metrics.getMetricsAsJSON(), dataPlane.metricFamilies()]).then(([own, data]) => send({ t: 'collected', id: m.id, families: [...own, ...data] }));
      break;
  }
});

// Ctrl-C reaches the whole process group; the primary decides how this worker stops.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// A SIGUSR1 to the whole group must neither start Node's inspector here nor reopen twice: the primary forwards it.
process.on('SIGUSR1', () => undefined);
// The primary is gone (killed): finish what is in flight and leave.
process.on('disconnect', () => void stop(config.drainTimeoutMs));

setInterval(() => send({ t: 'stats', counters: dataPlane.counters.view(), inFlight: dataPlane.inFlight() }), STATS_INTERVAL_MS).unref();

send({ t: 'hello' });
