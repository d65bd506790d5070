/**
 * The examples' "pods": tiny HTTP servers on loopback addresses (127.0.0.x) that answer every request
 * with their pod name, address and the request line, so a curl shows which pod a route reached.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface PodSpec {
  readonly name: string;
  readonly address: string;
  /** 0: a free port, read back from the returned pod. */
  readonly port: number;
}

export interface RunningPod {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly server: Server;
}

export interface PodOptions {
  /** Also a WebSocket echo on the same port: each message comes back prefixed with the pod name. Default false. */
  readonly websocket?: boolean;
  /** The example's name, for the listen error ("is another demo running?"). Default 'example'. */
  readonly example?: string;
}

/** Starts one pod; rejects with a sentence naming the address when it cannot listen. */
export function startPod(pod: PodSpec, options: PodOptions = {}): Promise<RunningPod> {
  const example = options.example ?? 'example';
  let port = pod.port;
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello from pod ${pod.name} (${pod.address}:${port}) ${req.method} ${req.url}\n`);
  });
  if (options.websocket === true) {
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${pod.name}: ${String(data)}`)));
    // It repeats the server's errors; the listen error is reported below, with its cause.
    wss.on('error', () => undefined);
  }
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const error = new Error(`${example} pod ${pod.name} cannot listen on ${pod.address}:${pod.port} (${err.code}); is another ${example} running?`) as NodeJS.ErrnoException;
      error.code = err.code;
      reject(error);
    });
    server.listen(pod.port, pod.address, () => {
      port = (server.address() as AddressInfo).port;
      resolve({ name: pod.name, address: pod.address, port, server });
    });
  });
}

/** Closes pods without waiting for their connections (the process is about to exit). */
export function closePods(pods: readonly RunningPod[]): void {
  for (const p of pods) p.server.close();
}
