/**
 * The composition root: the control plane once, and the data plane either in the main thread
 * (`--workers 1`) or in N worker threads (runtime/primary.ts). Nothing imports this module but the
 * CLI, the demo and tests.
 */
import type { Config } from './flags.ts';
import type { Logger } from './log.ts';
import { NO_COUNTS } from './dataplane/counters.ts';
import { createControlPlane } from './runtime/control-plane.ts';
import type { createDataPlane } from './runtime/data-plane.ts';
import { checkAccessLogTarget, createAccessLog, type AccessLog } from './runtime/access-log.ts';
import type { WorkerPool } from './runtime/primary.ts';
import { logClientConnectionCap } from './runtime/fd-budget.ts';
import { rotateTicketKeys, TicketKeyHolder } from './runtime/ticket-keys.ts';
import { collectStartupGarbage } from './runtime/startup-gc.ts';
import type { SnapshotHolder } from './snapshot/holder.ts';

export interface Switchyard {
  /** Bound addresses, `host:port`, by role: ingress, admin, and service and dns when enabled. */
  readonly addresses: Readonly<Record<string, string>>;
  readonly holder: SnapshotHolder;
  /**
   * Graceful stop: /readyz turns 503; after `delayMs` (so a load balancer in front notices) the
   * listeners stop accepting and in-flight requests drain (bounded by the drain timeout); then
   * everything closes.
   */
  stop(options?: { delayMs?: number }): Promise<void>;
  /** Reopens a file access log (SIGUSR1, after logrotate moved it), in every worker. */
  reopenLogs(): void;
  /** The worker threads of `--workers N` (N > 1); undefined when the data plane runs in the main thread. */
  readonly workers: WorkerPool | undefined;
}

export async function startSwitchyard(config: Config, log: Logger): Promise<Switchyard> {
  const addresses: Record<string, string> = {};
  const announce = (role: string, address: string): void => {
    addresses[role] = address;
    log.info({ role, address }, `listening role=${role} address=${address}`);
  };

  let pool: WorkerPool | undefined;
  let local: ReturnType<typeof createDataPlane> | undefined;
  const cp = await createControlPlane({
    config,
    log,
    draining: () => pool?.draining() ?? local?.pools.draining() ?? new Map(),
    workers: () => pool?.views() ?? [],
    traffic: () => {
      if (pool !== undefined) return { ...pool.counters(), inFlight: pool.inFlight() };
      if (local !== undefined) return { ...local.counters.view(), inFlight: local.inFlight() };
      return { ...NO_COUNTS, inFlight: 0 };
    },
    dataPlaneMetrics: async () => {
      if (pool !== undefined) return pool.metricFamilies();
      return local === undefined ? [] : [await local.metricFamilies()];
    },
    onHealthEvent: (event) => pool?.broadcastHealth(event),
    balancer: () => local?.balancer ?? pool?.balancer,
  });
  announce('admin', await cp.start());
  // The first snapshot is built: drop what building it left behind before any traffic arrives (when large).
  collectStartupGarbage(config.startupGcHeapMb, log);

  const ticketKeys = new TicketKeyHolder();
  // The timer is unref'd: it never keeps the process alive. Always on: an HTTPS Gateway listener may
  // appear with any configuration change, without --listen-tls.
  rotateTicketKeys(ticketKeys, config.tlsTicketRotationMs);
  ticketKeys.onChange(() => log.debug({ component: 'tls' }, 'TLS session-ticket key rotated'));
  // One limit for the whole process, worker threads included: one line says it.
  logClientConnectionCap(config, log);
  let stopData: (drainTimeoutMs: number) => Promise<number>;
  let accessLog: AccessLog | undefined;
  try {
    // Only the shape asked for is imported: a primary of worker threads never runs the data plane's
    // listeners itself, and one thread never starts workers.
    if (config.workers === 1) {
      const { createDataPlane } = await import('./runtime/data-plane.ts');
      accessLog = createAccessLog(config, log);
      local = createDataPlane({ config, holder: cp.holder, health: cp.health, log, observeHealth: false, ticketKeys, accessLog });
      const dataPlane = local;
      for (const [role, address] of Object.entries(await dataPlane.listen())) announce(role, address);
      stopData = async (drainTimeoutMs) => {
        const { cut } = await dataPlane.drain(drainTimeoutMs);
        await dataPlane.close(cut > 0);
        // Every exchange has ended: its line is queued; write them all before the process exits.
        await accessLog?.close();
        return cut;
      };
    } else {
      // Each worker opens the access log itself; an unusable path must fail start-up here, not in a worker.
      checkAccessLogTarget(config);
      const { startWorkerPool } = await import('./runtime/primary.ts');
      pool = startWorkerPool(config, cp.holder, cp.health, ticketKeys, log.child({ component: 'workers' }));
      const workers = pool;
      for (const [role, address] of Object.entries(await workers.ready)) announce(role, address);
      log.info({ workers: config.workers }, 'data plane running in worker threads');
      stopData = async (drainTimeoutMs) => {
        await workers.stop(drainTimeoutMs);
        return 0;
      };
    }
    const dns = await cp.startDns();
    if (dns !== undefined) announce('dns', dns);
  } catch (err) {
    await pool?.stop(0);
    await local?.drain(0);
    await local?.close(true);
    await accessLog?.close();
    await cp.stop();
    throw err;
  }
  cp.setReady(true);

  let stopping: Promise<void> | undefined;
  return {
    addresses,
    holder: cp.holder,
    workers: pool,
    stop(options = {}) {
      stopping ??= (async () => {
        cp.setReady(false);
        const delayMs = options.delayMs ?? 0;
        if (delayMs > 0) {
          log.info({ delayMs }, 'stopping: /readyz is 503; still serving during the shutdown delay');
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
        log.info({ inFlight: local?.inFlight(), drainTimeoutMs: config.drainTimeoutMs }, 'stopping: no longer accepting; draining in-flight requests');
        const cut = await stopData(config.drainTimeoutMs);
        if (cut > 0) log.warn({ cut }, 'drain timeout reached; cut requests still in flight');
        await cp.stop();
        log.info('stopped');
      })();
      return stopping;
    },
    reopenLogs() {
      if (pool !== undefined) pool.reopenLogs();
      else accessLog?.reopen();
    },
  };
}
