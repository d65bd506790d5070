/**
 * Manifests loaded and compiled once, exactly as the proxy does at start-up (the same FileSource, Store
 * and compile() with the flags' compile options), with no listener, watcher or timer left behind.
 * Shared by `switchyard check` and `switchyard explain` so that neither can drift from start-up.
 */
import { compile, type CompiledState } from '../compile/compile.ts';
import type { SwyError } from '../errors.ts';
import { parseFlags, type Config } from '../flags.ts';
import { createRootLogger } from '../log.ts';
import type { Rec } from '../model/records.ts';
import { FileSource } from '../sources/file-source.ts';
import { Store } from '../store/store.ts';
import { compileOptionsOf } from './control-plane.ts';

export type LoadConfig = Pick<Config, 'manifests' | 'clusterDomain' | 'ingressClass' | 'ingressControllerName' | 'gatewayControllerName' | 'watchIngressWithoutClass' | 'sslRedirect' | 'defaultCertificate'>;

export interface LoadedManifests {
  /** Every record the files hold (none when a file was rejected). */
  readonly records: readonly Rec[];
  /** Rejected manifests: any one of them stops start-up. */
  readonly errors: readonly SwyError[];
  /** Undefined when a manifest was rejected: the proxy compiles nothing then either. */
  readonly compiled: CompiledState | undefined;
  /** --manifests paths that hold no manifests (the proxy warns and starts). */
  readonly emptyPaths: readonly string[];
}

/** Loads `config.manifests` once and compiles them; never throws for a manifest problem. */
export async function loadAndCompile(config: LoadConfig): Promise<LoadedManifests> {
  const source = new FileSource({ paths: config.manifests, log: createRootLogger('silent'), rescanMs: 0 });
  let records: readonly Rec[] = [];
  source.onUpdate((r) => {
    records = r;
  });
  const errors: SwyError[] = [];
  try {
    await source.start();
  } catch (err) {
    errors.push(...unpack(err));
  } finally {
    source.close();
  }
  const { emptyPaths } = source.status();
  if (errors.length > 0) return { records, errors, compiled: undefined, emptyPaths };
  const store = new Store([source.name]);
  store.replace(source.name, records);
  return { records, errors, compiled: compile(store.view(), { ...compileOptionsOf(config), now: Date.now() }), emptyPaths };
}

/** FileSource.start rejects with one error: the single problem itself, or a summary whose cause lists them all. */
function unpack(err: unknown): SwyError[] {
  const e = err as SwyError;
  if (e.cause instanceof AggregateError) return e.cause.errors as SwyError[];
  return [e];
}

/** Flags that name a cluster: refused by the commands that read manifest files only. */
const CLUSTER_FLAGS = ['--kubeconfig', '--in-cluster', '--context', '--watch-namespace', '--selector', '--ingress-status-address'];

/**
 * The proxy's own flags for a command that reads manifest files only (`check`, `explain`): parsed by
 * parseFlags, cluster flags refused with `refusal(flag)`, at least one --manifests required. Problems go
 * to `errors`; undefined when there is any.
 */
export function parseManifestOnlyFlags(rest: readonly string[], refusal: (flag: string) => string, errors: string[]): { kind: 'help' } | { kind: 'config'; config: Config } | undefined {
  for (const flag of CLUSTER_FLAGS) {
    if (rest.some((a) => a === flag || a.startsWith(`${flag}=`))) errors.push(refusal(flag));
  }
  const parsed = parseFlags(rest);
  if (parsed.kind === 'help') return parsed;
  if (parsed.kind === 'version') errors.push('--version: not an option of this command (`switchyard --version` prints the version)');
  // The proxy's message offers a cluster instead of --manifests: not an option here.
  const noManifests = (e: string): boolean => e.startsWith('--manifests: at least one PATH');
  const flagErrors = parsed.kind === 'error' ? parsed.errors : [];
  errors.push(...flagErrors.filter((e) => !noManifests(e)));
  if (flagErrors.some(noManifests) || (parsed.kind === 'config' && parsed.config.manifests.length === 0)) errors.push('--manifests: at least one PATH is required');
  return errors.length > 0 || parsed.kind !== 'config' ? undefined : parsed;
}
