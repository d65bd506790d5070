/**
 * Entry point of a data-plane worker process (forked by primary.ts through node:cluster). It serves
 * the shared listeners from the snapshots the primary sends, reports its health decisions and applies
 * everyone else's. Signals are the primary's to handle: a worker stops when told to, or when the
 * primary goes away.
 */
import { emptySnapshot } from '../compile/compile.ts';
import type { Config } from '../flags.ts';
import { EndpointHealth } from '../health/endpoint-health.ts';
import { createRootLogger } from '../log.ts';
import { SnapshotHolder } from '../snapshot/holder.ts';
import { createDataPlane } from './data-plane.ts';
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
const dataPlane = createDataPlane({
  config,
  holder,
  health,
  log,
  rrOffset: index,
  observeHealth: true,
  ticketKeys,
  onDrainingChange: (draining) => send({ t: 'draining', entries: [...draining] }),
});

let listening = false;
let stopping = false;

async function stop(drainTimeoutMs: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const { cut } = listening ? await dataPlane.drain(drainTimeoutMs) : { cut: 0 };
  if (cut > 0) log.warn({ cut }, 'drain timeout reached; cut requests still in flight');
  await dataPlane.close(cut > 0);
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
  }
});

// Ctrl-C reaches the whole process group; the primary decides how this worker stops.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// The primary is gone (killed): finish what is in flight and leave.
process.on('disconnect', () => void stop(config.drainTimeoutMs));

setInterval(() => send({ t: 'stats', counters: dataPlane.counters.view(), inFlight: dataPlane.inFlight() }), STATS_INTERVAL_MS).unref();

send({ t: 'hello' });
