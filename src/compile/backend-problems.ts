/**
 * Diagnostics about Ingress backends that do not resolve (missing Service or port, ExternalName,
 * resource backends), worded for the person who has to fix the Ingress: each names the host and path
 * (or `spec.defaultBackend`) that uses the backend, e.g.
 * `host shop.example path /cart (Prefix) → Service cart port 80: no such Service in namespace shop; requests to it get 503`.
 * One diagnostic per Ingress and backend, however many paths use it, listing the uses (the first few).
 */
import type { IngressRec } from '../model/records.ts';
import type { Diagnostic, ServiceView } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';

/** Uses named in full before `and N more`: enough to find them, short enough for one line. */
const USES_SHOWN = 3;

/** Where in an Ingress a backend is used. */
export type BackendUse = { readonly host: string; readonly path: string; readonly pathType: string } | 'defaultBackend';

/** The wording of one use: `host shop.example path /cart (Prefix)`; a rule without host is `host (any)`. */
export function describeUse(use: BackendUse): string {
  if (use === 'defaultBackend') return 'spec.defaultBackend';
  return `host ${use.host === '' ? '(any)' : use.host} path ${use.path} (${use.pathType})`;
}

/** The ports a Service does have, for a message about one it lacks: `80/TCP (http), 53/UDP`. */
export function describePorts(svc: ServiceView): string {
  if (svc.ports.length === 0) return 'it has no ports';
  return `it has ${svc.ports.map((p) => `${p.port}/${p.protocol}${p.name === '' ? '' : ` (${p.name})`}`).join(', ')}`;
}

interface Pending {
  readonly index: number;
  readonly ing: IngressRec;
  readonly code: string;
  readonly target: string;
  readonly problem: string;
  readonly uses: string[];
}

/**
 * Collects backend problems while routes compile and writes them into the diagnostics list at the
 * place of their first use (so the order stays that of the Ingresses), once every use is known.
 */
export class BackendProblems {
  readonly #pending = new Map<string, Pending>();
  readonly #diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    this.#diagnostics = diagnostics;
  }

  /**
   * Records that `use` of `ing` points at `target` (`Service cart port 80`), which fails with `problem`
   * (`no such Service in namespace shop`). Warning severity; the 503 consequence is appended.
   */
  add(ing: IngressRec, code: string, use: BackendUse, target: string, problem: string): void {
    const key = `${ing.meta.namespace}/${ing.meta.name}|${code}|${target}`;
    const pending = this.#pending.get(key);
    const use_ = describeUse(use);
    if (pending) {
      if (!pending.uses.includes(use_)) pending.uses.push(use_);
      return;
    }
    // A placeholder keeps the position; finish() writes the message once every use is known.
    this.#pending.set(key, { index: this.#diagnostics.length, ing, code, target, problem, uses: [use_] });
    this.#diagnostics.push(diag('warning', code, ing, ''));
  }

  /** Writes the collected diagnostics' messages. Call once, after every route was compiled. */
  finish(): void {
    for (const p of this.#pending.values()) {
      const shown = p.uses.slice(0, USES_SHOWN);
      const rest = p.uses.length - shown.length;
      const uses = rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
      this.#diagnostics[p.index] = diag('warning', p.code, p.ing, `${uses} → ${p.target}: ${p.problem}; requests to it get 503`);
    }
    this.#pending.clear();
  }
}
