/**
 * The file-descriptor budget of a process, and the default `--max-client-connections` drawn from it.
 *
 * Node itself raises the soft RLIMIT_NOFILE to the hard limit at start-up (src/node.cc, unless embedded
 * with kNoAdjustResourceLimits): what nginx's
 * `worker_rlimit_nofile` and Envoy do by hand. Measured on Node 24: started under
 * `prlimit --nofile=256:4096`, /proc/<pid>/limits reads 4096 4096 (test/unit/runtime/fd-budget.test.ts).
 * So there is nothing to raise here; the hard limit is the budget, and it is per process: the worker
 * threads of `--workers N` share it. What is left to decide is how many client connections a listener may hold so that pods,
 * manifest reads, logs and the admin API still get descriptors: a process out of descriptors cannot
 * accept, connect to a pod or read its manifests (issue 14: 3,000 idle connections under
 * `ulimit -n 1024` emptied the routing table).
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../flags.ts';
import type { Logger } from '../log.ts';

/** The soft limit on open files, from /proc/self/limits; undefined where that file is missing (not Linux). */
export function openFileLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'latin1');
  } catch {
    return undefined;
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
}

/** Assumed where the limit cannot be read: the usual Linux soft limit. */
const FALLBACK_LIMIT = 1024;
/** The most the reserve takes: Node's own descriptors (~30), listeners, watchers, manifest reads, admin and DNS clients, health checks, logs. */
const MAX_RESERVE = 256;
/** The highest value --max-client-connections accepts (flags.ts). */
const MAX_CAP = 10_000_000;

/** Descriptors kept for everything but client and pod connections: a quarter of a small limit, 256 of a large one. */
export function reservedDescriptors(limit: number): number {
  return Math.min(MAX_RESERVE, Math.floor(limit / 4));
}

/**
 * The default cap on client connections of one listener of one process:
 *
 *     ⌊(limit − reserve) / 2 / listeners⌋, at least 1
 *
 * Each client connection is one descriptor, and while a request is forwarded it holds one pod
 * connection too (HTTP/1.1 has one request per pod connection; a slow client keeps it until its
 * request is done). So clients get half of what the reserve leaves and pods the other half: the
 * process stays within its limit even when every client is mid-request, and idle clients (the
 * attack) can never take the descriptors pods and manifest reads need. net's `maxConnections` counts
 * per server, so the clients' half is split between the client listeners (ingress, ingress-tls,
 * service) of every worker thread. Limit 1,024 and one listener: 384; 65,536: 32,640; 1,048,576: 524,160.
 * `limit` undefined (not Linux): 1,024 is assumed.
 */
export function clientConnectionBudget(limit: number | undefined, listeners = 1): number {
  const l = limit ?? FALLBACK_LIMIT;
  return Math.min(MAX_CAP, Math.max(1, Math.floor((l - reservedDescriptors(l)) / 2 / Math.max(1, listeners))));
}

export interface ClientConnectionCap {
  /** The process's open-file limit; undefined when unknown. */
  readonly fdLimit: number | undefined;
  /** Client listening sockets of the process: ingress, ingress-tls and service, in each worker thread. */
  readonly listeners: number;
  /** `server.maxConnections` of each listener. */
  readonly perListener: number;
  /** Whether --max-client-connections set it (else the fd budget did). */
  readonly fromFlag: boolean;
}

type CapConfig = Pick<Config, 'maxClientConnections' | 'listenTls' | 'serviceListen' | 'workers'>;

/** The cap each client listener applies: --max-client-connections when given, else the fd budget. */
export function clientConnectionCap(config: CapConfig, limit: number | undefined = openFileLimit()): ClientConnectionCap {
  const listeners = (1 + (config.listenTls !== undefined ? 1 : 0) + (config.serviceListen !== undefined ? 1 : 0)) * config.workers;
  const fromFlag = config.maxClientConnections !== undefined;
  const perListener = config.maxClientConnections ?? clientConnectionBudget(limit, listeners);
  return { fdLimit: limit, listeners, perListener, fromFlag };
}

/**
 * Logs, once at start-up, the descriptor limit and the client cap; warns when --max-client-connections
 * leaves pods and manifest reads less than the budget would.
 */
export function logClientConnectionCap(config: CapConfig, log: Logger, limit: number | undefined = openFileLimit()): ClientConnectionCap {
  const cap = clientConnectionCap(config, limit);
  const fields = { fdLimit: cap.fdLimit ?? null, maxClientConnections: cap.perListener, listeners: cap.listeners, workers: config.workers, from: cap.fromFlag ? 'flag' : 'fd budget' };
  log.info(fields, `file descriptors: limit ${cap.fdLimit ?? 'unknown'} for the process; client connections capped at ${cap.perListener} per listener per worker (${fields.from}); the excess is closed at accept`);
  const budget = clientConnectionBudget(limit, cap.listeners);
  if (cap.fromFlag && limit !== undefined && cap.perListener > budget) {
    log.warn(
      { fdLimit: limit, maxClientConnections: cap.perListener, budget },
      `--max-client-connections ${cap.perListener} is above what the descriptor limit leaves for clients (${budget} per listener): clients may exhaust descriptors, then new pod connections and manifest reads fail (the last good manifests are kept)`,
    );
  }
  return cap;
}
