/**
 * The protocols run's pods, two of each kind on 127.0.0.2 and 127.0.0.3 (as the comparison's): the
 * comparison's HTTP pods (bench/pod-server.ts), WebSocket echo pods (ws-pod.ts) and gRPC pods
 * (grpc-pod.ts). Each its own process, ready once it prints its listening line.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { listeningLine, startChild } from '../children.ts';
import { POD_ADDRESSES, START_TIMEOUT_MS, startPods, type Pod } from '../pods.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const SCRIPTS = { ws: path.join(here, 'ws-pod.ts'), grpc: path.join(here, 'grpc-pod.ts') } as const;

export interface ProtocolPods {
  readonly http: readonly Pod[];
  readonly ws: readonly Pod[];
  readonly grpc: readonly Pod[];
}

async function startKind(kind: keyof typeof SCRIPTS): Promise<Pod[]> {
  const pods: Pod[] = [];
  for (const [i, address] of POD_ADDRESSES.entries()) {
    const name = `${kind}-pod-${i + 1}`;
    const { child, value } = await startChild({
      name,
      command: process.execPath,
      args: [SCRIPTS[kind], name, address, '0'],
      timeoutMs: START_TIMEOUT_MS,
      readyLine: listeningLine,
      onLine: (line) => process.stderr.write(`[${name}] ${line}\n`),
    });
    pods.push({ name, child, address: value.address, port: value.port });
  }
  return pods;
}

/** Only the kinds asked for; the others are empty. */
export async function startProtocolPods(kinds: { http: boolean; ws: boolean; grpc: boolean }): Promise<ProtocolPods> {
  return {
    http: kinds.http ? await startPods() : [],
    ws: kinds.ws ? await startKind('ws') : [],
    grpc: kinds.grpc ? await startKind('grpc') : [],
  };
}

export function allPods(pods: ProtocolPods): Pod[] {
  return [...pods.http, ...pods.ws, ...pods.grpc];
}
