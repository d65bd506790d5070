import type { Diagnostic, Severity } from '../snapshot/types.ts';
import type { Rec } from '../model/records.ts';

/** Builds a diagnostic about one object. */
export function diag(severity: Severity, code: string, rec: Pick<Rec, 'kind' | 'meta'>, message: string): Diagnostic {
  return { severity, code, kind: rec.kind, namespace: rec.meta.namespace, name: rec.meta.name, message };
}
