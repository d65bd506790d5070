/**
 * Test wiring for the kube source: a fake API server with a kubeconfig pointing at it, a KubeSource
 * with fast backoff and a log capture, the updates it emitted, and builders of raw objects as the API
 * server stores them. Everything is closed by cleanupAll() in afterEach.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { recordKey } from '../../../src/model/keys.ts';
import type { Rec } from '../../../src/model/records.ts';
import { KubeSource, type KubeSourceOptions } from '../../../src/sources/kube-source.ts';
import { defer } from '../../helpers/cleanup.ts';
import { FakeApiServer, type KubeObject } from './fake-apiserver.ts';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [k: string]: unknown;
}

export const WARN = 40;
export const ERROR = 50;

export interface Harness {
  readonly api: FakeApiServer;
  readonly dir: string;
  readonly kubeconfig: string;
}

export async function startApi(): Promise<Harness> {
  const api = await FakeApiServer.start();
  defer(() => api.close());
  const dir = await mkdtemp(join(tmpdir(), 'swy-kube-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = await api.writeKubeconfig(dir);
  return { api, dir, kubeconfig };
}

export function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

export interface Update {
  readonly at: number;
  readonly records: readonly Rec[];
}

export interface SourceUnderTest {
  readonly source: KubeSource;
  readonly updates: Update[];
  readonly logs: LogLine[];
  /** The records of the last update (empty before the first). */
  latest(): readonly Rec[];
  /** Sorted `kind/namespace/name` of the last update. */
  keys(): string[];
}

/** A KubeSource on the harness's kubeconfig, with reconnects in tens of milliseconds; not started. */
export function makeSource(h: Harness, options: Partial<KubeSourceOptions> = {}): SourceUnderTest {
  const { log, lines } = captureLog();
  const source = new KubeSource({ kubeconfigPath: h.kubeconfig, log, backoff: { initialMs: 40, maxMs: 200 }, ...options });
  defer(() => source.close());
  const updates: Update[] = [];
  source.onUpdate((records) => updates.push({ at: Date.now(), records }));
  const latest = (): readonly Rec[] => updates[updates.length - 1]?.records ?? [];
  return { source, updates, logs: lines, latest, keys: () => latest().map(recordKey).sort() };
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function svc(namespace: string, name: string, options: { labels?: Record<string, string>; port?: number } = {}): KubeObject {
  return {
    metadata: { name, namespace, ...(options.labels ? { labels: options.labels } : {}) },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: options.port ?? 80, targetPort: 8080, protocol: 'TCP' }] },
    status: { loadBalancer: {} },
  };
}

export function slice(namespace: string, service: string, ips: readonly string[], options: { labels?: Record<string, string>; name?: string } = {}): KubeObject {
  return {
    metadata: { name: options.name ?? `${service}-x7k2p`, namespace, labels: { [SERVICE_NAME_LABEL]: service, ...options.labels } },
    addressType: 'IPv4',
    endpoints: ips.map((ip, i) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace, name: `${service}-pod-${i}` } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

export function endpoints(namespace: string, service: string, ips: readonly string[]): KubeObject {
  return {
    metadata: { name: service, namespace },
    subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
  };
}

export function ingress(
  namespace: string,
  name: string,
  options: { host?: string; service?: string; className?: string | null; tlsSecret?: string; labels?: Record<string, string> } = {},
): KubeObject {
  const className = options.className === undefined ? 'switchyard' : options.className;
  return {
    metadata: { name, namespace, ...(options.labels ? { labels: options.labels } : {}) },
    spec: {
      ...(className !== null ? { ingressClassName: className } : {}),
      ...(options.tlsSecret ? { tls: [{ hosts: [options.host ?? `${name}.example.com`], secretName: options.tlsSecret }] } : {}),
      rules: [
        {
          host: options.host ?? `${name}.example.com`,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: options.service ?? name, port: { number: 80 } } } }] },
        },
      ],
    },
    status: { loadBalancer: {} },
  };
}

export function ingressClass(name: string): KubeObject {
  return { metadata: { name }, spec: { controller: 'switchyard.dev/ingress-controller' } };
}

export function tlsSecret(namespace: string, name: string): KubeObject {
  return {
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') },
  };
}

/** A GatewayClass of Switchyard's controller (or `controllerName`). */
export function gatewayClass(name = 'switchyard', controllerName = 'switchyard.dev/gateway-controller'): KubeObject {
  return { metadata: { name }, spec: { controllerName } };
}

/** A Gateway with one HTTP listener `web` on `port` (default 80). */
export function gatewayObj(namespace: string, name: string, options: { port?: number; className?: string; hostname?: string } = {}): KubeObject {
  const listener = { name: 'web', port: options.port ?? 80, protocol: 'HTTP', ...(options.hostname ? { hostname: options.hostname } : {}) };
  return { metadata: { name, namespace }, spec: { gatewayClassName: options.className ?? 'switchyard', listeners: [listener] } };
}

/** An HTTPRoute of `hostname` to port 80 of `service`, attached to Gateway `gateway` of its namespace unless parentRefs are given. */
export function httpRouteObj(namespace: string, name: string, options: { hostname?: string; service?: string; gateway?: string; parentRefs?: readonly object[] } = {}): KubeObject {
  return {
    metadata: { name, namespace },
    spec: {
      parentRefs: options.parentRefs ?? [{ name: options.gateway ?? 'gw' }],
      hostnames: [options.hostname ?? `${name}.example.com`],
      rules: [{ backendRefs: [{ name: options.service ?? name, port: 80 }] }],
    },
  };
}
