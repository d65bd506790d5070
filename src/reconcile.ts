/**
 * store.onChange → coalesce → compile → holder.swap → one log line.
 * Changes arriving within the coalescing window are folded into one rebuild; a rebuild whose result
 * hashes the same as the current snapshot is not swapped. Certificates are checked against the clock of
 * each rebuild, and one more rebuild is due when the first certificate served expires, so an expired
 * certificate becomes a diagnostic (and its hosts get the default certificate) without any change. That
 * covers the Ingress certificates and those of the Gateways' HTTPS listeners (whose listener then gets
 * ResolvedRefs False, InvalidCertificateRef, as at a configuration change).
 */
import { compile, type CompileOptions } from './compile/compile.ts';
import type { Logger } from './log.ts';
import type { SnapshotHolder } from './snapshot/holder.ts';
import type { Snapshot, TlsCertificate } from './snapshot/types.ts';
import type { Store } from './store/store.ts';

export interface ReconcilerOptions extends Omit<CompileOptions, 'now'> {
  /** How long to wait for more changes before rebuilding; default 10 ms. */
  readonly coalesceMs?: number;
  /** Clock for certificate expiry; default Date.now. */
  readonly clock?: () => number;
}

/** Longest wait before the expiry re-check (setTimeout takes at most 2^31-1 ms). */
const MAX_EXPIRY_WAIT_MS = 86_400_000;

/** Every certificate `snapshot` serves: the Ingress listeners' and each Gateway HTTPS port's. */
function* servedCertificates(snapshot: Snapshot): Iterable<TlsCertificate> {
  yield* snapshot.tls.certificates.values();
  for (const port of snapshot.gatewayPorts?.values() ?? []) if (port.tls !== undefined) yield* port.tls.certificates.values();
}

export interface Reconciler {
  /** Rebuilds now (used once after the initial load). */
  rebuildNow(): void;
  stop(): void;
}

export function startReconciler(store: Store, holder: SnapshotHolder, options: ReconcilerOptions, log: Logger): Reconciler {
  const coalesceMs = options.coalesceMs ?? 10;
  const clock = options.clock ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const scheduleExpiryCheck = (now: number): void => {
    clearTimeout(expiryTimer);
    expiryTimer = undefined;
    // The next moment a certificate served starts or stops being valid (its diagnostic changes then).
    let first = Number.POSITIVE_INFINITY;
    for (const cert of servedCertificates(holder.current())) {
      for (const at of [Date.parse(cert.info.notBefore), Date.parse(cert.info.notAfter)]) if (at >= now && at < first) first = at;
    }
    if (first === Number.POSITIVE_INFINITY) return;
    // notAfter is the last valid second: rebuild just after it.
    expiryTimer = setTimeout(() => {
      expiryTimer = undefined;
      if (!stopped && !timer) rebuild();
    }, Math.min(first - now + 1000, MAX_EXPIRY_WAIT_MS));
    expiryTimer.unref();
  };

  const rebuild = (): void => {
    timer = undefined;
    if (stopped) return;
    const started = performance.now();
    const current = holder.current();
    const now = clock();
    const compiled = compile(store.view(), { ...options, now });
    if (compiled.hash === current.hash) {
      scheduleExpiryCheck(now);
      return;
    }
    const next = { ...compiled, version: current.version + 1, createdAt: new Date().toISOString() };
    holder.swap(next);
    scheduleExpiryCheck(now);
    const errors = next.diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = next.diagnostics.filter((d) => d.severity === 'warning').length;
    log.info(
      {
        version: next.version,
        storeVersion: next.storeVersion,
        services: next.services.size,
        backends: next.backends.size,
        routes: next.routes.list.length,
        diagnostics: next.diagnostics.length,
        warnings,
        errors,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
      'snapshot swapped',
    );
  };

  store.onChange(() => {
    if (stopped || timer) return;
    timer = setTimeout(rebuild, coalesceMs);
  });

  return {
    rebuildNow() {
      if (timer) clearTimeout(timer);
      rebuild();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearTimeout(expiryTimer);
    },
  };
}
