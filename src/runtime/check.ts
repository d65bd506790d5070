/**
 * `switchyard check`: loads and compiles manifests exactly as the proxy does at start-up (the same
 * FileSource, Store and compile()), with no listener, watcher or timer left behind, and reports every
 * problem. Start-up fails only when a manifest is rejected (FileSource.start throws); compile
 * diagnostics never stop the proxy, so they never fail the check either, whatever their severity.
 */
import { relative, sep } from 'node:path';
import { formatLocation, type SwyError } from '../errors.ts';
import type { Config } from '../flags.ts';
import { recordKey } from '../model/keys.ts';
import type { Origin } from '../model/records.ts';
import { emptyPathProblem } from '../sources/file-source.ts';
import type { Severity } from '../snapshot/types.ts';
import { loadAndCompile, parseManifestOnlyFlags } from './load-manifests.ts';

/** One problem, from a rejected manifest (no kind) or a compile diagnostic (kind, namespace, name). */
export interface CheckProblem {
  readonly severity: Severity;
  /** `SWY_ERR_MANIFEST_*` for a rejected manifest, the diagnostic code (e.g. `INGRESS_RULE_CONFLICT`) otherwise. */
  readonly code: string;
  /** Without the `file document N field path:` prefix the other fields carry. */
  readonly message: string;
  /** Absolute path, when known. */
  readonly file?: string;
  /** 1-based line: of a syntax error, or of the invalid field (its key) or the mapping that lacks it. */
  readonly line?: number;
  /** 0-based document index in the file. */
  readonly document?: number;
  /** Field path, e.g. `spec.rules[0].http.paths[0].pathType`. */
  readonly path?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
}

export interface CheckResult {
  /** True when the proxy would start with these manifests (warnings allowed). */
  readonly ok: boolean;
  /** Rejected manifests: any one of them stops start-up. Compile runs only when there are none, as in the proxy. */
  readonly errors: readonly CheckProblem[];
  /** Compile diagnostics (every severity), each placed at its object's file and document. */
  readonly diagnostics: readonly CheckProblem[];
  /** Warnings about the --manifests paths themselves (`MANIFEST_PATH_EMPTY`: it holds no manifests); they never stop start-up. */
  readonly warnings: readonly CheckProblem[];
  readonly objects: number;
  readonly routes: number;
  readonly durationMs: number;
}

export type CheckConfig = Pick<Config, 'manifests' | 'clusterDomain' | 'ingressClass' | 'ingressControllerName' | 'gatewayControllerName' | 'watchIngressWithoutClass' | 'sslRedirect' | 'defaultCertificate'>;

/** Loads `config.manifests` once and compiles them; never throws for a manifest problem. */
export async function checkManifests(config: CheckConfig): Promise<CheckResult> {
  const started = performance.now();
  const loaded = await loadAndCompile(config);
  const { records, compiled } = loaded;
  const errors: CheckProblem[] = loaded.errors.map(fromError);
  const diagnostics: CheckProblem[] = [];
  let routes = 0;
  if (compiled !== undefined) {
    routes = compiled.routes.list.length;
    const origins = new Map<string, Origin>(records.map((r) => [recordKey(r), r.origin]));
    for (const d of compiled.diagnostics) {
      const origin = origins.get(`${d.kind}/${d.namespace}/${d.name}`);
      diagnostics.push({
        severity: d.severity,
        code: d.code,
        message: d.message,
        ...(origin?.file !== undefined ? { file: origin.file } : {}),
        ...(origin?.document !== undefined ? { document: origin.document } : {}),
        kind: d.kind,
        namespace: d.namespace,
        name: d.name,
      });
    }
  }
  const warnings: CheckProblem[] = loaded.emptyPaths.map((path) => ({ severity: 'warning', code: 'MANIFEST_PATH_EMPTY', message: emptyPathProblem(true), file: path }));
  return { ok: errors.length === 0, errors, diagnostics, warnings, objects: records.length, routes, durationMs: Math.round(performance.now() - started) };
}

function fromError(e: SwyError): CheckProblem {
  const loc = e.location;
  const prefix = loc ? `${formatLocation(loc)}: ` : '';
  const message = prefix !== '' && e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  // A syntax error's line is in its message ("at line 3, column 5", or JSON.parse's "(line 3 column 5)").
  const line = loc?.line ?? (e.code === 'SWY_ERR_MANIFEST_PARSE' ? /\bline (\d+)/.exec(message)?.[1] : undefined);
  return {
    severity: 'error',
    code: typeof e.code === 'string' ? e.code : 'SWY_ERR_MANIFEST_READ',
    message,
    ...(loc?.file !== undefined ? { file: loc.file } : {}),
    ...(line !== undefined ? { line: Number(line) } : {}),
    ...(loc?.document !== undefined ? { document: loc.document } : {}),
    ...(loc?.path ? { path: loc.path } : {}),
  };
}

export type CheckArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly errors: readonly string[] }
  | { readonly kind: 'check'; readonly config: Config; readonly output: 'text' | 'json' };

/**
 * `check`'s flags: `--output text|json` (default text) plus the proxy's own flags, parsed by the same
 * parser so that a flag means the same in both. A cluster source is refused: check reads manifests only.
 */
export function parseCheckArgs(argv: readonly string[]): CheckArgs {
  const rest: string[] = [];
  const errors: string[] = [];
  let output = 'text';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--output') {
      if (i + 1 >= argv.length) errors.push('--output: needs a value (text or json)');
      else output = argv[++i]!;
    } else if (arg.startsWith('--output=')) {
      output = arg.slice('--output='.length);
    } else {
      rest.push(arg);
    }
  }
  if (output !== 'text' && output !== 'json') errors.push(`--output: ${JSON.stringify(output)} is not one of text, json`);
  const parsed = parseManifestOnlyFlags(rest, (flag) => `${flag}: switchyard check reads manifest files only (--manifests PATH); it does not connect to a cluster`, errors);
  if (parsed?.kind === 'help') return parsed;
  if (parsed === undefined) return { kind: 'error', errors };
  return { kind: 'check', config: parsed.config, output: output === 'json' ? 'json' : 'text' };
}

/**
 * The human-readable report: errors, then warnings, then notes, one line each
 * (`FILE[:LINE] document N: path: message [CODE]`), then a summary line. Files are shown relative to `cwd` when under it.
 */
export function formatCheckReport(result: CheckResult, cwd: string): string {
  const all = [...result.errors, ...result.warnings, ...result.diagnostics];
  const groups: [Severity, string][] = [['error', 'error'], ['warning', 'warning'], ['info', 'note']];
  const lines: string[] = [];
  const counts: string[] = [];
  for (const [severity, label] of groups) {
    const items = all.filter((p) => p.severity === severity);
    for (const p of items) lines.push(`${label}: ${formatProblem(p, cwd)}`);
    if (items.length > 0 || severity !== 'info') counts.push(`${items.length} ${label}${items.length === 1 ? '' : 's'}`);
  }
  const verdict = result.ok ? 'would start' : 'would not start';
  lines.push(`${counts.join(', ')}: ${verdict} (${result.objects} objects, ${result.routes} routes, ${result.durationMs} ms)`);
  return `${lines.join('\n')}\n`;
}

function formatProblem(p: CheckProblem, cwd: string): string {
  let file: string | undefined;
  if (p.file !== undefined) {
    const rel = relative(cwd, p.file);
    file = rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) ? rel : p.file;
    if (p.line !== undefined) file += `:${p.line}`;
  }
  const head = [file, p.document !== undefined ? `document ${p.document}` : undefined].filter((s) => s !== undefined).join(' ');
  const object = p.kind === undefined ? undefined : p.namespace === '' ? `${p.kind} ${p.name}` : `${p.kind} ${p.namespace}/${p.name}`;
  const parts = [head, object, p.path, p.message].filter((s): s is string => s !== undefined && s !== '');
  return `${parts.join(': ')} [${p.code}]`;
}
