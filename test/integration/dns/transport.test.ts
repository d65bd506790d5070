/** UDP and TCP behaviour of the listener over real sockets on 127.0.0.1 port 0. */
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Packet, StringAnswer } from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsLogger, type DnsServer, type DnsServerOptions } from '../../../src/dns/server.ts';
import { createRootLogger } from '../../../src/log.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import { TcpDnsClient, udpExchange } from '../../fixtures/dns/clients.ts';
import { decode, frame, query } from '../../fixtures/dns/packets.ts';
import { CLUSTER_YAML, manyEndpointsYaml, snapshotFromYaml } from '../../fixtures/dns/snapshots.ts';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function start(options: Partial<DnsServerOptions> = {}): Promise<DnsServer> {
  const holder = new SnapshotHolder(snapshotFromYaml(`${CLUSTER_YAML}\n---\n${manyEndpointsYaml(60)}`));
  const server = await startDnsServer({ holder, host: '127.0.0.1', port: 0, ...options });
  closers.push(() => server.close());
  return server;
}

async function tcp(server: DnsServer): Promise<TcpDnsClient> {
  const client = await TcpDnsClient.open(server.tcpAddress.port);
  closers.push(() => client.close());
  return client;
}

const MANY = 'many.big.svc.cluster.local';
const addresses = (p: Packet): string[] => (p.answers ?? []).map((a) => (a as StringAnswer).data);

describe('UDP', () => {
  it('sets TC on an answer that does not fit in 512 bytes, and TCP gives it whole', async () => {
    const server = await start();
    const udp = decode(await udpExchange(server.udpAddress.port, query(MANY, 'A', { id: 1 })));
    expect(udp.flags! & dnsPacket.TRUNCATED_RESPONSE).toBe(dnsPacket.TRUNCATED_RESPONSE);
    expect(udp.answers).toEqual([]);

    const client = await tcp(server);
    client.send({ type: 'query', id: 2, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: MANY, type: 'A' }] });
    const [whole] = await client.read(1);
    expect(whole!.id).toBe(2);
    expect(whole!.flags! & dnsPacket.TRUNCATED_RESPONSE).toBe(0);
    expect(addresses(whole!)).toHaveLength(60);
    expect(new Set(addresses(whole!)).size).toBe(60);
  });

  it('answers FORMERR to a datagram it cannot parse and keeps answering', async () => {
    const server = await start();
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]);
    const res = decode(await udpExchange(server.udpAddress.port, garbage));
    expect(res.id).toBe(0x1234);
    expect(res.rcode).toBe('FORMERR');
    expect(addresses(decode(await udpExchange(server.udpAddress.port, query('web.shop.svc.cluster.local', 'A'))))).toEqual(['10.96.0.10']);
  });
});

describe('TCP', () => {
  it('answers several queries written at once, in order', async () => {
    const server = await start();
    const client = await tcp(server);
    const names = ['web.shop.svc.cluster.local', 'dual.shop.svc.cluster.local', 'dns.shop.svc.cluster.local', 'monitor.ops.svc.cluster.local'];
    client.write(Buffer.concat(names.map((n, i) => frame(query(n, 'A', { id: 100 + i })))));
    const answers = await client.read(names.length);
    expect(answers.map((a) => a.id)).toEqual([100, 101, 102, 103]);
    expect(answers.map(addresses)).toEqual([['10.96.0.10'], ['10.96.0.11'], ['10.96.0.53'], ['10.96.1.1']]);
  });

  it('reassembles queries that arrive a byte at a time', async () => {
    const server = await start();
    const client = await tcp(server);
    const bytes = Buffer.concat([frame(query(MANY, 'A', { id: 7 })), frame(query('web.shop.svc.cluster.local', 'A', { id: 8 }))]);
    for (let i = 0; i < bytes.length; i++) {
      client.write(bytes.subarray(i, i + 1));
      if (i % 8 === 0) await new Promise((r) => setImmediate(r));
    }
    const [first, second] = await client.read(2);
    expect(first!.id).toBe(7);
    expect(addresses(first!)).toHaveLength(60);
    expect(second!.id).toBe(8);
    expect(addresses(second!)).toEqual(['10.96.0.10']);
  });

  it('answers FORMERR to a framed message it cannot parse and keeps the connection', async () => {
    const server = await start();
    const client = await tcp(server);
    client.write(frame(Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xc0])));
    client.write(frame(Buffer.from([1, 2, 3]))); // no header: dropped
    client.write(frame(query('web.shop.svc.cluster.local', 'A', { id: 9 })));
    const [formerr, ok] = await client.read(2);
    expect(formerr!.id).toBe(0xabcd);
    expect((formerr as { rcode?: string }).rcode).toBe('FORMERR');
    expect(ok!.id).toBe(9);
    expect(addresses(ok!)).toEqual(['10.96.0.10']);
  });

  it('closes an idle connection', async () => {
    const server = await start({ tcpIdleTimeoutMs: 150 });
    const client = await tcp(server);
    client.write(frame(query('web.shop.svc.cluster.local', 'A')));
    await client.read(1);
    await client.waitClosed(2000);
    expect(client.closed).toBe(true);
  });

  it('closes open connections on close()', async () => {
    const server = await start();
    const client = await tcp(server);
    await server.close();
    await client.waitClosed(2000);
    await server.close(); // twice is fine
  });
});

describe('start-up', () => {
  it('fails with SWY_ERR_LISTEN_FAILED when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as { port: number }).port;
    const holder = new SnapshotHolder(snapshotFromYaml(CLUSTER_YAML));
    await expect(startDnsServer({ holder, host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'SWY_ERR_LISTEN_FAILED' });
  });

  it('fails with SWY_ERR_LISTEN_FAILED, and frees its TCP port, when only UDP is taken', async () => {
    // A port below Linux's ephemeral range (32768+): one that port 0 or an outgoing connection of another
    // test could take between here and the TCP probe below would fail this test for nothing.
    const { socket: taken, port } = await udpBelowEphemeralRange();
    closers.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const holder = new SnapshotHolder(snapshotFromYaml(CLUSTER_YAML));
    await expect(startDnsServer({ holder, host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'SWY_ERR_LISTEN_FAILED' });
    const probe: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => probe.close(resolve));
  });

  it('logs once at info when listening and never at info per query; takes a pino logger', async () => {
    const calls: { level: string; msg: string | undefined }[] = [];
    const log: DnsLogger = {
      debug: (_o, msg) => calls.push({ level: 'debug', msg }),
      info: (_o, msg) => calls.push({ level: 'info', msg }),
      error: (_o, msg) => calls.push({ level: 'error', msg }),
    };
    const server = await start({ log });
    for (let i = 0; i < 5; i++) await udpExchange(server.udpAddress.port, query('web.shop.svc.cluster.local', 'A'));
    await udpExchange(server.udpAddress.port, Buffer.alloc(20, 0x01)).catch(() => undefined);
    expect(calls.filter((c) => c.level === 'info')).toEqual([{ level: 'info', msg: 'dns listening' }]);
    expect(calls.filter((c) => c.level === 'error')).toEqual([]);
    const pino: DnsLogger = createRootLogger('silent');
    expect(typeof pino.debug).toBe('function');
  });
});

/** A UDP socket bound on 127.0.0.1 to a random port in 20000–32767 whose TCP twin is free too. */
async function udpBelowEphemeralRange(): Promise<{ socket: ReturnType<typeof createSocket>; port: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const tcpFree = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (!tcpFree) continue;
    const socket = createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return { socket, port };
    socket.close();
  }
  throw new Error('no port below the ephemeral range was free on both TCP and UDP in 50 tries');
}

