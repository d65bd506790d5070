/**
 * Gateway ports the data plane could not bind → the snapshot: a `GATEWAY_LISTENER_PORT_UNAVAILABLE`
 * error diagnostic per listener on such a port (in /api/v1/config) and its state Accepted false,
 * reason PortUnavailable (for status). Binding is the data plane's (each worker binds for itself), so
 * this is known only after compile: the current snapshot is re-issued with them, same content hash (the
 * routing did not change; the next compile of the same objects is not swapped, keeping them, and the data
 * plane does not bind again for it). Reports of every data plane (worker) for the current hash are
 * combined: a port any of them could not bind is reported.
 */
import type { GatewayPortFailure, GatewayPortsReport } from '../dataplane/gateway-listeners.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import type { Diagnostic, GatewayListenerState, Snapshot } from '../snapshot/types.ts';

export const PORT_UNAVAILABLE = 'GATEWAY_LISTENER_PORT_UNAVAILABLE';

/** Takes a data plane's report; `source`: which one (worker index, 0 for the main thread). */
export type GatewayPortReporter = (source: number, report: GatewayPortsReport) => void;

export function gatewayPortStatus(holder: SnapshotHolder, address: string, log: Logger): GatewayPortReporter {
  const reports = new Map<number, GatewayPortsReport>();
  const issued = new WeakSet<Snapshot>();
  /** The compiled snapshot the current one was issued from, and the ports it was issued with. */
  let base = holder.current();
  let applied = '';
  holder.onSwap((next) => {
    if (issued.has(next)) return;
    base = next;
    applied = '';
  });
  return (source, report) => {
    reports.set(source, report);
    if (report.hash !== base.hash) return; // a snapshot since replaced
    const failed = new Map<number, GatewayPortFailure>();
    for (const r of reports.values()) if (r.hash === base.hash) for (const f of r.failures) if (!failed.has(f.port)) failed.set(f.port, f);
    const key = [...failed.keys()].sort((a, b) => a - b).join(',');
    if (key === applied) return;
    applied = key;
    for (const f of failed.values()) log.warn({ address, port: f.port, code: f.code }, 'cannot open a Gateway listener port; retried at the next configuration change');
    const next = { ...withFailures(base, failed, address), version: holder.current().version + 1 };
    issued.add(next);
    holder.swap(next);
  };
}

/** `snapshot` with the diagnostics and listener states of the ports in `failed`. */
export function withFailures(snapshot: Snapshot, failed: ReadonlyMap<number, GatewayPortFailure>, address: string): Snapshot {
  if (failed.size === 0) return snapshot;
  const diagnostics: Diagnostic[] = [...snapshot.diagnostics];
  const listeners = (snapshot.gatewayListeners ?? []).map((l): GatewayListenerState => {
    const f = failed.get(l.port);
    if (f === undefined || !l.programmed.status) return l;
    const message = `cannot listen on ${address.includes(':') ? `[${address}]` : address}:${l.port}: ${f.code} (${f.message})`;
    diagnostics.push({
      severity: 'error',
      code: PORT_UNAVAILABLE,
      kind: 'Gateway',
      namespace: l.namespace,
      name: l.gateway,
      message: `listener ${l.listener}: ${message}; retried at the next configuration change (reason PortUnavailable)`,
    });
    return { ...l, accepted: { status: false, reason: 'PortUnavailable', message }, programmed: { status: false, reason: 'Invalid', message } };
  });
  return { ...snapshot, diagnostics, gatewayListeners: listeners };
}
