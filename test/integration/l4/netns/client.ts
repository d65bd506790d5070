/**
 * A client inside a network namespace (run under `ip netns exec`): runs the operations given as JSON in
 * argv[2] one after the other and prints one JSON array of results, one entry per operation.
 * - tcp: `count` new connections to host:port, each read to its first line; result: the lines, or `ERR:CODE`.
 * - udp: `count` datagrams, each from a new socket (a new flow); result: the answers, or `ERR:CODE`.
 * - udpflow: `count` datagrams every `intervalMs` from ONE socket (one flow); result: the answers, or `ERR:TIMEOUT`.
 * - load: new TCP connections, `concurrency` at a time, for `durationMs`; result: answers counted by pod
 *   name (errors by `ERR:CODE`).
 * - bulk: `connections` connections for `durationMs`, each writing 64 KiB chunks (with backpressure) to an
 *   echo server and reading them back; result: bytes read back.
 * - http: GET url; result: the body.
 * `load` and `bulk` take `targets` (host and port each, used in turn) instead of host and port when given.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

type Op =
  | { kind: 'tcp'; host: string; port: number; count: number; timeoutMs?: number }
  | { kind: 'udp'; host: string; port: number; count: number; timeoutMs?: number }
  | { kind: 'udpflow'; host: string; port: number; count: number; intervalMs: number }
  | { kind: 'load'; host: string; port: number; durationMs: number; concurrency: number; targets?: Target[] }
  | { kind: 'bulk'; host: string; port: number; durationMs: number; connections: number; targets?: Target[] }
  | { kind: 'http'; url: string };

interface Target {
  readonly host: string;
  readonly port: number;
}

function bulkOne(target: Target, until: number): Promise<number> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, 120);
    let received = 0;
    const s = connect(target);
    const pump = (): void => {
      while (Date.now() < until) if (!s.write(chunk)) return;
      s.destroy();
    };
    s.on('connect', pump);
    s.on('drain', pump);
    s.on('data', (d: Buffer) => (received += d.length));
    s.on('error', () => undefined);
    s.on('close', () => resolve(received));
    setTimeout(() => s.destroy(), until - Date.now() + 100);
  });
}

function tcpOnce(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let text = '';
    const done = (v: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('ERR:TIMEOUT'), timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl >= 0) done(text.slice(0, nl));
    });
    s.on('error', (e: NodeJS.ErrnoException) => done(`ERR:${e.code ?? e.message}`));
    s.on('close', () => done(text === '' ? 'ERR:CLOSED' : text));
  });
}

function udpOnce(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const done = (v: string): void => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done('ERR:TIMEOUT'), timeoutMs);
    s.on('message', (m) => done(m.toString()));
    s.on('error', (e: NodeJS.ErrnoException) => done(`ERR:${e.code ?? e.message}`));
    s.connect(port, host, () => s.send('hello'));
  });
}

async function run(op: Op): Promise<unknown> {
  switch (op.kind) {
    case 'tcp': {
      const out: string[] = [];
      for (let i = 0; i < op.count; i++) out.push(await tcpOnce(op.host, op.port, op.timeoutMs ?? 2000));
      return out;
    }
    case 'udp': {
      const out: string[] = [];
      for (let i = 0; i < op.count; i++) out.push(await udpOnce(op.host, op.port, op.timeoutMs ?? 1000));
      return out;
    }
    case 'udpflow': {
      const s = createSocket(op.host.includes(':') ? 'udp6' : 'udp4');
      s.on('error', () => undefined);
      await new Promise<void>((resolve) => s.connect(op.port, op.host, resolve));
      const out: string[] = [];
      for (let i = 0; i < op.count; i++) {
        const answer = new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('ERR:TIMEOUT'), op.intervalMs);
          s.once('message', (m) => {
            clearTimeout(timer);
            resolve(m.toString());
          });
        });
        const sent = Date.now();
        s.send(`n${i}`);
        out.push(await answer);
        s.removeAllListeners('message');
        await new Promise((r) => setTimeout(r, Math.max(0, op.intervalMs - (Date.now() - sent))));
      }
      s.close();
      return out;
    }
    case 'load': {
      const counts: Record<string, number> = {};
      const until = Date.now() + op.durationMs;
      const targets = op.targets ?? [{ host: op.host, port: op.port }];
      let turn = 0;
      await Promise.all(
        Array.from({ length: op.concurrency }, async () => {
          while (Date.now() < until) {
            const t = targets[turn++ % targets.length]!;
            const line = await tcpOnce(t.host, t.port, 2000);
            const key = line.startsWith('ERR:') ? line : line.split(' ')[0]!;
            counts[key] = (counts[key] ?? 0) + 1;
          }
        }),
      );
      return counts;
    }
    case 'bulk': {
      const targets = op.targets ?? [{ host: op.host, port: op.port }];
      const until = Date.now() + op.durationMs;
      const bytes = await Promise.all(Array.from({ length: op.connections }, (_, i) => bulkOne(targets[i % targets.length]!, until)));
      return bytes.reduce((a, b) => a + b, 0);
    }
    case 'http':
      return (await fetch(op.url)).text();
  }
}

const ops = JSON.parse(process.argv[2]!) as Op[];
const results: unknown[] = [];
for (const op of ops) results.push(await run(op));
process.stdout.write(JSON.stringify(results));
