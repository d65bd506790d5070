/**
 * Runs conformance features against the Switchyard CLI: reads `*.feature` files from a directory,
 * starts one fake cluster and one Switchyard (watching it, writing Ingress status, one worker) per
 * feature, as the suite runs against one long-lived controller, and runs each pickle's steps in a
 * fresh namespace that is deleted afterwards (the suite's AfterScenario).
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { defer } from '../helpers/cleanup.ts';
import { startSwitchyard } from '../helpers/switchyard.ts';
import { FakeCluster } from './fake-cluster.ts';
import { compilePickles, parseFeature, type Feature, type Pickle } from './gherkin.ts';
import { matchStep, World, type FeatureEnv } from './steps.ts';

export interface RunnerOptions {
  /** Open the TLS listener (`--listen-tls 127.0.0.1:0`); default true. */
  readonly tls: boolean;
  /** Default `switchyard`. */
  readonly ingressClass: string;
  /** Default 20 s. */
  readonly statusTimeoutMs: number;
  /** Default 3 s. */
  readonly negativeWaitMs: number;
  /** More Switchyard flags (after the runner's own, so they win). */
  readonly extraArgs: readonly string[];
}

const positive = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of milliseconds, not ${JSON.stringify(value)}`);
  return n;
};

/** Options from the environment (see README.md). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): RunnerOptions {
  return {
    tls: env['CONFORMANCE_TLS'] !== '0',
    ingressClass: env['CONFORMANCE_INGRESS_CLASS'] || 'switchyard',
    statusTimeoutMs: positive('CONFORMANCE_STATUS_TIMEOUT_MS', env['CONFORMANCE_STATUS_TIMEOUT_MS'], 20_000),
    negativeWaitMs: positive('CONFORMANCE_NEGATIVE_WAIT_MS', env['CONFORMANCE_NEGATIVE_WAIT_MS'], 3_000),
    extraArgs: (env['CONFORMANCE_SWITCHYARD_ARGS'] ?? '').split(/\s+/).filter((a) => a !== ''),
  };
}

export interface LoadedFeature {
  readonly file: string;
  readonly feature: Feature;
  readonly pickles: readonly Pickle[];
}

/** Every `*.feature` directly in `dir`, sorted by name; a file that does not parse throws. */
export async function loadFeatures(dir: string): Promise<LoadedFeature[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.feature')).sort();
  if (files.length === 0) throw new Error(`no *.feature files in ${dir}`);
  const out: LoadedFeature[] = [];
  for (const file of files) {
    const feature = parseFeature(await readFile(join(dir, file), 'utf8'), file);
    if (feature) out.push({ file, feature, pickles: compilePickles(feature) });
  }
  return out;
}

/** A test name unique within its feature: the scenario name, the outline row's values, and file:line. */
export function pickleTitle(p: Pickle): string {
  const params = Object.entries(p.params);
  const row = params.length > 0 ? ` (${params.map(([k, v]) => `${k}=${v}`).join(', ')})` : '';
  return `${p.name}${row} [${basename(p.uri)}:${p.exampleLine ?? p.line}]`;
}

/** Starts the fake cluster and Switchyard for one feature; both are closed by cleanupAll(). */
export async function startFeatureEnv(options: RunnerOptions): Promise<FeatureEnv> {
  const cluster = await FakeCluster.start();
  defer(() => cluster.close());
  const args = ['--kubeconfig', cluster.kubeconfig, '--ingress-status-address', '127.0.0.1', '--ingress-class', options.ingressClass];
  if (options.tls) args.push('--listen-tls', '127.0.0.1:0');
  const switchyard = await startSwitchyard({ manifests: [], args: [...args, ...options.extraArgs], timeoutMs: 20_000 });
  return {
    cluster,
    switchyard,
    listeners: { http: switchyard.ingress.port, https: switchyard.tls?.port },
    ingressClass: options.ingressClass,
    statusTimeoutMs: options.statusTimeoutMs,
    negativeWaitMs: options.negativeWaitMs,
  };
}

/** Runs one pickle; a failing step throws naming the step, and the later steps are skipped (as Cucumber does). */
export async function runPickle(env: FeatureEnv, pickle: Pickle): Promise<void> {
  // Every step must be defined before anything is created.
  const plan = pickle.steps.map((step) => ({ step, ...matchStep(step.text) }));
  const exited = env.switchyard.child.exitCode ?? env.switchyard.child.signalCode;
  if (exited !== null) throw new Error(`switchyard is no longer running (exit ${exited}); stderr:\n${env.switchyard.stderr().slice(-2000)}`);
  const world = new World(env);
  try {
    for (const { step, definition, args } of plan) {
      try {
        await definition.run(world, args, step);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new Error(`step "${step.keyword} ${step.text}" (${pickle.uri}:${step.line}) failed: ${message}`, { cause: err });
      }
    }
  } finally {
    if (world.namespace !== undefined) await env.cluster.deleteNamespace(world.namespace);
  }
}
