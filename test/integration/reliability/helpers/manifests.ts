/**
 * Manifests for the reliability tests: per Service, an Ingress rule (its own host), the Service
 * (port 80, named `http`) and one EndpointSlice whose single port applies to every endpoint. Written
 * as one JSON `List` file, replaced atomically (write a dot-file, rename), as a controller would.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NAMESPACE = 'rel';

export interface EndpointSpec {
  readonly address: string;
  /** Pod name, for targetRef. */
  readonly pod?: string;
  /** Conditions; unset ones follow the EndpointSlice API defaults. */
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export interface ServiceSpec {
  readonly name: string;
  /** Ingress host routed to this Service; default `${name}.test`. */
  readonly host?: string;
  /** The endpoints' (shared) port. */
  readonly port: number;
  readonly endpoints: readonly EndpointSpec[];
  readonly annotations?: Readonly<Record<string, string>>;
}

export function hostOf(svc: Pick<ServiceSpec, 'name' | 'host'>): string {
  return svc.host ?? `${svc.name}.test`;
}

export function manifestList(services: readonly ServiceSpec[]): object {
  const items: object[] = [];
  for (const svc of services) {
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svc.name, namespace: NAMESPACE, annotations: { ...svc.annotations } },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    });
    items.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${svc.name}-slice`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': svc.name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: svc.port, protocol: 'TCP' }],
      endpoints: svc.endpoints.map((e) => {
        const conditions: Record<string, boolean> = {};
        if (e.ready !== undefined) conditions['ready'] = e.ready;
        if (e.serving !== undefined) conditions['serving'] = e.serving;
        if (e.terminating !== undefined) conditions['terminating'] = e.terminating;
        return {
          addresses: [e.address],
          conditions,
          ...(e.pod ? { targetRef: { kind: 'Pod', namespace: NAMESPACE, name: e.pod } } : {}),
        };
      }),
    });
    items.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: svc.name, namespace: NAMESPACE },
      spec: {
        ingressClassName: 'switchyard',
        rules: [{ host: hostOf(svc), http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc.name, port: { name: 'http' } } } }] } }],
      },
    });
  }
  return { apiVersion: 'v1', kind: 'List', items };
}

export class ManifestDir {
  readonly dir: string;
  #writes = 0;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(): Promise<ManifestDir> {
    return new ManifestDir(await mkdtemp(join(tmpdir(), 'switchyard-reliability-')));
  }

  /** Replaces the manifest file atomically. */
  async write(services: readonly ServiceSpec[]): Promise<void> {
    const tmp = join(this.dir, `.write-${this.#writes++}.json`);
    await writeFile(tmp, JSON.stringify(manifestList(services), null, 1));
    await rename(tmp, join(this.dir, 'manifests.json'));
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
