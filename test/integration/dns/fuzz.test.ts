/**
 * 10 000 random and mutated messages (seeded, so a failure replays) over UDP, and more over TCP, must leave
 * the server answering a valid query correctly. Bounded: sent in batches, the whole test within its timeout.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { StringAnswer } from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from '../../../src/dns/server.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import { TcpDnsClient, udpExchange } from '../../fixtures/dns/clients.ts';
import { decode, frame, fuzzMessages, prng, query } from '../../fixtures/dns/packets.ts';
import { CLUSTER_YAML, manyEndpointsYaml, snapshotFromYaml } from '../../fixtures/dns/snapshots.ts';

const SEED = 20240611;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const SEEDS = [
  query('web.shop.svc.cluster.local', 'A'),
  query('_pg._tcp.db.shop.svc.cluster.local', 'SRV', { edns: { udpPayloadSize: 4096 } }),
  query('many.big.svc.cluster.local', 'A'),
  query('10.0.96.10.in-addr.arpa', 'PTR'),
  query('ext.shop.svc.cluster.local', 'AAAA', { edns: { udpPayloadSize: 1232, ednsVersion: 1 } }),
  query('example.com', 'ANY'),
];

async function start(): Promise<DnsServer> {
  const holder = new SnapshotHolder(snapshotFromYaml(`${CLUSTER_YAML}\n---\n${manyEndpointsYaml(60)}`));
  const server = await startDnsServer({ holder, host: '127.0.0.1', port: 0 });
  closers.push(() => server.close());
  return server;
}

/** UDP is lossy, and the fuzz may still fill the server's receive buffer: ask again, as a client would. */
async function udpAsk(port: number, message: Buffer): Promise<Buffer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await udpExchange(port, message, 500);
    } catch (err) {
      if (attempt === 5) throw err;
    }
  }
}

async function stillAnswers(server: DnsServer): Promise<void> {
  const udp = decode(await udpAsk(server.udpAddress.port, query('web.shop.svc.cluster.local', 'A', { id: 31337 })));
  expect(udp.id).toBe(31337);
  expect(udp.answers?.map((a) => (a as StringAnswer).data)).toEqual(['10.96.0.10']);
  const client = await TcpDnsClient.open(server.tcpAddress.port);
  closers.push(() => client.close());
  client.write(frame(query('dual.shop.svc.cluster.local', 'AAAA', { id: 4711 })));
  const [tcp] = await client.read(1);
  expect(tcp!.id).toBe(4711);
  expect(tcp!.answers?.map((a) => (a as StringAnswer).data)).toEqual(['fd00::11']);
}

describe('fuzzing', () => {
  it('survives 10 000 random and mutated datagrams over UDP', { timeout: 20_000 }, async () => {
    const server = await start();
    const socket: UdpSocket = createSocket('udp4');
    closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    let replies = 0;
    socket.on('message', () => replies++);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const messages = fuzzMessages(SEED, 10_000, SEEDS);
    // libuv reads at most 32 datagrams per loop turn: send fewer per turn so the kernel buffer rarely overflows.
    for (let i = 0; i < messages.length; i += 20) {
      await Promise.all(
        messages.slice(i, i + 20).map((m) => new Promise<void>((resolve) => socket.send(m, server.udpAddress.port, '127.0.0.1', () => resolve()))),
      );
      await new Promise((r) => setImmediate(r));
    }
    await stillAnswers(server);
    expect(replies).toBeGreaterThan(5000); // a malformed message with a header gets FORMERR, not silence
  });

  it('survives mutated messages and broken framing over TCP', { timeout: 20_000 }, async () => {
    const server = await start();
    const rand = prng(SEED + 1);
    // Framed mutated messages over a few connections.
    const messages = fuzzMessages(SEED + 2, 1500, SEEDS);
    for (let c = 0; c < 5; c++) {
      const client = await TcpDnsClient.open(server.tcpAddress.port);
      closers.push(() => client.close());
      client.write(Buffer.concat(messages.slice(c * 300, (c + 1) * 300).map(frame)));
    }
    // Raw random bytes, framing and all, on short-lived connections.
    for (let c = 0; c < 20; c++) {
      const bytes = Buffer.alloc(1 + Math.floor(rand() * 2000));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      await new Promise<void>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: server.tcpAddress.port }, () => socket.end(bytes));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.resume();
      });
    }
    await stillAnswers(server);
  });
});
