/**
 * Fake pods for the reliability tests: each is a child process (`node -e`) listening on its own
 * loopback address, so a pod can be SIGKILLed, SIGTERMed and restarted like a real one. The test talks
 * to a pod over IPC: change what it answers, read how many requests it served.
 *
 * Kinds:
 * - `http`: answers every path with its name (header `x-pod`, body the name) and status `status`
 *   (default 200); `/healthz` answers `health` (default 200); `/slow?ms=N` answers after N ms; a request
 *   with a body is echoed back as JSON `{pod, length, sha256}`. SIGTERM: stop accepting, finish, exit 0.
 * - `hang`: accepts connections, reads, never writes.
 * - `reset`: reads a whole request (head and content-length body), then destroys the socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { track } from './processes.ts';

export type PodKind = 'http' | 'hang' | 'reset';

export interface PodOptions {
  readonly name: string;
  readonly address: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly kind?: PodKind;
  /** Status of ordinary responses (http pods). */
  readonly status?: number;
  /** Status of /healthz (http pods). */
  readonly health?: number;
}

export interface Pod {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly key: string;
  readonly proc: ChildProcess;
  /** Requests received (health checks excluded). */
  requests(): Promise<number>;
  set(change: { status?: number; health?: number }): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

const POD_SCRIPT = String.raw`
const http = require('node:http');
const net = require('node:net');
const crypto = require('node:crypto');
const cfg = JSON.parse(process.env.POD_CONFIG);
const state = { status: cfg.status ?? 200, health: cfg.health ?? 200, requests: 0 };
process.on('message', (m) => {
  if (m.cmd === 'set') { if (m.status !== undefined) state.status = m.status; if (m.health !== undefined) state.health = m.health; }
  process.send({ id: m.id, requests: state.requests });
});
process.on('disconnect', () => process.exit(0));
let server;
if (cfg.kind === 'http') {
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://pod');
    if (url.pathname === '/healthz') {
      res.writeHead(state.health, { 'x-pod': cfg.name, 'content-type': 'text/plain' });
      res.end('health ' + state.health + '\n');
      return;
    }
    state.requests++;
    const hash = crypto.createHash('sha256');
    let length = 0;
    req.on('data', (c) => { hash.update(c); length += c.length; });
    req.on('end', () => {
      const answer = () => {
        if (length > 0) {
          res.writeHead(state.status, { 'x-pod': cfg.name, 'content-type': 'application/json' });
          res.end(JSON.stringify({ pod: cfg.name, length, sha256: hash.digest('hex') }));
        } else {
          res.writeHead(state.status, { 'x-pod': cfg.name, 'content-type': 'text/plain' });
          res.end(cfg.name);
        }
      };
      const ms = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? '1500') : 0;
      if (ms > 0) setTimeout(answer, ms); else answer();
    });
  });
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 50).unref();
    setTimeout(() => process.exit(0), 5000).unref();
  });
} else {
  server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    let counted = false;
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!counted) { counted = true; state.requests++; }
      if (cfg.kind !== 'reset') return;
      const m = /content-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'));
      const want = m ? Number(m[1]) : 0;
      if (buf.length - end - 4 >= want) socket.destroy();
    });
  });
  process.on('SIGTERM', () => process.exit(0));
}
server.on('error', (err) => { process.send({ type: 'error', code: err.code }); process.exit(1); });
server.listen(cfg.port, cfg.address, () => process.send({ type: 'listening', port: server.address().port }));
`;

/** Starts a pod and resolves once it listens. */
export function startPod(options: PodOptions): Promise<Pod> {
  const cfg = { kind: 'http', ...options };
  const proc = spawn(process.execPath, ['-e', POD_SCRIPT], {
    env: { ...process.env, POD_CONFIG: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  track(proc);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let nextId = 0;
  const pending = new Map<number, { res: (requests: number) => void; rej: (err: Error) => void }>();
  proc.once('exit', () => {
    for (const p of pending.values()) p.rej(new Error(`pod ${options.name} exited`));
    pending.clear();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pod ${options.name} did not start`)), 10_000);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`pod ${options.name} exited before listening (${code ?? signal})`));
    });
    proc.on('message', (m: { type?: string; port?: number; code?: string; id?: number; requests?: number }) => {
      if (m.type === 'error') {
        reject(new Error(`pod ${options.name} cannot listen on ${options.address}:${options.port}: ${m.code}`));
        return;
      }
      if (m.type === 'listening') {
        clearTimeout(timer);
        const port = m.port!;
        const ask = (msg: object): Promise<number> =>
          new Promise((res, rej) => {
            if (!proc.connected) return rej(new Error(`pod ${options.name} is gone`));
            const id = nextId++;
            pending.set(id, { res, rej });
            proc.send({ ...msg, id });
          });
        resolve({
          name: options.name,
          address: options.address,
          port,
          key: `${options.address}:${port}`,
          proc,
          exited,
          requests: () => ask({ cmd: 'stats' }),
          set: async (change) => {
            await ask({ cmd: 'set', ...change });
          },
          kill: (signal) => {
            proc.kill(signal);
          },
        });
        return;
      }
      if (m.id !== undefined) {
        pending.get(m.id)?.res(m.requests ?? 0);
        pending.delete(m.id);
      }
    });
  });
}

/**
 * Starts pods on `prefix` + 11, 12, … (two-digit last octets, so address order is list order), all on
 * one port: the first binds port 0, the others reuse its number. An entry is a name or a pod's options.
 */
export async function startPods(
  prefix: string,
  specs: readonly (string | (Partial<PodOptions> & { name: string }))[],
  options: Partial<PodOptions> = {},
): Promise<Pod[]> {
  const pods: Pod[] = [];
  let port = options.port ?? 0;
  for (const [i, spec] of specs.entries()) {
    const own = typeof spec === 'string' ? { name: spec } : spec;
    const pod = await startPod({ ...options, address: `${prefix}${11 + i}`, port, ...own });
    port = pod.port;
    pods.push(pod);
  }
  return pods;
}

/** Requests served per pod, by name. */
export async function requestCounts(pods: readonly Pod[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of pods) out[p.name] = p.proc.connected ? await p.requests() : -1;
  return out;
}
