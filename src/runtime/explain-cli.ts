/**
 * `switchyard explain --manifests PATH [--method M] [--header 'K: V'] [--output text|json] URL`: the
 * routing decision for one request over manifests loaded and compiled exactly as start-up does
 * (load-manifests.ts), with no listener started. The health registry is a fresh one (endpoints are as
 * their EndpointSlices say) and the balancer a fresh RoundRobin, as in a proxy that just started.
 */
import type { SwyError } from '../errors.ts';
import { RoundRobin } from '../dataplane/balancer.ts';
import type { Config } from '../flags.ts';
import { EndpointHealth } from '../health/endpoint-health.ts';
import { createRootLogger } from '../log.ts';
import type { Snapshot } from '../snapshot/types.ts';
import { explain, type Explanation } from './explain.ts';
import { parseExplainInput, type ExplainRequest } from './explain-request.ts';
import { loadAndCompile, parseManifestOnlyFlags } from './load-manifests.ts';

export type ExplainArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly errors: readonly string[] }
  | { readonly kind: 'explain'; readonly config: Config; readonly request: ExplainRequest; readonly output: 'text' | 'json' };

/** The proxy's flags that take no value: every other `--flag` without `=` takes the next argument. */
const BOOLEAN_FLAGS = new Set(['--help', '-h', '--in-cluster']);

/**
 * `explain`'s own flags (`--output`, `--method`/`-X`, `--header`/`-H` repeatable, one URL) plus the
 * proxy's flags, parsed by the proxy's parser so that `--ingress-class`, `--escaped-slashes`,
 * `--listen-tls` and the rest mean what they mean to the proxy. The URL, method and headers are checked
 * here: a bad one is an error naming it (exit 2).
 */
export function parseExplainArgs(argv: readonly string[]): ExplainArgs {
  const rest: string[] = [];
  const positionals: string[] = [];
  const errors: string[] = [];
  const headers: string[] = [];
  let output = 'text';
  let method: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const own = /^(--output|--method|-X|--header|-H)(?:=(.*))?$/s.exec(arg);
    if (own) {
      const value = own[2] ?? argv[++i];
      if (value === undefined) {
        errors.push(`${own[1]}: needs a value`);
        continue;
      }
      if (own[1] === '--output') output = value;
      else if (own[1] === '--method' || own[1] === '-X') method = value;
      else headers.push(value);
    } else if (arg.startsWith('-') && arg !== '-') {
      rest.push(arg);
      if (!arg.includes('=') && !BOOLEAN_FLAGS.has(arg) && i + 1 < argv.length) rest.push(argv[++i]!);
    } else {
      positionals.push(arg);
    }
  }
  if (output !== 'text' && output !== 'json') errors.push(`--output: ${JSON.stringify(output)} is not one of text, json`);
  if (positionals.length === 0) errors.push('a URL is required, e.g. switchyard explain --manifests examples/demo http://demo.localhost/');
  if (positionals.length > 1) errors.push(`one URL only; got ${positionals.map((p) => JSON.stringify(p)).join(', ')}`);
  const parsed = parseManifestOnlyFlags(rest, (flag) => `${flag}: switchyard explain reads manifest files only (--manifests PATH); for the live proxy, ask its admin API: GET /api/v1/explain?url=…`, errors);
  if (parsed?.kind === 'help') return parsed;
  if (parsed === undefined) return { kind: 'error', errors };
  const input = parseExplainInput({ url: positionals[0]!, ...(method !== undefined ? { method } : {}), headers }, parsed.config);
  if (!input.ok) return { kind: 'error', errors: [`${input.error.message} [${input.error.code}]`] };
  return { kind: 'explain', config: parsed.config, request: input.request, output: output === 'json' ? 'json' : 'text' };
}

export type ManifestExplanation = { readonly ok: true; readonly explanation: Explanation } | { readonly ok: false; readonly errors: readonly SwyError[] };

/** Loads and compiles `config.manifests` and explains `request` over them; the load errors when a manifest is rejected. */
export async function explainManifests(config: Config, request: ExplainRequest): Promise<ManifestExplanation> {
  const loaded = await loadAndCompile(config);
  if (loaded.compiled === undefined) return { ok: false, errors: loaded.errors };
  const snapshot: Snapshot = { ...loaded.compiled, version: 1, createdAt: new Date().toISOString() };
  const health = new EndpointHealth({ log: createRootLogger('silent') });
  health.observe(snapshot);
  const explanation = explain(request, { snapshot, health, balancer: new RoundRobin(), live: false, workers: config.workers, tlsListener: config.listenTls !== undefined });
  return { ok: true, explanation };
}
