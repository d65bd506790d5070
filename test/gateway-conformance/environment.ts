/**
 * One conformance test's "cluster" as files: the suite's base manifests and the test's manifests, with
 * the GatewayClass placeholder replaced by a class of Switchyard's controller, every Gateway listener
 * port moved to a free loopback port (one per Gateway and port, as each Gateway has its own address in a
 * cluster; parentRef ports follow), echo-basic pods for every Deployment, and an EndpointSlice per pod for
 * every Service whose selector picks the Deployment (Switchyard runs no Deployments). Then the real CLI
 * reads that directory with `--gateway-address 127.0.0.1`.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { defer } from '../helpers/cleanup.ts';
import { tempManifestDir, writeManifest, writeManifestAtomic } from '../helpers/manifests.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { selfSigned } from '../unit/support/certs.ts';
import { startEchoBasic, type EchoBasicPod } from './echo-basic.ts';
import type { EndpointFill } from './suite-source.ts';

// Raw manifest documents: any shape; only a few known fields are read or rewritten.
type Doc = Record<string, any>;

export interface ListenerPort {
  readonly name: string;
  readonly protocol: string;
  /** The port in the suite's manifest. */
  readonly original: number;
  /** The loopback port it was moved to. */
  readonly port: number;
}

export interface EnvOptions {
  /** The suite's --gateway-class: the GatewayClass name put into the manifests. */
  readonly gatewayClass: string;
  readonly controllerName: string;
  readonly extraArgs: readonly string[];
  /** How long to wait for the moved listener ports to accept a connection; default 3 s. */
  readonly probeMs?: number;
  /** Also write the manifests here (kept, for `switchyard check`/`explain` by hand). */
  readonly keepDir?: string;
  /** EndpointSlices of the manifests to fill with a Deployment's pods (what the test does in Go before its requests). */
  readonly endpointFills?: readonly EndpointFill[];
  /** Starts a Deployment's pod in place of an echo-basic one (the gRPC runner's echo server); undefined: echo-basic. */
  readonly startPod?: (deployment: Doc, context: { readonly namespace: string; readonly pod: string }) => Promise<EchoBasicPod> | undefined;
}

export interface TestEnv {
  readonly switchyard: RunningSwitchyard;
  /** `namespace/name` of each Gateway → its listeners. */
  readonly gateways: ReadonlyMap<string, readonly ListenerPort[]>;
  /** Moved port → original port (to read redirect Locations as the suite would see them). */
  readonly originalPort: ReadonlyMap<number, number>;
  /** `namespace/service` → the echo pods behind it. */
  readonly pods: ReadonlyMap<string, readonly EchoBasicPod[]>;
  /** True when Switchyard accepted connections on the moved listener ports; false: requests go to --listen. */
  readonly perListenerSockets: boolean;
  /** `namespace/name` of each certificate Secret the suite creates in Go → its certificate PEM (what a TLS row trusts). */
  readonly certificates: ReadonlyMap<string, string>;
  /**
   * Deletes an object mid-test as suite.Client.Delete does: its manifest file is rewritten without it (by a
   * rename, so Switchyard never reads half a file). False when no manifest holds such an object.
   */
  deleteObject(kind: string, namespace: string, name: string): Promise<boolean>;
}

/**
 * The serving-certificate Secrets the suite creates in Go at set-up (suite.go: MustCreateSelfSignedCertSecret),
 * self-signed for the same names. The CA-signed ones (client certificates, TLSRoute) are for tests not run here.
 */
const SUITE_SECRETS: readonly { readonly namespace: string; readonly name: string; readonly hosts: readonly string[] }[] = [
  { namespace: 'gateway-conformance-web-backend', name: 'certificate', hosts: ['*'] },
  { namespace: 'gateway-conformance-infra', name: 'tls-validity-checks-certificate', hosts: ['*', '*.org', '*.wildcard.org'] },
];

// One key pair per run: openssl takes a while and the certificates never change.
let suitePems: Map<string, ReturnType<typeof selfSigned>> | undefined;

function suiteSecrets(): { docs: Doc[]; certificates: Map<string, string> } {
  suitePems ??= new Map(SUITE_SECRETS.map((s) => [`${s.namespace}/${s.name}`, selfSigned(s.hosts, 'rsa')]));
  const docs: Doc[] = [];
  const certificates = new Map<string, string>();
  for (const s of SUITE_SECRETS) {
    const pem = suitePems.get(`${s.namespace}/${s.name}`)!;
    certificates.set(`${s.namespace}/${s.name}`, pem.certPem);
    docs.push({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { namespace: s.namespace, name: s.name }, data: { 'tls.crt': Buffer.from(pem.certPem).toString('base64'), 'tls.key': Buffer.from(pem.keyPem).toString('base64') } });
  }
  return { docs, certificates };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function readDocs(path: string, options: EnvOptions): Promise<Doc[]> {
  const text = (await readFile(path, 'utf8')).replaceAll('{GATEWAY_CLASS_NAME}', options.gatewayClass).replaceAll('{GATEWAY_CONTROLLER_NAME}', options.controllerName);
  return (loadAll(text) as unknown[]).filter((d): d is Doc => typeof d === 'object' && d !== null);
}

const nsOf = (d: Doc): string => String(d['metadata']?.['namespace'] ?? 'default');
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** Builds the manifest directory, starts the pods and Switchyard; everything is closed by cleanupAll(). */
export async function startTestEnv(conformanceDir: string, manifests: readonly string[], options: EnvOptions): Promise<TestEnv> {
  const base = await readDocs(join(conformanceDir, 'base', 'manifests.yaml'), options);
  const files: { name: string; docs: Doc[] }[] = [{ name: '00-base.yaml', docs: base }];
  for (const [i, m] of manifests.entries()) files.push({ name: `${String(i + 1).padStart(2, '0')}-${m.replace(/^.*\//, '')}`, docs: await readDocs(join(conformanceDir, m), options) });
  const all = files.flatMap((f) => f.docs);

  const gatewayClass = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: options.gatewayClass }, spec: { controllerName: options.controllerName } };
  base.unshift(gatewayClass);

  const gateways = new Map<string, ListenerPort[]>();
  const originalPort = new Map<number, number>();
  for (const gw of all.filter((d) => d['kind'] === 'Gateway')) {
    const key = `${nsOf(gw)}/${gw['metadata']['name']}`;
    const moved = new Map<number, number>();
    const listeners: ListenerPort[] = [];
    for (const l of (gw['spec']?.['listeners'] ?? []) as Doc[]) {
      const original = Number(l['port']);
      if (!moved.has(original)) moved.set(original, await freePort());
      l['port'] = moved.get(original);
      originalPort.set(l['port'], original);
      listeners.push({ name: String(l['name']), protocol: String(l['protocol']), original, port: l['port'] });
    }
    gateways.set(key, listeners);
  }
  for (const route of all.filter((d) => d['kind'] === 'HTTPRoute' || d['kind'] === 'GRPCRoute')) {
    for (const ref of (route['spec']?.['parentRefs'] ?? []) as Doc[]) {
      if (ref['port'] === undefined || (ref['kind'] ?? 'Gateway') !== 'Gateway') continue;
      const listeners = gateways.get(`${ref['namespace'] ?? nsOf(route)}/${ref['name']}`);
      const hit = listeners?.find((l) => l.original === Number(ref['port']));
      // A parentRef port no listener has stays as written: the test expects it not to attach.
      if (hit) ref['port'] = hit.port;
    }
  }

  const pods = new Map<string, EchoBasicPod[]>();
  const podsOf = new Map<string, EchoBasicPod[]>();
  const slices: Doc[] = [];
  const hasSlices = new Set(all.filter((d) => d['kind'] === 'EndpointSlice').map((d) => `${nsOf(d)}/${d['metadata']?.['labels']?.['kubernetes.io/service-name']}`));
  for (const dep of all.filter((d) => d['kind'] === 'Deployment')) {
    const ns = nsOf(dep);
    const name = String(dep['metadata']['name']);
    const labels = dep['spec']?.['template']?.['metadata']?.['labels'] as Record<string, string> | undefined;
    const replicas = Math.min(Number(dep['spec']?.['replicas'] ?? 1), 3);
    const started: EchoBasicPod[] = [];
    podsOf.set(`${ns}/${name}`, started);
    for (let i = 0; i < replicas; i++) {
      const context = { namespace: ns, pod: `${name}-5d8f7c9b4-${String.fromCharCode(97 + i)}x${i}` };
      const pod = await (options.startPod?.(dep, context) ?? startEchoBasic(context));
      defer(() => pod.close());
      started.push(pod);
    }
    for (const svc of all.filter((d) => d['kind'] === 'Service' && nsOf(d) === ns && matches(d['spec']?.['selector'], labels))) {
      const svcName = String(svc['metadata']['name']);
      pods.set(`${ns}/${svcName}`, [...(pods.get(`${ns}/${svcName}`) ?? []), ...started]);
      if (hasSlices.has(`${ns}/${svcName}`)) continue;
      for (const pod of started) {
        slices.push({
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: `${svcName}-${pod.name}`, namespace: ns, labels: { 'kubernetes.io/service-name': svcName } },
          addressType: 'IPv4',
          ports: ((svc['spec']?.['ports'] ?? []) as Doc[]).map((p) => ({ name: p['name'] ?? '', port: pod.port, protocol: p['protocol'] ?? 'TCP' })),
          endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: ns, name: pod.name } }],
        });
      }
    }
  }
  // The test's own EndpointSlices it fills in Go: one slice per pod here, since each echo pod has its own port.
  for (const fill of options.endpointFills ?? []) {
    const fillPods = podsOf.get(fill.deployment) ?? [];
    for (const f of files) {
      f.docs = f.docs.flatMap((d) => {
        if (d['kind'] !== 'EndpointSlice' || nsOf(d) !== fill.namespace || !fill.slices.includes(String(d['metadata']?.['name'])) || d['addressType'] !== 'IPv4') return [d];
        const svc = String(d['metadata']?.['labels']?.['kubernetes.io/service-name']);
        pods.set(`${fill.namespace}/${svc}`, fillPods);
        return fillPods.map((pod) => ({
          ...d,
          metadata: { ...d['metadata'], name: `${d['metadata']['name']}-${pod.name}` },
          ports: ((d['ports'] ?? []) as Doc[]).map((p) => ({ ...p, port: pod.port })),
          endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: fill.namespace, name: pod.name } }],
        }));
      });
    }
  }
  files.push({ name: '99-echo-endpointslices.yaml', docs: slices });
  const secrets = suiteSecrets();
  files.push({ name: '98-suite-secrets.yaml', docs: secrets.docs });

  const dir = await tempManifestDir('swy-gwconf-');
  if (options.keepDir !== undefined) await mkdir(options.keepDir, { recursive: true });
  for (const f of files) {
    const text = f.docs.map((d) => `---\n${dump(d, { noRefs: true })}`).join('');
    await writeManifest(dir, f.name, text);
    if (options.keepDir !== undefined) await writeManifest(options.keepDir, f.name, text);
  }
  const switchyard = await startSwitchyard({ manifests: dir, args: ['--gateway-address', '127.0.0.1', '--gateway-controller-name', options.controllerName, ...options.extraArgs], timeoutMs: 20_000 });

  const httpPorts = [...gateways.values()].flat().filter((l) => l.protocol === 'HTTP').map((l) => l.port);
  let perListenerSockets = false;
  const deadline = Date.now() + (options.probeMs ?? 3000);
  while (httpPorts.length > 0 && Date.now() < deadline) {
    if ((await Promise.all(httpPorts.map(accepts))).some(Boolean)) {
      perListenerSockets = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const deleteObject = async (kind: string, namespace: string, name: string): Promise<boolean> => {
    const file = files.find((f) => f.docs.some((d) => d['kind'] === kind && nsOf(d) === namespace && d['metadata']?.['name'] === name));
    if (file === undefined) return false;
    file.docs = file.docs.filter((d) => !(d['kind'] === kind && nsOf(d) === namespace && d['metadata']?.['name'] === name));
    await writeManifestAtomic(dir, file.name, file.docs.map((d) => `---\n${dump(d, { noRefs: true })}`).join(''));
    return true;
  };
  return { switchyard, gateways, originalPort, pods, perListenerSockets, certificates: secrets.certificates, deleteObject };
}
