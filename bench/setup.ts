/**
 * The bench's little cluster: two pod processes, the manifests that describe them, the real Switchyard
 * CLI, and a preflight that refuses to measure before a request each way answers as expected.
 */
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startChild, type Child } from './children.ts';

/** The Ingress host the bench routes by. */
export const HOST = 'bench.local';
/** Loopback addresses of the pods (on Linux all of 127/8 is loopback). */
export const POD_ADDRESSES = ['127.0.0.2', '127.0.0.3'] as const;
/** How long a child may take to print its address before the bench gives up. */
const START_TIMEOUT_MS = 10_000;

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoDir = path.dirname(benchDir);

export interface Pod {
  readonly name: string;
  readonly child: Child;
  readonly address: string;
  readonly port: number;
}

async function startPod(name: string, address: string, port: number): Promise<Pod> {
  const { child, value } = await startChild({
    name,
    args: [path.join(benchDir, 'pod-server.ts'), name, address, String(port)],
    timeoutMs: START_TIMEOUT_MS,
    ready: (line) => {
      try {
        const msg = JSON.parse(line) as { listening?: { address: string; port: number } };
        return msg.listening;
      } catch {
        return undefined;
      }
    },
  });
  return { name, child, address: value.address, port: value.port };
}

/** Both pods on one port when it is free on the second address, so one EndpointSlice can list both. */
export async function startPods(): Promise<Pod[]> {
  const [first, second] = POD_ADDRESSES;
  const pod1 = await startPod('pod-1', first, 0);
  let pod2: Pod;
  try {
    pod2 = await startPod('pod-2', second, pod1.port);
  } catch {
    pod2 = await startPod('pod-2', second, 0);
  }
  return [pod1, pod2];
}

/** The manifests, as JSON documents (JSON is YAML) in one multi-document file. */
export function manifests(pods: readonly Pod[]): string {
  const namespace = 'bench';
  const byPort = new Map<number, Pod[]>();
  for (const pod of pods) byPort.set(pod.port, [...(byPort.get(pod.port) ?? []), pod]);
  const docs: object[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bench', namespace },
      spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    },
    // One slice per distinct pod port: a slice's ports apply to all of its endpoints.
    ...[...byPort].map(([port, group], i) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `bench-${i}`, namespace, labels: { 'kubernetes.io/service-name': 'bench' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port, protocol: 'TCP' }],
      endpoints: group.map((pod) => ({
        addresses: [pod.address],
        conditions: { ready: true },
        targetRef: { kind: 'Pod', namespace, name: pod.name },
      })),
    })),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'bench', namespace },
      spec: {
        ingressClassName: 'switchyard',
        rules: [{ host: HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'bench', port: { name: 'http' } } } }] } }],
      },
    },
  ];
  return docs.map((d) => JSON.stringify(d, null, 2)).join('\n---\n') + '\n';
}

interface LogLine {
  readonly level?: number;
  readonly msg?: string;
}

function parseLog(line: string): LogLine | undefined {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

/** Warnings and errors of the proxy are worth seeing while the bench runs (pino: warn = 40). */
function forwardProxyLog(entry: LogLine | undefined, line: string): void {
  if (entry === undefined) process.stderr.write(`[switchyard] ${line}\n`);
  else if ((entry.level ?? 0) >= 40) process.stderr.write(`[switchyard] ${line}\n`);
}

export async function startSwitchyard(manifestDir: string): Promise<{ child: Child; ingress: string }> {
  const prefix = 'listening role=ingress address=';
  const { child, value } = await startChild({
    name: 'switchyard',
    args: [path.join(repoDir, 'bin', 'switchyard.js'), '--manifests', manifestDir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--drain-timeout', '1s'],
    timeoutMs: START_TIMEOUT_MS,
    ready: (line) => {
      const entry = parseLog(line);
      if (entry?.msg?.startsWith(prefix)) return entry.msg.slice(prefix.length);
      forwardProxyLog(entry, line);
      return undefined;
    },
    onLine: (line) => forwardProxyLog(parseLog(line), line),
  });
  return { child, ingress: value };
}

function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Refuses to measure anything before a request each way answers as expected. */
export async function preflight(pods: readonly Pod[], ingress: string): Promise<void> {
  for (const pod of pods) {
    const r = await get(`http://${pod.address}:${pod.port}/`, {});
    if (r.status !== 200 || r.body !== `ok ${pod.name}\n`) throw new Error(`${pod.name} answered ${r.status} ${JSON.stringify(r.body)}`);
  }
  const seen = new Set<string>();
  for (let i = 0; i < 2 * pods.length; i++) {
    const r = await get(`http://${ingress}/`, { host: HOST });
    if (r.status !== 200) throw new Error(`Switchyard answered ${r.status} ${JSON.stringify(r.body)} for http://${HOST}/ (check its warnings above)`);
    seen.add(r.body.trim());
  }
  if (seen.size !== pods.length) throw new Error(`Switchyard routed ${HOST} to ${[...seen].join(', ')}; expected all of ${pods.map((p) => p.name).join(', ')}`);
}
