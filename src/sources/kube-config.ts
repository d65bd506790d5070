/**
 * Loads and checks the connection settings for the Kubernetes API: a kubeconfig file (its current context,
 * or an explicit one) or the in-cluster service account. Every problem found here is a SWY_ERR_KUBE_CONFIG
 * naming the file and context, raised before any request — the client library would otherwise fail later,
 * on every request, with a less helpful message.
 * Only the kube-* modules of this folder use the result: the client library's types stay behind them.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ErrorCode, SwyError } from '../errors.ts';

/** Where the pod's service-account files live (KubeConfig.loadFromCluster reads the same paths). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnectOptions {
  /** A kubeconfig file; default: the first of $KUBECONFIG, else ~/.kube/config. Ignored when `inCluster`. */
  readonly kubeconfigPath?: string;
  /** The context to use; default: the file's current-context. */
  readonly context?: string;
  /** Use the pod's service account (token, CA) and KUBERNETES_SERVICE_HOST/PORT; default false. */
  readonly inCluster?: boolean;
  /** Prefix of the service-account directory, for tests; default '' (the real /var/run/secrets/…). */
  readonly serviceAccountRoot?: string;
  /** Environment to read KUBERNETES_SERVICE_HOST/PORT and KUBECONFIG from; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface KubeConnection {
  readonly config: KubeConfig;
  /** The API server URL. */
  readonly server: string;
  /** The context used (`inClusterContext` in a pod). */
  readonly context: string;
  /** What the settings came from, for messages: `kubeconfig FILE context NAME` or `in-cluster service account`. */
  readonly description: string;
}

/** Loads and checks the settings; throws SWY_ERR_KUBE_CONFIG. */
export function loadKubeConnection(options: KubeConnectOptions = {}): KubeConnection {
  return options.inCluster ? loadInCluster(options) : loadFile(options);
}

function configError(message: string, cause?: unknown): SwyError {
  return new SwyError(ErrorCode.KUBE_CONFIG, message, cause === undefined ? {} : { cause });
}

function loadInCluster(options: KubeConnectOptions): KubeConnection {
  const env = options.env ?? process.env;
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) {
    throw configError('in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (not running in a pod?); use --kubeconfig outside a cluster');
  }
  const root = options.serviceAccountRoot ?? '';
  for (const file of ['token', 'ca.crt']) {
    const path = `${root}${SERVICE_ACCOUNT_DIR}/${file}`;
    if (!readable(path)) throw configError(`in-cluster configuration: cannot read the service account's ${file} at ${path} (is automountServiceAccountToken off?)`);
  }
  const config = new KubeConfig();
  config.loadFromCluster(root);
  // loadFromCluster reads process.env; an injected environment must win.
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const cluster = config.getCurrentCluster();
  if (cluster && cluster.server !== server) Object.assign(cluster, { server });
  return { config, server: cluster?.server ?? server, context: config.getCurrentContext(), description: 'in-cluster service account' };
}

function defaultKubeconfig(env: NodeJS.ProcessEnv): string {
  const fromEnv = (env['KUBECONFIG'] ?? '').split(delimiter).find((p) => p !== '');
  return fromEnv ?? join(homedir(), '.kube', 'config');
}

function loadFile(options: KubeConnectOptions): KubeConnection {
  const file = resolve(options.kubeconfigPath ?? defaultKubeconfig(options.env ?? process.env));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw configError(`kubeconfig ${file}: cannot read: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, err);
  }
  const config = new KubeConfig();
  try {
    config.loadFromString(text);
    config.makePathsAbsolute(resolve(file, '..'));
  } catch (err) {
    throw configError(`kubeconfig ${file}: not a valid kubeconfig: ${firstLine(err)}`, err);
  }
  const names = config.getContexts().map((c) => c.name);
  const available = names.length > 0 ? `available: ${names.join(', ')}` : 'it defines no contexts';
  const contextName = options.context ?? config.getCurrentContext();
  if (!contextName) throw configError(`kubeconfig ${file}: no current-context is set; choose one with --context (${available})`);
  const context = config.getContextObject(contextName);
  if (!context) throw configError(`kubeconfig ${file}: context "${contextName}" not found (${available})`);
  config.setCurrentContext(contextName);
  const where = `kubeconfig ${file} context "${contextName}"`;
  const cluster = config.getCluster(context.cluster);
  if (!cluster) throw configError(`${where}: cluster "${context.cluster}" not found`);
  if (context.user && !config.getUser(context.user)) throw configError(`${where}: user "${context.user}" not found`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch (err) {
    throw configError(`${where}: cluster "${cluster.name}" has an invalid server URL ${JSON.stringify(cluster.server)}`, err);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(`${where}: server ${cluster.server} must be an http(s) URL`);
  // The client refuses plain HTTP unless TLS checks are explicitly off; say so now rather than on every request.
  if (url.protocol === 'http:' && !cluster.skipTLSVerify) throw configError(`${where}: server ${cluster.server} is plain HTTP, which needs insecure-skip-tls-verify: true`);
  const user = context.user ? config.getUser(context.user) : null;
  for (const [what, path] of [['certificate-authority', cluster.caFile], ['client-certificate', user?.certFile], ['client-key', user?.keyFile]] as const) {
    if (path && !readable(path)) throw configError(`${where}: cannot read ${what} ${path}`);
  }
  return { config, server: cluster.server, context: contextName, description: where };
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return existsSync(path);
  } catch {
    return false;
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

