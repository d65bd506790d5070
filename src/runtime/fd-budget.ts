/**
 * The file-descriptor budget of a process. Node raises its own soft RLIMIT_NOFILE to the hard limit at
 * start-up (as nginx's worker_rlimit_nofile and Envoy do); what is left to decide is how many client
 * connections a worker may hold so that pods, manifest rescans and logs still get descriptors.
 */
import { readFileSync } from 'node:fs';

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

/** Descriptors kept for everything but client and pod connections: manifests, logs, admin, DNS, health checks. */
const RESERVED = 256;
/** Without a known limit: what a default Linux soft limit (1,024) would give. */
const FALLBACK = 384;

/**
 * The default `--max-client-connections` of one worker: half of what is left after the reserve, since
 * every busy client connection may hold one pod connection too (`upstreamMaxConnections` per pod bounds
 * the other half only per endpoint, so the split is by halves, not by that cap).
 */
export function clientConnectionBudget(_upstreamMaxConnections: number, limit = openFileLimit()): number {
  if (limit === undefined) return FALLBACK;
  return Math.max(64, Math.floor((limit - RESERVED) / 2));
}
