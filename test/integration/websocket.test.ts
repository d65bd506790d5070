/**
 * WebSocket and every other HTTP/1.1 Upgrade, as tunnels through the real CLI: the `ws` package as
 * client and as pod server, raw sockets for bytes no library sends (early bytes, a made-up protocol,
 * half-close). Routed and balanced like any request; after the pod's 101 both sockets are joined with
 * backpressure; any other answer is an ordinary response. Tunnels survive reloads, close when their
 * endpoint leaves (after --drain-timeout), when silent (--tunnel-idle-timeout) and on SIGTERM, and are
 * counted in the admin API and /metrics.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, getJson, rawRequest } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { loopback, unusedPort, type Pod } from '../helpers/pods.ts';
import { waitUntilWatching } from '../helpers/reload.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard, type StartOptions } from '../helpers/switchyard.ts';
import { sumSamples } from '../helpers/metrics.ts';
import { waitFor, withTimeout } from '../helpers/wait.ts';
import { chained, selfSigned, type Pem } from '../unit/support/certs.ts';

afterEach(cleanupAll);

/** Every case runs against both HTTP/1.1 servers (--http1-server): Node's llhttp binding and the node:http fallback. */
const HTTP1_SERVERS = ['llhttp', 'node'] as const;
let http1Server: (typeof HTTP1_SERVERS)[number] = 'llhttp';

/** startSwitchyard with the HTTP/1.1 server of the describe block running. */
function start(options: StartOptions): Promise<RunningSwitchyard> {
  return startSwitchyard({ ...options, args: [...(options.args ?? []), '--http1-server', http1Server] });
}

// --- pods ------------------------------------------------------------------------------------------

interface WsPod {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Request headers of every upgrade request that reached the pod. */
  readonly handshakes: IncomingHttpHeaders[];
  /** WebSockets open on the pod now. */
  readonly open: Set<WebSocket>;
  readonly server: Server;
}

interface WsPodOptions {
  /** Answer upgrade requests with this raw response instead of accepting them. */
  readonly refuseWith?: string;
  /** Called for every WebSocket accepted (after the default echo is set up). */
  readonly onSocket?: (ws: WebSocket) => void;
  /** Serve TLS with this certificate (a `wss` pod). */
  readonly tls?: Pem;
}

/**
 * A pod with a WebSocket server: greets each connection with `hello from <name>`, echoes every message
 * (text or binary as received), picks the last subprotocol offered. Plain HTTP requests get 200 `plain <name>`.
 */
async function startWsPod(name: string, host: string, port = 0, options: WsPodOptions = {}): Promise<WsPod> {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => [...protocols].at(-1) ?? false });
  const handler = (_req: IncomingMessage, res: ServerResponse): void => void res.end(`plain ${name}`);
  const server = options.tls ? createHttpsServer({ cert: options.tls.certPem, key: options.tls.keyPem }, handler) : createServer(handler);
  const pod: WsPod = { name, host, port: 0, handshakes: [], open: new Set(), server };
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    pod.handshakes.push(req.headers);
    if (options.refuseWith !== undefined) {
      socket.end(options.refuseWith);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      pod.open.add(ws);
      ws.on('close', () => pod.open.delete(ws));
      ws.on('error', () => undefined);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.send(`hello from ${name}`);
      options.onSocket?.(ws);
    });
  });
  await listen(server, host, port);
  (pod as { port: number }).port = (server.address() as { port: number }).port;
  defer(() => closeServer(server, () => [...pod.open].forEach((ws) => ws.terminate())));
  return pod;
}

/** Two WebSocket pods on one port, at 127.0.0.2 and 127.0.0.3 (a retry on another port if taken). */
async function startWsPods(options: WsPodOptions = {}): Promise<[WsPod, WsPod]> {
  for (let attempt = 0; ; attempt++) {
    const a = await startWsPod('pod-a', loopback(2), 0, options);
    try {
      return [a, await startWsPod('pod-b', loopback(3), a.port, options)];
    } catch (err) {
      a.server.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server, cut: () => void): Promise<void> {
  return new Promise((resolve) => {
    cut();
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** What serviceWithPods needs of a pod. */
const asPods = (pods: readonly { name: string; host: string; port: number }[]): Pod[] => pods as unknown as Pod[];

/** Service `name` in `shop` over `pods`, and an Ingress for `<name>.example`. */
function site(name: string, pods: readonly { name: string; host: string; port: number }[], notReady: readonly string[] = []): Manifest[] {
  return [...serviceWithPods(name, 'shop', asPods(pods), { notReady }), ingress({ name, namespace: 'shop', rules: [{ host: `${name}.example`, paths: [{ path: '/', service: name }] }] })];
}

async function proxyFor(pods: readonly { name: string; host: string; port: number }[], args: readonly string[] = [], other: readonly Manifest[] = []): Promise<{ sy: RunningSwitchyard; dir: string }> {
  const dir = await tempManifestDir();
  await writeManifest(dir, 'ws.yaml', site('ws', pods));
  if (other.length > 0) await writeManifest(dir, 'other.yaml', other);
  const sy = await start({ manifests: dir, args });
  return { sy, dir };
}

/** A pod that takes upgrade requests and never answers them; `sockets` are the upgraded connections it holds. */
async function silentPod(): Promise<{ port: number; sockets: Set<Socket> }> {
  const server = createServer();
  const sockets = new Set<Socket>();
  server.on('upgrade', (_req, socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // reads (and drops), so that the proxy's close is seen
  });
  await listen(server, loopback(2), 0);
  defer(() => closeServer(server, () => sockets.forEach((s) => s.destroy())));
  return { port: (server.address() as { port: number }).port, sockets };
}

/** `site` with the Service port's appProtocol and annotations set. */
function siteWith(name: string, pods: readonly { name: string; host: string; port: number }[], appProtocol: string, annotations: Record<string, string> = {}): Manifest[] {
  const docs = site(name, pods);
  const svc = docs[0] as { metadata: Record<string, unknown>; spec: { ports: Record<string, unknown>[] } };
  svc.spec.ports[0]!.appProtocol = appProtocol;
  svc.metadata.annotations = annotations;
  return docs;
}

function caSecret(name: string, caPem: string): Manifest {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'shop' }, type: 'Opaque', data: { 'ca.crt': Buffer.from(caPem).toString('base64') } };
}

// --- clients ---------------------------------------------------------------------------------------

interface Client {
  readonly ws: WebSocket;
  /** The next message received (in order). */
  next(timeoutMs?: number): Promise<{ data: Buffer; binary: boolean }>;
  /** Resolves with the close code once the connection closed. */
  readonly closed: Promise<number>;
}

/** A `ws` client through the ingress with Host `<host>`; resolves once open. */
async function openWs(target: HostPort, host: string, path = '/', protocols: string[] = [], tls = false): Promise<Client> {
  const ws = new WebSocket(`${tls ? 'wss' : 'ws'}://${target.host}:${target.port}${path}`, protocols, { headers: { host }, perMessageDeflate: false, rejectUnauthorized: false });
  defer(() => ws.terminate());
  const queue: { data: Buffer; binary: boolean }[] = [];
  const waiters: ((m: { data: Buffer; binary: boolean }) => void)[] = [];
  ws.on('message', (data: Buffer, binary: boolean) => {
    const m = { data, binary };
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('error', () => undefined);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
      ws.once('error', reject);
    }),
    5000,
    'the WebSocket to open',
  );
  return {
    ws,
    closed,
    next: (timeoutMs = 5000) => {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      return withTimeout(new Promise((resolve) => waiters.push(resolve)), timeoutMs, 'a WebSocket message');
    },
  };
}

/** A WebSocket handshake that is not answered with 101: the status, headers and body the client got. */
function failedHandshake(target: HostPort, host: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const ws = new WebSocket(`ws://${target.host}:${target.port}/`, { headers: { host } });
  defer(() => ws.terminate());
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once('open', () => reject(new Error('the WebSocket opened')));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
    }),
    5000,
    'the handshake to be answered',
  );
}

async function echo(client: Client, text: string): Promise<string> {
  client.ws.send(text);
  return (await client.next()).data.toString();
}

/** Reads a raw socket until `pred` holds for everything received; returns it (latin1). */
async function readUntil(socket: Socket, received: () => string, pred: (all: string) => boolean, what: string): Promise<string> {
  return waitFor(() => (pred(received()) ? received() : undefined), { timeoutMs: 5000, intervalMs: 5, what });
}

function rawClient(target: HostPort): { socket: Socket; received: () => string; ended: Promise<void> } {
  const socket = connect({ host: target.host, port: target.port });
  defer(() => socket.destroy());
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => undefined);
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  return { socket, received: () => text, ended };
}

async function tunnelsOpen(sy: RunningSwitchyard): Promise<number> {
  const res = await getJson<{ open: number; total: number }>(sy.admin, '/api/v1/tunnels');
  return res.body.open;
}

async function metric(sy: RunningSwitchyard, name: string): Promise<number> {
  const res = await get(sy.admin, `${sy.admin.host}:${sy.admin.port}`, '/metrics');
  if (!res.body.includes(`# TYPE ${name} `)) throw new Error(`no ${name} in /metrics`);
  // Summed over every label set (a counter by Service, a gauge by listener).
  return sumSamples(res.body, name);
}

// --- tests -----------------------------------------------------------------------------------------

describe.each(HTTP1_SERVERS)('%s server', (server) => {
  beforeAll(() => {
    http1Server = server;
  });
  describe('WebSocket through the ingress', () => {
    it('echoes text and binary messages both ways, the pod speaking first', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a]);
      const c = await openWs(sy.ingress, 'ws.example', '/chat?room=1');
      expect((await c.next()).data.toString()).toBe('hello from pod-a');
      expect(await echo(c, 'ping 1')).toBe('ping 1');
      expect(await echo(c, 'ping 2')).toBe('ping 2');
      const bin = randomBytes(1000);
      c.ws.send(bin, { binary: true });
      const back = await c.next();
      expect(back.binary).toBe(true);
      expect(back.data.equals(bin)).toBe(true);
      // Forwarded as an upgrade with the usual X-Forwarded-* and the client's WebSocket fields.
      const h = a.handshakes[0]!;
      expect(h.upgrade).toBe('websocket');
      expect(h.connection?.toLowerCase()).toBe('upgrade');
      expect(h['sec-websocket-key']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(h['sec-websocket-version']).toBe('13');
      expect(h['x-forwarded-for']).toBe('127.0.0.1');
      expect(h['x-forwarded-host']).toBe('ws.example');
      expect(h['x-forwarded-proto']).toBe('http');
      expect(h.host).toBe('ws.example');
      // A clean close handshake passes both ways.
      c.ws.close(1000, 'bye');
      expect(await withTimeout(c.closed, 3000, 'the close')).toBe(1000);
    });

    it('passes the subprotocol offer and the choice', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a]);
      const c = await openWs(sy.ingress, 'ws.example', '/', ['chat', 'superchat']);
      expect(c.ws.protocol).toBe('superchat');
      expect(a.handshakes[0]!['sec-websocket-protocol']).toBe('chat,superchat');
    });

    it('carries an 8 MB message each way, and holds the pod back while the client does not read', async () => {
      const big = randomBytes(8 * 1024 * 1024);
      const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
      let podSide: WebSocket | undefined;
      const [a] = await startWsPods({ onSocket: (ws) => (podSide = ws) });
      const { sy } = await proxyFor([a]);
      const c = await openWs(sy.ingress, 'ws.example');
      await c.next(); // hello
      // Client → pod → client: 8 MB echoed.
      c.ws.send(big, { binary: true });
      const back = await c.next(15_000);
      expect(digest(back.data)).toBe(digest(big));

      // A client that stops reading: the pod's sends back up to it, instead of piling up in the proxy.
      c.ws.pause();
      const total = 8;
      for (let i = 0; i < total; i++) podSide!.send(big, { binary: true });
      await sleep(700);
      const stuck = podSide!.bufferedAmount;
      // The kernel buffers on the way (pod → proxy → client) take some (~8 MB here); without backpressure the proxy would take all.
      expect(stuck).toBeGreaterThan(32 * 1024 * 1024);
      c.ws.resume();
      for (let i = 0; i < total; i++) expect(digest((await c.next(15_000)).data)).toBe(digest(big));
      expect(podSide!.bufferedAmount).toBe(0);
    }, 30_000);

    it('spreads tunnels round-robin over the pods', async () => {
      const pods = await startWsPods();
      const { sy } = await proxyFor(pods);
      const greetings: string[] = [];
      for (let i = 0; i < 6; i++) greetings.push((await (await openWs(sy.ingress, 'ws.example')).next()).data.toString());
      expect(greetings).toEqual(['hello from pod-a', 'hello from pod-b', 'hello from pod-a', 'hello from pod-b', 'hello from pod-a', 'hello from pod-b']);
      expect(pods.map((p) => p.open.size)).toEqual([3, 3]);
    });

    it('serves a plain request to the same route as before', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a]);
      const res = await get(sy.ingress, 'ws.example', '/');
      expect([res.status, res.body]).toEqual([200, 'plain pod-a']);
    });

    it("passes the pod's non-101 answer on as an ordinary response, and closes the connection after it", async () => {
      const refusal = 'HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 10\r\nx-pod: pod-a\r\n\r\nforbidden\n';
      const [a] = await startWsPods({ refuseWith: refusal });
      const { sy } = await proxyFor([a]);
      const res = await failedHandshake(sy.ingress, 'ws.example');
      expect(res.status).toBe(403);
      expect(res.headers['x-pod']).toBe('pod-a');
      expect(res.body).toBe('forbidden\n');
      expect(res.headers['x-switchyard-error']).toBeUndefined();

      // Raw: a 200 to an upgrade request is a response like any other, then the connection closes.
      const ok = await rawRequest(sy.ingress, 'GET / HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      expect(ok.status).toBe(403);
      expect(ok.headers['connection']).toBe('close');
      expect(ok.body).toBe('forbidden\n');
      expect(await tunnelsOpen(sy)).toBe(0);
    });

    it('answers 502 when the pod refuses the connection', async () => {
      const port = await unusedPort(loopback(2));
      const { sy } = await proxyFor([{ name: 'dead', host: loopback(2), port }]);
      const res = await failedHandshake(sy.ingress, 'ws.example');
      expect(res.status).toBe(502);
      expect(res.headers['x-switchyard-error']).toBe('upstream-connect-failed');
      expect(await tunnelsOpen(sy)).toBe(0);
    });

    it('retries an upgrade refused by one pod on another', async () => {
      // A live pod at 127.0.0.3, nothing on the same port at 127.0.0.2 (first in the rotation).
      const live = await startWsPod('live', loopback(3));
      const { sy } = await proxyFor([{ name: 'dead', host: loopback(2), port: live.port }, live]);
      for (let i = 0; i < 3; i++) expect((await (await openWs(sy.ingress, 'ws.example')).next()).data.toString()).toBe('hello from live');
      expect(await metric(sy, 'switchyard_upstream_retries_total')).toBeGreaterThanOrEqual(1);
    });

    it('answers 504 when the pod never answers the upgrade, and 503 without a ready pod', async () => {
      const hole = await silentPod();
      const { sy, dir } = await proxyFor([{ name: 'hole', host: loopback(2), port: hole.port }], ['--upstream-timeout', '300ms']);
      const res = await failedHandshake(sy.ingress, 'ws.example');
      expect([res.status, res.headers['x-switchyard-error']]).toEqual([504, 'upstream-timeout']);
      await writeManifest(dir, 'ws.yaml', site('ws', [{ name: 'hole', host: loopback(2), port: 1 }], ['hole']));
      await waitFor(async () => (await failedHandshake(sy.ingress, 'ws.example')).status === 503 || undefined, { what: 'the not-ready pod to be out' });
    });

    it('speaks plain HTTP/1.1 to a kubernetes.io/ws port and TLS to a kubernetes.io/wss port', async () => {
      const plain = await startWsPod('plain', loopback(2));
      const secure = await startWsPod('secure', loopback(3), 0, { tls: selfSigned(['secure.shop.svc']) });
      const dir = await tempManifestDir();
      await writeManifest(dir, 'ws.yaml', siteWith('ws', [plain], 'kubernetes.io/ws'));
      await writeManifest(dir, 'wss.yaml', siteWith('wss', [secure], 'kubernetes.io/wss'));
      const sy = await start({ manifests: dir });
      const c1 = await openWs(sy.ingress, 'ws.example');
      expect((await c1.next()).data.toString()).toBe('hello from plain');
      // The pod's self-signed certificate is not checked without a CA (switchyard.dev/backend-ca-secret).
      const c2 = await openWs(sy.ingress, 'wss.example');
      expect((await c2.next()).data.toString()).toBe('hello from secure');
      expect(await echo(c2, 'over tls')).toBe('over tls');
      expect(secure.handshakes[0]!['x-forwarded-host']).toBe('wss.example');
    });

    it('tunnels a wss client through the TLS listener', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a], ['--listen-tls', '127.0.0.1:0']);
      const c = await openWs(sy.tls!, 'ws.example', '/', [], true);
      expect((await c.next()).data.toString()).toBe('hello from pod-a');
      const big = randomBytes(1024 * 1024);
      c.ws.send(big);
      expect((await c.next()).data.equals(big)).toBe(true);
      expect(a.handshakes[0]!['x-forwarded-proto']).toBe('https');
      c.ws.close(1000);
      expect(await withTimeout(c.closed, 3000, 'the close')).toBe(1000);
    });

    it('checks a wss pod against the CA the Service names: 502 when it does not chain to it', async () => {
      const good = chained(['secure.shop.svc']);
      const other = chained(['secure.shop.svc']);
      const secure = await startWsPod('secure', loopback(2), 0, { tls: good });
      const dir = await tempManifestDir();
      await writeManifest(dir, 'wss.yaml', [...siteWith('wss', [secure], 'kubernetes.io/wss', { 'switchyard.dev/backend-ca-secret': 'pod-ca' }), caSecret('pod-ca', good.caPem)]);
      await writeManifest(dir, 'bad.yaml', [...siteWith('bad', [secure], 'kubernetes.io/wss', { 'switchyard.dev/backend-ca-secret': 'other-ca' }), caSecret('other-ca', other.caPem)]);
      const sy = await start({ manifests: dir });
      expect((await (await openWs(sy.ingress, 'wss.example')).next()).data.toString()).toBe('hello from secure');
      const res = await failedHandshake(sy.ingress, 'bad.example');
      expect([res.status, res.headers['x-switchyard-error']]).toEqual([502, 'upstream-tls-failed']);
      expect(secure.handshakes).toHaveLength(1);
    });

    it('keeps a tunnel open across a reload that changes another Service', async () => {
      const [a, b] = await startWsPods();
      const { sy, dir } = await proxyFor([a], [], site('other', [b]));
      await waitUntilWatching(sy, dir);
      const c = await openWs(sy.ingress, 'ws.example');
      await c.next();
      // Another Service loses its endpoint and gains it back; the ws Service's file is rewritten unchanged.
      await writeManifest(dir, 'other.yaml', site('other', [{ name: 'gone', host: loopback(4), port: b.port }]));
      await waitFor(async () => (await get(sy.ingress, 'other.example', '/')).status === 502 || undefined, { what: 'the reload' });
      await writeManifest(dir, 'ws.yaml', site('ws', [a]));
      await writeManifest(dir, 'other.yaml', site('other', [b]));
      await waitFor(async () => (await get(sy.ingress, 'other.example', '/')).body === 'plain pod-b' || undefined, { what: 'the second reload' });
      expect(await echo(c, 'still here')).toBe('still here');
      expect(c.ws.readyState).toBe(WebSocket.OPEN);
      expect(await tunnelsOpen(sy)).toBe(1);
    });

    it('closes the tunnels of an endpoint removed from the Service after the drain timeout, and only those', async () => {
      const [a, b] = await startWsPods();
      const { sy, dir } = await proxyFor([a, b], ['--drain-timeout', '1500ms']);
      await waitUntilWatching(sy, dir);
      const onA = await openWs(sy.ingress, 'ws.example');
      const onB = await openWs(sy.ingress, 'ws.example');
      expect((await onA.next()).data.toString()).toBe('hello from pod-a');
      expect((await onB.next()).data.toString()).toBe('hello from pod-b');
      let closedAt = 0;
      void onA.closed.then(() => (closedAt = performance.now()));
      await writeManifest(dir, 'ws.yaml', site('ws', [b]));
      await waitFor(async () => ((await getJson<{ endpoints: { key: string; backend: string | null }[] }>(sy.admin, '/api/v1/endpoints')).body.endpoints.every((e) => e.backend === null || !e.key.startsWith(loopback(2))) ? true : undefined), { what: 'pod-a to leave' });
      const removedAt = performance.now();
      // Still open within the drain timeout.
      await sleep(300);
      expect(await echo(onA, 'draining')).toBe('draining');
      await withTimeout(onA.closed, 4000, 'the tunnel to pod-a to close');
      expect(closedAt - removedAt).toBeGreaterThan(1000);
      expect(closedAt - removedAt).toBeLessThan(3500);
      expect(await echo(onB, 'unaffected')).toBe('unaffected');
      await waitFor(async () => (await tunnelsOpen(sy)) === 1 || undefined, { what: 'the count to drop' });
    });

    it('closes a tunnel silent both ways for --tunnel-idle-timeout, not a busy one', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a], ['--tunnel-idle-timeout', '600ms']);
      const quiet = await openWs(sy.ingress, 'ws.example');
      const busy = await openWs(sy.ingress, 'ws.example');
      const opened = performance.now();
      let quietClosedAt = 0;
      void quiet.closed.then(() => (quietClosedAt = performance.now()));
      // Only the client speaks (the pod's echoes are the other direction): each keeps it alive.
      while (performance.now() - opened < 2000) {
        busy.ws.send('tick');
        await sleep(150);
      }
      expect(quietClosedAt).toBeGreaterThan(0);
      expect(quietClosedAt - opened).toBeGreaterThan(500);
      expect(quietClosedAt - opened).toBeLessThan(1700);
      expect(busy.ws.readyState).toBe(WebSocket.OPEN);
      await withTimeout(busy.closed, 3000, 'the busy tunnel to close once silent');
    });

    it('on SIGTERM keeps tunnels until --drain-timeout, then closes them and exits', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a], ['--drain-timeout', '1s']);
      const c = await openWs(sy.ingress, 'ws.example');
      await c.next();
      const stoppedAt = performance.now();
      sy.child.kill('SIGTERM');
      await sy.waitForLog((l) => l.msg.startsWith('stopping'), 3000);
      expect(await echo(c, 'while draining')).toBe('while draining');
      await withTimeout(c.closed, 3000, 'the tunnel to be closed');
      expect(performance.now() - stoppedAt).toBeGreaterThan(900);
      const exit = await withTimeout(sy.exited, 3000, 'switchyard to exit');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(performance.now() - stoppedAt).toBeLessThan(3000);
    });

    it('counts open tunnels in the admin API and /metrics', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a]);
      expect(await tunnelsOpen(sy)).toBe(0);
      const c1 = await openWs(sy.ingress, 'ws.example');
      const c2 = await openWs(sy.ingress, 'ws.example');
      await waitFor(async () => (await tunnelsOpen(sy)) === 2 || undefined, { what: 'two tunnels' });
      expect(await metric(sy, 'switchyard_tunnels_open')).toBe(2);
      c1.ws.close();
      await c1.closed;
      await waitFor(async () => (await tunnelsOpen(sy)) === 1 || undefined, { what: 'one tunnel' });
      c2.ws.terminate();
      await waitFor(async () => (await tunnelsOpen(sy)) === 0 || undefined, { what: 'no tunnel' });
      expect(await metric(sy, 'switchyard_tunnels_open')).toBe(0);
      expect(await metric(sy, 'switchyard_tunnels_total')).toBe(2);
      // Each 101 counts as a 1xx response of the ingress listener.
      const text = (await get(sy.admin, `${sy.admin.host}:${sy.admin.port}`, '/metrics')).body;
      expect(sumSamples(text, 'switchyard_requests_total', { listener: 'ingress', code: '101' })).toBe(2);
    });

    it('sums tunnels over worker processes', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a], ['--workers', '2']);
      const clients = [];
      for (let i = 0; i < 4; i++) clients.push(await openWs(sy.ingress, 'ws.example'));
      // Workers report every second.
      await waitFor(async () => (await metric(sy, 'switchyard_tunnels_open')) === 4 || undefined, { timeoutMs: 4000, what: 'four tunnels in /metrics' });
      const workers = (await getJson<{ workers: { tunnels: number }[] }>(sy.admin, '/api/v1/workers')).body.workers;
      expect(workers.reduce((n, w) => n + w.tunnels, 0)).toBe(4);
      expect(await tunnelsOpen(sy)).toBe(4);
      for (const c of clients) c.ws.terminate();
      await waitFor(async () => (await tunnelsOpen(sy)) === 0 || undefined, { timeoutMs: 4000, what: 'no tunnel' });
    });
  });

  describe('upgrade requests over raw sockets', () => {
    /** A WebSocket text frame from a client (masked, RFC 6455 §5.3), payload under 126 bytes. */
    function clientFrame(text: string): Buffer {
      const payload = Buffer.from(text);
      const mask = randomBytes(4);
      const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
      return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
    }

    it('delivers the bytes sent right after the upgrade request, in the same write, to the pod first', async () => {
      const [a] = await startWsPods();
      const { sy } = await proxyFor([a]);
      const { socket, received } = rawClient(sy.ingress);
      await once(socket, 'connect');
      const handshake = 'GET / HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
      socket.write(Buffer.concat([Buffer.from(handshake), clientFrame('early bird')]));
      const all = await readUntil(socket, received, (s) => s.includes('early bird'), 'the echo of the early frame');
      expect(all).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(all).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
      expect(all.toLowerCase()).toContain('connection: upgrade\r\n');
      expect(all).toContain('server: switchyard\r\n'); // the pod sent none
      // The pod's greeting, then the echo: the early frame reached the pod as a frame of the tunnel.
      expect(all.indexOf('hello from pod-a')).toBeLessThan(all.indexOf('early bird'));
    });

    /** A pod speaking a made-up protocol after `Upgrade: foo/1`: its first bytes in the 101's write, then everything it got, when the client ends. */
    async function fooPod(delayMs = 0): Promise<{ port: number; heads: Buffer[]; headers: IncomingHttpHeaders[] }> {
      const server = createServer((_req, res) => res.end('not upgraded'));
      const state = { port: 0, heads: [] as Buffer[], headers: [] as IncomingHttpHeaders[] };
      const sockets = new Set<Socket>();
      server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
        sockets.add(socket);
        state.headers.push(req.headers);
        state.heads.push(Buffer.from(head));
        let got = head.toString('latin1');
        socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
        socket.on('error', () => undefined);
        // The pod's half-close arrives after all the client sent: answer then, and end.
        socket.on('end', () => socket.end(`got:${got}|bye`));
        const answer = (): void => void socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: foo/1\r\nX-Pod: foo\r\n\r\nPOD-FIRST|');
        if (delayMs === 0) answer();
        else setTimeout(answer, delayMs);
      });
      await listen(server, loopback(2), 0);
      defer(() => closeServer(server, () => sockets.forEach((s) => s.destroy())));
      state.port = (server.address() as { port: number }).port;
      return state;
    }

    it('tunnels any other protocol (Upgrade: foo/1) both ways, with half-close', async () => {
      const foo = await fooPod();
      const { sy } = await proxyFor([{ name: 'foo', host: loopback(2), port: foo.port }]);
      const { socket, received, ended } = rawClient(sy.ingress);
      await once(socket, 'connect');
      socket.write('GET /foo HTTP/1.1\r\nHost: ws.example\r\nConnection: keep-alive, Upgrade\r\nUpgrade: foo/1\r\n\r\nEARLY|');
      const head = await readUntil(socket, received, (s) => s.includes('POD-FIRST|'), 'the 101 and the pod’s first bytes');
      expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(head).toContain('Upgrade: foo/1\r\n');
      expect(head).toContain('X-Pod: foo\r\n');
      expect(head.endsWith('\r\n\r\nPOD-FIRST|')).toBe(true);
      socket.write('MORE|');
      await sleep(50);
      socket.end('LAST');
      await withTimeout(ended, 3000, 'the pod’s end to reach the client');
      expect(received()).toContain('POD-FIRST|got:EARLY|MORE|LAST|bye');
      expect(foo.headers[0]!.upgrade).toBe('foo/1');
      expect(foo.headers[0]!.connection?.toLowerCase()).toBe('upgrade');
      await waitFor(async () => (await tunnelsOpen(sy)) === 0 || undefined, { what: 'the tunnel to be gone' });
    });

    it('serves an upgrade request with a body, or in HTTP/1.0, or for h2c, as a plain request', async () => {
      const foo = await fooPod();
      const { sy } = await proxyFor([{ name: 'foo', host: loopback(2), port: foo.port }]);
      for (const request of [
        'POST / HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: foo/1\r\nContent-Length: 3\r\n\r\nabc',
        'GET / HTTP/1.0\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: foo/1\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
      ]) {
        const res = await rawRequest(sy.ingress, request);
        expect([res.status, res.body]).toEqual([200, 'not upgraded']);
      }
      expect(foo.headers).toHaveLength(0);
    });

    it('drops the pending upgrade when the client resets before the 101', async () => {
      const hole = await silentPod();
      const { sy } = await proxyFor([{ name: 'hole', host: loopback(2), port: hole.port }]);
      const { socket } = rawClient(sy.ingress);
      await once(socket, 'connect');
      socket.write('GET / HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: foo/1\r\n\r\nearly');
      const podSocket = await waitFor(() => [...hole.sockets][0], { what: 'the upgrade to reach the pod' });
      // The pod's server allows half-open connections: the proxy's close shows as the end of what it reads.
      const podClosed = once(podSocket, 'end');
      socket.resetAndDestroy();
      await withTimeout(podClosed, 3000, 'the pod connection to be closed');
      expect(await tunnelsOpen(sy)).toBe(0);
    });

    it('tunnels for a client that ended its side right after the request (half-close before the 101)', async () => {
      const foo = await fooPod(200);
      const { sy } = await proxyFor([{ name: 'foo', host: loopback(2), port: foo.port }]);
      const { socket, received, ended } = rawClient(sy.ingress);
      await once(socket, 'connect');
      socket.end('GET / HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: foo/1\r\n\r\nONLY|');
      await withTimeout(ended, 3000, 'the pod’s answer and end');
      expect(received()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(received().endsWith('\r\n\r\nPOD-FIRST|got:ONLY||bye')).toBe(true);
    });
  });
});
