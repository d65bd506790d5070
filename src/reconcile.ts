/**
 * store.onChange → coalesce → compile → holder.swap → one log line.
 * Changes arriving within the coalescing window are folded into one rebuild; a rebuild whose result
 * hashes the same as the current snapshot is not swapped.
 */
import { compile, type CompileOptions } from './compile/compile.ts';
import type { Logger } from './log.ts';
import type { SnapshotHolder } from './snapshot/holder.ts';
import type { Store } from './store/store.ts';

export interface ReconcilerOptions extends CompileOptions {
  /** How long to wait for more changes before rebuilding; default 10 ms. */
  readonly coalesceMs?: number;
}

export interface Reconciler {
  /** Rebuilds now (used once after the initial load). */
  rebuildNow(): void;
  stop(): void;
}

export function startReconciler(store: Store, holder: SnapshotHolder, options: ReconcilerOptions, log: Logger): Reconciler {
  const coalesceMs = options.coalesceMs ?? 10;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const rebuild = (): void => {
    timer = undefined;
    if (stopped) return;
    const started = performance.now();
    const current = holder.current();
    const compiled = compile(store.view(), options);
    if (compiled.hash === current.hash) return;
    const next = { ...compiled, version: current.version + 1, createdAt: new Date().toISOString() };
    holder.swap(next);
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
    },
  };
}
