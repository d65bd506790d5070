/**
 * Upstream "pods": small HTTP servers on distinct loopback addresses (127.0.0.2, 127.0.0.3, …) that
 * answer with their name and echo what they received, and count every connection and request so a
 * test can prove a request did (or did not) reach them. All are closed by cleanupAll().
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { defer } from './cleanup.ts';

/** What a pod saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
}

/** The JSON body the default handler answers with. */
export interface EchoBody extends SeenRequest {
  readonly pod: string;
  readonly bodyBytes: number;
}

export interface Pod {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Requests received, in order. */
  readonly requests: SeenRequest[];
  /** TCP connections accepted. */
  connections: number;
  readonly server: Server;
  close(): Promise<void>;
}

export type PodHandler = (req: IncomingMessage, res: ServerResponse, pod: Pod) => void;

/** `127.0.0.<n>`. */
export function loopback(n: number): string {
  return `127.0.0.${n}`;
}

/** Answers 200 with the pod's name and an echo of the request, after reading the whole body. */
export const echoHandler: PodHandler = (req, res, pod) => {
  let bodyBytes = 0;
  req.on('data', (chunk: Buffer) => {
    bodyBytes += chunk.length;
  });
  req.on('end', () => {
    const body: EchoBody = { pod: pod.name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes };
    res.writeHead(200, { 'content-type': 'application/json', 'x-pod': pod.name });
    res.end(JSON.stringify(body));
  });
};

export interface PodOptions {
  readonly name: string;
  readonly host: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  readonly handler?: PodHandler;
}

/** Starts one pod; registered for cleanup. */
export async function startPod(options: PodOptions): Promise<Pod> {
  const handler = options.handler ?? echoHandler;
  let pod!: Pod;
  const server = createServer((req, res) => {
    pod.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    handler(req, res, pod);
  });
  server.on('connection', () => {
    pod.connections++;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  let closed: Promise<void> | undefined;
  pod = {
    name: options.name,
    host: options.host,
    port,
    requests: [],
    connections: 0,
    server,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
  defer(() => pod.close());
  return pod;
}

export interface PodsOptions {
  /** Loopback host numbers: 127.0.0.<n> per pod; default 2, 3, 4, … */
  readonly hosts?: readonly number[];
  readonly handler?: PodHandler;
}

/**
 * Starts one pod per name, all on the same (free) port on distinct loopback addresses, as pods of one
 * Service are in a cluster. Retries with another port if one of the addresses has it taken.
 */
export async function startPods(names: readonly string[], options: PodsOptions = {}): Promise<Pod[]> {
  const hosts = options.hosts ?? names.map((_, i) => i + 2);
  for (let attempt = 0; ; attempt++) {
    const pods: Pod[] = [];
    try {
      for (let i = 0; i < names.length; i++) {
        const port = i === 0 ? 0 : pods[0]!.port;
        pods.push(await startPod({ name: names[i]!, host: loopback(hosts[i]!), port, ...(options.handler ? { handler: options.handler } : {}) }));
      }
      return pods;
    } catch (err) {
      await Promise.all(pods.map((p) => p.close()));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

export interface Blackhole {
  readonly host: string;
  readonly port: number;
  /** Connections accepted (and never answered). */
  connections: number;
  close(): Promise<void>;
}

/** A TCP server that accepts connections and never answers: an upstream that hangs. */
export async function startBlackhole(host: string): Promise<Blackhole> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    hole.connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read and discard, never write
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  let closed: Promise<void> | undefined;
  const hole: Blackhole = {
    host,
    port: (server.address() as { port: number }).port,
    connections: 0,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
  defer(() => hole.close());
  return hole;
}

/** A port on `host` that nobody listens on (bound, then released). */
export async function unusedPort(host: string): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Requests per pod name. */
export function countsByPod(pods: readonly Pod[]): Record<string, number> {
  return Object.fromEntries(pods.map((p) => [p.name, p.requests.length]));
}
