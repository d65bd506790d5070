/**
 * The "cluster" the conformance scenarios run against: the fake Kubernetes API server of the kube
 * integration tests (Switchyard watches it through --kubeconfig and writes Ingress status to it), plus
 * what the suite's Kubernetes helpers do there: random namespaces, echo "Deployments" (local echo pods
 * with their Service and EndpointSlices), scaling, and deleting a namespace with all it holds.
 *
 * A Deployment's pods each get their own port on 127.0.0.1, so each pod is one EndpointSlice of the
 * Service (as the EndpointSlice controller groups pods whose named target port resolves to different
 * numbers); the Service's targetPort is that name.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer, type KubeObject, type Plural } from '../integration/kube/fake-apiserver.ts';
import { startEchoPod, type EchoPod } from './echo-pod.ts';

/** The port every echo Service uses when the Ingress names its port (the suite's default). */
export const DEFAULT_SERVICE_PORT = 8080;
const TARGET_PORT_NAME = 'echo';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface EchoDeployment {
  readonly name: string;
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  /** The Service port's name; '' when the Ingress refers to it by number. */
  readonly portName: string;
  readonly pods: EchoPod[];
}

/** Lower-case letters and digits, like the suffixes Kubernetes generates. */
export function randomSuffix(length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

export class FakeCluster {
  readonly api: FakeApiServer;
  readonly kubeconfig: string;
  readonly #dir: string;
  /** namespace → objects created in it, for deleteNamespace. */
  readonly #objects = new Map<string, { plural: Plural; name: string }[]>();
  /** namespace → deployments (their pods are closed with the namespace). */
  readonly #deployments = new Map<string, Map<string, EchoDeployment>>();
  #clusterIp = 0;

  private constructor(api: FakeApiServer, dir: string, kubeconfig: string) {
    this.api = api;
    this.#dir = dir;
    this.kubeconfig = kubeconfig;
  }

  static async start(): Promise<FakeCluster> {
    const api = await FakeApiServer.start();
    const dir = await mkdtemp(join(tmpdir(), 'swy-conformance-'));
    try {
      return new FakeCluster(api, dir, await api.writeKubeconfig(dir));
    } catch (err) {
      await api.close();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** A fresh namespace name (`ingress-conformance-xxxxx`, as the suite's generateName gives). */
  newNamespace(): string {
    let ns: string;
    do ns = `ingress-conformance-${randomSuffix(5)}`;
    while (this.#objects.has(ns));
    this.#objects.set(ns, []);
    return ns;
  }

  /** Creates or replaces an object in `namespace`. */
  apply(plural: Plural, namespace: string, obj: KubeObject): KubeObject {
    const list = this.#objects.get(namespace);
    if (!list) throw new Error(`namespace ${namespace} was not created by this run`);
    obj.metadata.namespace = namespace;
    if (!list.some((o) => o.plural === plural && o.name === obj.metadata.name)) list.push({ plural, name: obj.metadata.name });
    return this.api.upsert(plural, obj);
  }

  get(plural: Plural, namespace: string, name: string): KubeObject | undefined {
    return this.api.get(plural, namespace, name);
  }

  /** `status.loadBalancer.ingress` of an Ingress as IPs and hostnames, in order (empty when none). */
  ingressAddresses(namespace: string, name: string): string[] {
    const obj = this.api.get('ingresses', namespace, name);
    if (!obj) throw new Error(`Ingress ${namespace}/${name} does not exist`);
    const list = (obj['status'] as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)?.loadBalancer?.ingress ?? [];
    const out: string[] = [];
    for (const e of list) {
      if (e.ip) out.push(e.ip);
      if (e.hostname) out.push(e.hostname);
    }
    return out;
  }

  deployment(namespace: string, name: string): EchoDeployment | undefined {
    return this.#deployments.get(namespace)?.get(name);
  }

  /**
   * The suite's echo Deployment for one Ingress backend: `<ingress>-<service>` with one pod, and its
   * Service (port `portNumber`, or 8080 named `portName`). An existing Deployment is kept as it is.
   */
  async ensureEchoDeployment(namespace: string, ingress: string, service: string, portName: string, portNumber: number): Promise<EchoDeployment> {
    const name = `${ingress}-${service}`;
    const existing = this.deployment(namespace, name);
    if (existing) return existing;
    const deployment: EchoDeployment = { name, namespace, ingress, service, portName, pods: [] };
    let byName = this.#deployments.get(namespace);
    if (!byName) this.#deployments.set(namespace, (byName = new Map()));
    byName.set(name, deployment);
    await this.#addPods(deployment, 1);
    this.#clusterIp++;
    this.apply('services', namespace, {
      metadata: { name: service, namespace },
      spec: {
        type: 'NodePort',
        clusterIP: `10.96.${(this.#clusterIp >> 8) & 255}.${this.#clusterIp & 255}`,
        selector: { app: name },
        ports: [{ ...(portName ? { name: portName } : {}), port: portNumber || DEFAULT_SERVICE_PORT, targetPort: TARGET_PORT_NAME, protocol: 'TCP' }],
      },
    });
    return deployment;
  }

  /** Scales a Deployment up to `replicas` pods (scaling down is not needed by the suite). */
  async scale(deployment: EchoDeployment, replicas: number): Promise<void> {
    if (replicas < deployment.pods.length) throw new Error(`scaling ${deployment.name} down to ${replicas} is not supported`);
    await this.#addPods(deployment, replicas - deployment.pods.length);
  }

  async #addPods(d: EchoDeployment, count: number): Promise<void> {
    for (let k = 0; k < count; k++) {
      const pod = await startEchoPod({ namespace: d.namespace, ingress: d.ingress, service: d.service, pod: `${d.name}-${randomSuffix(10)}-${randomSuffix(5)}` });
      d.pods.push(pod);
      this.apply('endpointslices', d.namespace, {
        metadata: { name: `${d.service}-${randomSuffix(5)}`, namespace: d.namespace, labels: { [SERVICE_NAME_LABEL]: d.service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [pod.host], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: d.namespace, name: pod.name } }],
        ports: [{ name: d.portName, port: pod.port, protocol: 'TCP' }],
      });
    }
  }

  /** Deletes every object of `namespace` (Ingresses first) and stops its pods. */
  async deleteNamespace(namespace: string): Promise<void> {
    const list = this.#objects.get(namespace) ?? [];
    const order: Plural[] = ['ingresses', 'endpointslices', 'services', 'secrets'];
    for (const plural of order) {
      for (const o of list) if (o.plural === plural && this.api.get(plural, namespace, o.name)) this.api.remove(plural, namespace, o.name);
    }
    this.#objects.delete(namespace);
    const deployments = this.#deployments.get(namespace);
    this.#deployments.delete(namespace);
    await Promise.all([...(deployments?.values() ?? [])].flatMap((d) => d.pods.map((p) => p.close())));
  }

  async close(): Promise<void> {
    for (const ns of [...this.#objects.keys()]) await this.deleteNamespace(ns);
    await this.api.close();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
