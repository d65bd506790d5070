/**
 * The Kubernetes manifests Switchyard reads in the bench, as JSON documents (JSON is YAML) in one
 * multi-document file: the comparison's one Service over two pods, and the scale run's many routes and
 * endpoints.
 */

const NAMESPACE = 'bench';
/** Kubernetes' EndpointSlice controller puts at most 100 endpoints in a slice by default. */
const SLICE_SIZE = 100;
/** Scale run: routes per Service (so 10,000 routes are 1,000 Services). */
const ROUTES_PER_SERVICE = 10;
/** Scale run: endpoints of every Service but the one under load. */
const OTHER_ENDPOINTS = 3;

export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly podName: string;
}

/** `appProtocol` (e.g. `kubernetes.io/h2c`) goes on the Service port and the slices' port, as Kubernetes copies it. */
function service(name: string, appProtocol?: string): object {
  const port = { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', ...(appProtocol === undefined ? {} : { appProtocol }) };
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NAMESPACE },
    spec: { ports: [port] },
  };
}

/** One slice per distinct port and per SLICE_SIZE endpoints: a slice's ports apply to all of its endpoints. */
function slices(serviceName: string, endpoints: readonly Endpoint[], appProtocol?: string): object[] {
  const byPort = new Map<number, Endpoint[]>();
  for (const e of endpoints) byPort.set(e.port, [...(byPort.get(e.port) ?? []), e]);
  const docs: object[] = [];
  for (const [port, group] of byPort) {
    for (let i = 0; i < group.length; i += SLICE_SIZE) {
      docs.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${serviceName}-${docs.length}`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': serviceName } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port, protocol: 'TCP', ...(appProtocol === undefined ? {} : { appProtocol }) }],
        endpoints: group.slice(i, i + SLICE_SIZE).map((e) => ({
          addresses: [e.address],
          conditions: { ready: true },
          targetRef: { kind: 'Pod', namespace: NAMESPACE, name: e.podName },
        })),
      });
    }
  }
  return docs;
}

function ingress(name: string, host: string, path: string, serviceName: string): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      ingressClassName: 'switchyard',
      rules: [{ host, http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: serviceName, port: { name: 'http' } } } }] } }],
    },
  };
}

function toFile(docs: readonly object[]): string {
  return docs.map((d) => JSON.stringify(d)).join('\n---\n') + '\n';
}

/** The comparison: Service `bench` over the given endpoints, Ingress `host` / → it. */
export function comparisonManifests(host: string, endpoints: readonly Endpoint[]): string {
  return toFile([service('bench'), ...slices('bench', endpoints), ingress('bench', host, '/', 'bench')]);
}

/** Where the scale run's load goes: the last-defined route, so a linear scan over routes would show. */
export interface ScaleTarget {
  readonly host: string;
  readonly path: string;
}

/**
 * The scale run: `routes` Ingresses, one route each (host r<i>.scale.local, Prefix path /r<i>), spread
 * over Services of ROUTES_PER_SERVICE routes; the last route's Service has `endpoints` endpoints, every
 * other Service OTHER_ENDPOINTS. `address(i)` is the i-th endpoint's address, all on `port`.
 */
export function scaleManifests(routes: number, endpoints: number, port: number, address: (i: number) => string): { file: string; target: ScaleTarget } {
  const docs: object[] = [];
  const services = Math.ceil(routes / ROUTES_PER_SERVICE);
  for (let s = 0; s < services; s++) {
    const name = `svc-${s}`;
    const count = s === services - 1 ? endpoints : OTHER_ENDPOINTS;
    const eps = Array.from({ length: count }, (_, i) => ({ address: address(i), port, podName: `${name}-${i}` }));
    docs.push(service(name), ...slices(name, eps));
  }
  for (let r = 0; r < routes; r++) docs.push(ingress(`route-${r}`, `r${r}.scale.local`, `/r${r}`, `svc-${Math.floor(r / ROUTES_PER_SERVICE)}`));
  const last = routes - 1;
  return { file: toFile(docs), target: { host: `r${last}.scale.local`, path: `/r${last}` } };
}

/** One host of the protocols run's Ingress: its Service (named after it) and that Service's endpoints. */
export interface EdgeBackend {
  readonly host: string;
  readonly service: string;
  readonly endpoints: readonly Endpoint[];
  /** The Service port's appProtocol; absent: HTTP/1.1 to the pods. */
  readonly appProtocol?: string;
}

export interface EdgeManifestOptions {
  /** Name of the `kubernetes.io/tls` Secret (in the bench namespace) the Ingress's `tls:` entry names. */
  readonly secretName: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly backends: readonly EdgeBackend[];
}

/**
 * The protocols run: a `kubernetes.io/tls` Secret, one Service per backend, and one Ingress with a rule
 * per host and a `tls:` entry for all of them. `switchyard.dev/ssl-redirect: "false"`, since the same
 * hosts are measured over plaintext too (h2c, HTTP/1.1, WebSocket, gRPC), where a `tls:` entry would
 * otherwise answer 308.
 */
export function edgeManifests(options: EdgeManifestOptions): string {
  const docs: object[] = [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: options.secretName, namespace: NAMESPACE },
      stringData: { 'tls.crt': options.certPem, 'tls.key': options.keyPem },
    },
  ];
  for (const b of options.backends) docs.push(service(b.service, b.appProtocol), ...slices(b.service, b.endpoints, b.appProtocol));
  docs.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'edge', namespace: NAMESPACE, annotations: { 'switchyard.dev/ssl-redirect': 'false' } },
    spec: {
      ingressClassName: 'switchyard',
      tls: [{ hosts: options.backends.map((b) => b.host), secretName: options.secretName }],
      rules: options.backends.map((b) => ({ host: b.host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: b.service, port: { name: 'http' } } } }] } })),
    },
  });
  return toFile(docs);
}

/** The namespace of every bench object, for `--default-certificate NAMESPACE/NAME`. */
export const BENCH_NAMESPACE = NAMESPACE;
