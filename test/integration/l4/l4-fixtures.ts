/**
 * Fixtures of the service-proxy (layer 4) tests: TCP and UDP echo pods on 127.0.0.x, free node ports,
 * NodePort manifests, and clients that read which pod answered. Everything is registered for cleanup.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { defer } from '../../helpers/cleanup.ts';
import type { Manifest } from '../../helpers/manifests.ts';
import { withTimeout } from '../../helpers/wait.ts';

export interface L4Pod {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** TCP connections accepted, or UDP datagrams received. */
  received: number;
  /** Open TCP connections. */
  readonly sockets: Set<Socket>;
  close(): Promise<void>;
}

/**
 * A TCP pod: greets each connection with `NAME\n`, echoes what it reads and, when the client half-closes,
 * answers `bye\n` and closes its side (so a test sees half-close pass both ways).
 */
export async function startTcpPod(name: string, host: string): Promise<L4Pod> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    pod.received++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.write(`${name}\n`);
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end('bye\n'));
  });
  server.listen(0, host);
  await once(server, 'listening');
  const pod: L4Pod = {
    name,
    host,
    port: (server.address() as { port: number }).port,
    received: 0,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  defer(() => pod.close());
  return pod;
}

/** A UDP pod: answers each datagram with `NAME:DATAGRAM`. */
export async function startUdpPod(name: string, host: string): Promise<L4Pod> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, r) => {
    pod.received++;
    socket.send(`${name}:${msg.toString()}`, r.port, r.address);
  });
  socket.bind(0, host);
  await once(socket, 'listening');
  const pod: L4Pod = { name, host, port: socket.address().port, received: 0, sockets: new Set(), close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  defer(() => pod.close().catch(() => undefined));
  return pod;
}

/** A port free on 127.0.0.1 for both TCP and UDP now (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (free || attempt >= 5) return port;
  }
}

export interface PortSpec {
  readonly name: string;
  readonly port: number;
  readonly nodePort?: number | string;
  readonly protocol?: 'TCP' | 'UDP';
}

/** A NodePort Service (namespace l4); `spec` adds fields (policies, affinity). */
export function nodePortService(name: string, ports: readonly PortSpec[], spec: Record<string, unknown> = {}): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'l4' },
    spec: {
      type: 'NodePort',
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: p.protocol ?? 'TCP', ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}) })),
      ...spec,
    },
  };
}

export interface PodEndpoint {
  readonly pod: Pick<L4Pod, 'name' | 'host' | 'port'>;
  readonly ready?: boolean;
  readonly node?: string;
}

/** One EndpointSlice per pod (pods listen on ports of their own), its port named `portName`. */
export function podSlices(service: string, portName: string, protocol: 'TCP' | 'UDP', endpoints: readonly PodEndpoint[]): Manifest[] {
  return endpoints.map((e) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-${e.pod.name}`, namespace: 'l4', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: portName, port: e.pod.port, protocol }],
    endpoints: [{ addresses: [e.pod.host], conditions: { ready: e.ready ?? true }, ...(e.node ? { nodeName: e.node } : {}), targetRef: { kind: 'Pod', namespace: 'l4', name: e.pod.name } }],
  }));
}

/** A client TCP connection to a node port, with what it has read so far. */
export interface TcpClient {
  readonly socket: Socket;
  text(): string;
  /** Resolves once the text holds `pattern`. */
  waitFor(pattern: string, timeoutMs?: number): Promise<string>;
  /** Resolves when the connection closed: `ended` (FIN) or `reset`/error. */
  readonly closed: Promise<{ readonly error: string | undefined }>;
}

export function tcpClient(port: number): TcpClient {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  let text = '';
  const waiters = new Set<() => void>();
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    text += d;
    for (const w of waiters) w();
  });
  let error: string | undefined;
  socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
  const closed = new Promise<{ error: string | undefined }>((resolve) => socket.once('close', () => resolve({ error })));
  defer(() => socket.destroy());
  return {
    socket,
    text: () => text,
    closed,
    waitFor(pattern, timeoutMs = 3000) {
      return withTimeout(
        new Promise<string>((resolve) => {
          const check = (): void => {
            if (!text.includes(pattern)) return;
            waiters.delete(check);
            resolve(text);
          };
          waiters.add(check);
          check();
        }),
        timeoutMs,
        `${JSON.stringify(pattern)} from node port ${port} (read so far: ${JSON.stringify(text)})`,
      );
    },
  };
}

/** Which pod greets a new connection to the node port (the connection is then closed). */
export async function greeter(port: number): Promise<string> {
  const c = tcpClient(port);
  const text = await c.waitFor('\n');
  c.socket.destroy();
  return text.split('\n')[0]!;
}

/** A UDP client socket (one flow per socket); `ask` sends a datagram and resolves with the answer. */
export async function udpClient(): Promise<{ socket: UdpSocket; ask(port: number, text: string, timeoutMs?: number): Promise<string> }> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  defer(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return {
    socket,
    ask(port, text, timeoutMs = 2000) {
      const answer = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
      socket.send(text, port, '127.0.0.1');
      return withTimeout(answer, timeoutMs, `an answer to ${JSON.stringify(text)} from UDP node port ${port}`);
    },
  };
}

/** GET a JSON admin path. */
export async function adminJson<T>(admin: { host: string; port: number }, path: string): Promise<T> {
  const res = await fetch(`http://${admin.host}:${admin.port}${path}`);
  return (await res.json()) as T;
}
