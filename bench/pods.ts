/**
 * The bench's "pods": bench/pod-server.ts processes. The comparison runs two, on 127.0.0.2 and 127.0.0.3;
 * the scale run binds two to the wildcard address on one shared port (SO_REUSEPORT), so any number of
 * endpoints 127.0.1.1, 127.0.1.2, … on that port all answer — traffic still goes to loopback only.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { listeningLine, startChild, type Child } from './children.ts';
import { httpGet } from './net.ts';

/** Loopback addresses of the comparison's pods (on Linux all of 127/8 is loopback). */
export const POD_ADDRESSES = ['127.0.0.2', '127.0.0.3'] as const;
/** How long a child may take to be ready before the bench gives up. */
export const START_TIMEOUT_MS = 10_000;

const podScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pod-server.ts');

export interface Pod {
  readonly name: string;
  readonly child: Child;
  readonly address: string;
  readonly port: number;
}

async function startPod(name: string, address: string, port: number, reusePort = false): Promise<Pod> {
  const { child, value } = await startChild({
    name,
    command: process.execPath,
    args: [podScript, name, address, String(port), ...(reusePort ? ['reuse-port'] : [])],
    timeoutMs: START_TIMEOUT_MS,
    readyLine: listeningLine,
  });
  return { name, child, address: value.address, port: value.port };
}

/** Two pods, on one port when it is free on the second address, so one EndpointSlice can list both. */
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

/** Two pods sharing 0.0.0.0:PORT; returns them and the port. */
export async function startWildcardPods(): Promise<{ pods: Pod[]; port: number }> {
  const pod1 = await startPod('scale-pod-1', '0.0.0.0', 0, true);
  const pod2 = await startPod('scale-pod-2', '0.0.0.0', pod1.port, true);
  return { pods: [pod1, pod2], port: pod1.port };
}

/** The i-th (0-based) scale endpoint address: 127.0.1.1 … 127.0.1.254, 127.0.2.1 … */
export function scaleEndpointAddress(i: number): string {
  return `127.0.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;
}

/** Refuses to measure before each pod answers as itself. */
export async function checkPods(pods: readonly Pod[]): Promise<void> {
  for (const pod of pods) {
    const host = pod.address === '0.0.0.0' ? '127.0.1.1' : pod.address;
    const r = await httpGet(`http://${host}:${pod.port}/`);
    if (r.status !== 200 || !r.body.startsWith('ok ')) throw new Error(`${pod.name} answered ${r.status} ${JSON.stringify(r.body)}`);
  }
}
