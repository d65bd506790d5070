/**
 * EndpointPool over a real loopback server: connection reuse, the connection cap with a FIFO queue,
 * close and destroy, and refused connections that must not leave a request or a slot hanging.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createRequire } from 'node:module';
import { Client, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { EndpointPool } from '../../src/dataplane/endpoint-pool.ts';
import { parserFixApplied } from '../../src/dataplane/undici-parser-fix.ts';

interface Answer {
  status: number;
  body: string;
}

/** undici's handler interface, collecting one response; `onRawHeaders` sees the parser's header list. */
function request(pool: Pick<EndpointPool, 'dispatch'>, path: string, onRawHeaders?: (raw: Buffer[]) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    const chunks: Buffer[] = [];
    const handler: Dispatcher.DispatchHandler = {
      onConnect: () => undefined,
      onHeaders: (statusCode: number, raw: Buffer[]) => {
        onRawHeaders?.(raw);
        status = statusCode;
        return true;
      },
      onData: (chunk: Buffer) => {
        chunks.push(chunk);
        return true;
      },
      onComplete: () => resolve({ status, body: Buffer.concat(chunks).toString() }),
      onError: reject,
    };
    pool.dispatch({ method: 'GET', path, headers: ['host', 'pool.test'] }, handler);
  });
}

let server: Server | undefined;
let pools: EndpointPool[] = [];
const sockets = new Set<Socket>();
let maxOpen = 0;
let held: ServerResponse[] = [];

/** Answers `ok <path>`; `/hold` waits until release() (to keep connections busy). */
async function startServer(): Promise<string> {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/hold') held.push(res);
    else res.end(`ok ${req.url}`);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    maxOpen = Math.max(maxOpen, sockets.size);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function release(): void {
  for (const res of held.splice(0)) res.end('released');
}

function newPool(origin: string, maxConnections: number): EndpointPool {
  const pool = new EndpointPool(origin, { maxConnections, connectTimeoutMs: 2000, keepAliveTimeoutMs: 10_000 });
  pools.push(pool);
  return pool;
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

afterEach(async () => {
  release();
  await Promise.all(pools.map((p) => p.destroy()));
  pools = [];
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  maxOpen = 0;
  held = [];
});

describe('EndpointPool', () => {
  it("builds on undici's public Client class (the module it loads directly is the one the package exports)", () => {
    expect(createRequire(import.meta.url)('undici/lib/dispatcher/client.js')).toBe(Client);
  });

  it('sends sequential requests over one kept-alive connection', async () => {
    const pool = newPool(await startServer(), 8);
    for (let i = 0; i < 5; i++) {
      expect(await request(pool, `/${i}`)).toEqual({ status: 200, body: `ok /${i}` });
      // The next request comes on a later turn of the event loop, as a proxied one does: by then undici
      // has handed the connection back (its 'drain' follows the response by a microtask).
      await new Promise((r) => setImmediate(r));
    }
    expect(pool.connections).toBe(1);
    expect(maxOpen).toBe(1);
  });

  it('opens at most maxConnections; the rest wait in arrival order and all complete', async () => {
    const pool = newPool(await startServer(), 2);
    const holding = [request(pool, '/hold'), request(pool, '/hold')];
    const order: string[] = [];
    const waiting = ['/a', '/b', '/c'].map((p) => request(pool, p).then((a) => (order.push(a.body), a)));
    await until(() => held.length === 2);
    expect(pool.queued).toBe(3);
    expect(pool.connections).toBe(2);
    release();
    expect((await Promise.all(holding)).map((a) => a.body)).toEqual(['released', 'released']);
    expect((await Promise.all(waiting)).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(order).toEqual(['ok /a', 'ok /b', 'ok /c']);
    expect(pool.queued).toBe(0);
    expect(pool.connections).toBe(2);
    expect(maxOpen, 'connections the server saw at once').toBe(2);
  });

  it('close() lets waiting and in-flight requests finish, then refuses new ones naming the endpoint', async () => {
    const origin = await startServer();
    const pool = newPool(origin, 1);
    const inFlight = request(pool, '/hold');
    const waiting = request(pool, '/after');
    await until(() => held.length === 1);
    const closed = pool.close();
    await expect(request(pool, '/late')).rejects.toThrow(`connection pool to ${origin} is closed`);
    release();
    expect((await inFlight).body).toBe('released');
    expect((await waiting).body).toBe('ok /after');
    await closed;
    await until(() => sockets.size === 0);
  });

  it('destroy() fails the waiting requests and cuts the one in flight', async () => {
    const origin = await startServer();
    const pool = newPool(origin, 1);
    const inFlight = request(pool, '/hold');
    const waiting = request(pool, '/never');
    await until(() => held.length === 1);
    const failed = [expect(waiting).rejects.toThrow(`connection pool to ${origin} was destroyed`), expect(inFlight).rejects.toThrow()];
    await pool.destroy();
    await Promise.all(failed);
  });

  it('a refused connection fails each request without holding its slot', async () => {
    const origin = await startServer();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const pool = newPool(origin, 1);
    const results = await Promise.allSettled([request(pool, '/1'), request(pool, '/2'), request(pool, '/3')]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ECONNREFUSED' });
    }
    expect(pool.queued).toBe(0);
    expect(pool.connections).toBe(1);
  });

  it("gives undici's response parser a fresh header list per response (so header Buffers die young)", async () => {
    const origin = await startServer();
    const pool = newPool(origin, 1);
    expect(await request(pool, '/first')).toEqual({ status: 200, body: 'ok /first' });
    expect(parserFixApplied(), 'patched on the first connection').toBe(true);
    // The fix is on the Parser class: any Client of this undici has it. One of our own shows the parser.
    const { kSocket, kParser } = createRequire(import.meta.url)('undici/lib/core/symbols.js') as Record<string, symbol>;
    const client = new Client(origin, { pipelining: 1 });
    try {
      await request(client, '/a');
      const parser = ((client as unknown as Record<symbol, Record<symbol, { headers: unknown[] }>>)[kSocket!]!)[kParser!]!;
      const leftOver = parser.headers; // what the last response left for the next one, unpatched
      let seen: Buffer[] | undefined;
      expect(await request(client, '/b', (raw) => (seen = raw))).toEqual({ status: 200, body: 'ok /b' });
      expect(seen, 'the second response filled a list made when it began').not.toBe(leftOver);
      expect(seen!.map((b) => b.toString('latin1').toLowerCase())).toContain('content-length');
    } finally {
      await client.destroy();
    }
  });
});
