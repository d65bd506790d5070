/**
 * Manifests for tests: builders for the three kinds Switchyard routes with (Service, EndpointSlice,
 * Ingress), YAML serialisation, and a fresh temp directory per test (removed by cleanupAll()).
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { defer } from './cleanup.ts';
import type { Pod } from './pods.ts';

export type Manifest = Record<string, unknown>;

/** A fresh empty directory under the OS temp dir; removed after the test. */
export async function tempManifestDir(prefix = 'swy-it-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface ServiceSpec {
  readonly name: string;
  readonly namespace: string;
  /** Default 80. */
  readonly port?: number;
  /** Default 'http'. */
  readonly portName?: string;
}

export function service(s: ServiceSpec): Manifest {
  const portName = s.portName ?? 'http';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace },
    spec: { ports: [{ name: portName, port: s.port ?? 80, targetPort: portName, protocol: 'TCP' }] },
  };
}

export interface EndpointSpec {
  readonly ip: string;
  /** Default true. */
  readonly ready?: boolean;
  readonly pod?: string;
}

export interface SliceSpec {
  readonly service: string;
  readonly namespace: string;
  /** Default `<service>-slice`. */
  readonly name?: string;
  /** The endpoints' port (every endpoint of a slice shares it). */
  readonly port: number;
  /** Default 'http'. */
  readonly portName?: string;
  readonly endpoints: readonly EndpointSpec[];
}

export function endpointSlice(s: SliceSpec): Manifest {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: s.name ?? `${s.service}-slice`, namespace: s.namespace, labels: { 'kubernetes.io/service-name': s.service } },
    addressType: 'IPv4',
    ports: [{ name: s.portName ?? 'http', port: s.port, protocol: 'TCP' }],
    endpoints: s.endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true },
      ...(e.pod ? { targetRef: { kind: 'Pod', namespace: s.namespace, name: e.pod } } : {}),
    })),
  };
}

/** EndpointSlice endpoints for pods that share one port. */
export function podEndpoints(pods: readonly Pod[], notReady: readonly string[] = []): EndpointSpec[] {
  return pods.map((p) => ({ ip: p.host, pod: p.name, ready: !notReady.includes(p.name) }));
}

/** A Service and its EndpointSlice for pods sharing one port. */
export function serviceWithPods(name: string, namespace: string, pods: readonly Pod[], options: { port?: number; notReady?: readonly string[] } = {}): Manifest[] {
  if (pods.length === 0) throw new Error('serviceWithPods needs at least one pod');
  return [
    service({ name, namespace, port: options.port ?? 80 }),
    endpointSlice({ service: name, namespace, port: pods[0]!.port, endpoints: podEndpoints(pods, options.notReady) }),
  ];
}

export interface PathSpec {
  readonly path: string;
  /** Default 'Prefix'. */
  readonly pathType?: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  readonly service: string;
  /** Service port number; default 80. */
  readonly port?: number;
}

export interface RuleSpec {
  /** Omitted: a rule for every host. */
  readonly host?: string;
  readonly paths: readonly PathSpec[];
}

export interface IngressSpec {
  readonly name: string;
  readonly namespace: string;
  readonly rules?: readonly RuleSpec[];
  readonly defaultBackend?: { readonly service: string; readonly port?: number };
}

const backendOf = (service: string, port: number | undefined) => ({ service: { name: service, port: { number: port ?? 80 } } });

export function ingress(s: IngressSpec): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: s.name, namespace: s.namespace },
    spec: {
      ingressClassName: 'switchyard',
      ...(s.defaultBackend ? { defaultBackend: backendOf(s.defaultBackend.service, s.defaultBackend.port) } : {}),
      rules: (s.rules ?? []).map((r) => ({
        ...(r.host !== undefined ? { host: r.host } : {}),
        http: { paths: r.paths.map((p) => ({ path: p.path, pathType: p.pathType ?? 'Prefix', backend: backendOf(p.service, p.port) })) },
      })),
    },
  };
}

/** A `kubernetes.io/tls` Secret holding `pem`'s certificate and key. */
export function tlsSecretOf(name: string, namespace: string, pem: { readonly certPem: string; readonly keyPem: string }): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace },
    data: { 'tls.crt': Buffer.from(pem.certPem).toString('base64'), 'tls.key': Buffer.from(pem.keyPem).toString('base64') },
  };
}

/** Multi-document YAML. */
export function toYaml(docs: readonly Manifest[]): string {
  return docs.map((d) => `---\n${dump(d)}`).join('');
}

/** Writes `docs` (or raw text) to `dir/file` in place; returns the path. */
export async function writeManifest(dir: string, file: string, content: readonly Manifest[] | string): Promise<string> {
  const path = join(dir, file);
  await writeFile(path, typeof content === 'string' ? content : toYaml(content));
  return path;
}

/** Writes like an editor: to a temp name in the same directory, then renames it over `file`. */
export async function writeManifestAtomic(dir: string, file: string, content: readonly Manifest[] | string): Promise<string> {
  const path = join(dir, file);
  const temp = join(dir, `${file}.tmp-${process.pid}`);
  await writeFile(temp, typeof content === 'string' ? content : toYaml(content));
  await rename(temp, path);
  return path;
}
