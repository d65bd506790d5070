/**
 * The DNS listener: UDP and TCP on one port, each message answered from the holder's current snapshot
 * (wire.ts → records.ts). Nothing here logs per query above debug.
 *
 * TCP (RFC 7766): 2-byte length framing, several queries per connection and partial reads handled, answers in
 * order; a connection idle for `tcpIdleTimeoutMs` is closed, as is one whose client stops reading.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type AddressInfo, type Server, type Socket } from 'node:net';
import { ErrorCode, SwyError } from '../errors.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { DEFAULT_TTL_SECONDS } from './records.ts';
import { DEFAULT_MAX_UDP_PAYLOAD, respond, type WireOptions, type WireResponse } from './wire.ts';
import { zoneIndex } from './zone-index.ts';

/** The logger methods the listener uses; the root pino `Logger` (log.ts) fits, and so does a test double. */
export interface DnsLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DnsServerOptions {
  /** Where the current snapshot is read, once per message. */
  readonly holder: Pick<SnapshotHolder, 'current' | 'onSwap'>;
  /** Address to bind; default `127.0.0.1`. */
  readonly host?: string;
  /** Port for both UDP and TCP; default 0: a free port, the same for both. */
  readonly port?: number;
  /** TTL of every record and the SOA minimum, seconds; default 5. */
  readonly ttlSeconds?: number;
  /** Largest UDP response, whatever a client's EDNS0 OPT advertises; default 1232. */
  readonly maxUdpPayload?: number;
  /** A TCP connection without a message for this long is closed; default 10 000 ms. */
  readonly tcpIdleTimeoutMs?: number;
  /** Open TCP connections at most; default 256. */
  readonly maxTcpConnections?: number;
  readonly log?: DnsLogger;
}

export interface DnsServer {
  readonly udpAddress: AddressInfo;
  readonly tcpAddress: AddressInfo;
  /** Messages answered since start by response code (NOERROR, NXDOMAIN, REFUSED, …), and `dropped` ones (not answered). */
  queries(): Readonly<Record<string, number>>;
  /** Stops both listeners and closes open TCP connections. Safe to call more than once. */
  close(): Promise<void>;
}

/** Response code names (RFC 1035, RFC 2136). */
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/** Attempts at finding a port free for both TCP and UDP when asked for port 0. */
const BIND_ATTEMPTS = 5;
/** Bytes of answers queued to a TCP client that does not read before the connection is dropped. */
const MAX_QUEUED_BYTES = 1 << 20;
const NO_BYTES: Buffer = Buffer.alloc(0);

/** Binds TCP (first, on the requested port) and UDP (on the port TCP got) and starts answering. */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const { holder, log } = options;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const idleMs = options.tcpIdleTimeoutMs ?? 10_000;
  const maxUdpPayload = options.maxUdpPayload ?? DEFAULT_MAX_UDP_PAYLOAD;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`dns port must be 0–65535, got ${port}`);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0) throw new RangeError(`dns TTL must be a whole number of seconds ≥ 0, got ${ttlSeconds}`);

  const udpOptions: WireOptions = { ttlSeconds, transport: 'udp', maxUdpPayload };
  const tcpOptions: WireOptions = { ttlSeconds, transport: 'tcp', maxUdpPayload };
  const connections = new Set<Socket>();
  let closing = false;

  // Indexed by the 4-bit response code of each answer (RFC 1035 §4.1.1); one more slot for dropped messages.
  const answered = new Array<number>(17).fill(0);
  const debug = (res: WireResponse, transport: string, from: string | undefined): void => {
    answered[res.bytes === undefined ? 16 : res.bytes[3]! & 0x0f]!++;
    if (res.problem !== undefined) log?.debug({ problem: res.problem, transport, from }, 'dns message not answered normally');
  };

  const onConnection = (socket: Socket): void => {
    if (closing) {
      socket.destroy();
      return;
    }
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy()); // resets and timeouts are the client's business
    socket.setNoDelay(true);
    socket.setTimeout(idleMs, () => socket.destroy());
    let pending: Buffer = NO_BYTES;
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        const res = respond(message, holder.current(), tcpOptions);
        debug(res, 'tcp', socket.remoteAddress);
        if (res.bytes === undefined) continue;
        const frame = Buffer.allocUnsafe(2 + res.bytes.length);
        frame.writeUInt16BE(res.bytes.length, 0);
        res.bytes.copy(frame, 2);
        socket.write(frame);
        if (socket.writableLength > MAX_QUEUED_BYTES) {
          socket.destroy();
          return;
        }
      }
    });
  };

  const onMessage = (udp: UdpSocket, message: Buffer, from: { address: string; port: number }): void => {
    const res = respond(message, holder.current(), udpOptions);
    debug(res, 'udp', from.address);
    if (res.bytes === undefined) return;
    udp.send(res.bytes, from.port, from.address, (err) => {
      if (err) log?.debug({ err, to: from.address }, 'dns udp answer not sent');
    });
  };

  const { tcp, udp } = await bindBoth(host, port, onConnection, onMessage);
  tcp.maxConnections = options.maxTcpConnections ?? 256;
  tcp.on('error', (err) => log?.error({ err }, 'dns tcp listener error'));
  udp.on('error', (err) => log?.error({ err }, 'dns udp socket error'));

  // Build the zone index off the query path: now, and after each swap.
  zoneIndex(holder.current());
  let warming: NodeJS.Immediate | undefined;
  const unsubscribe = holder.onSwap((next) => {
    if (warming) clearImmediate(warming);
    warming = setImmediate(() => {
      warming = undefined;
      zoneIndex(next);
    });
  });

  const udpAddress = udp.address();
  const tcpAddress = tcp.address() as AddressInfo;
  log?.info({ udp: udpAddress, tcp: tcpAddress, ttlSeconds }, 'dns listening');

  let closed: Promise<void> | undefined;
  return {
    udpAddress,
    tcpAddress,
    queries() {
      const out: Record<string, number> = {};
      answered.forEach((n, code) => {
        if (n > 0) out[code === 16 ? 'dropped' : (RCODE_NAMES[code] ?? String(code))] = n;
      });
      return out;
    },
    close(): Promise<void> {
      closed ??= (async () => {
        closing = true;
        unsubscribe();
        if (warming) clearImmediate(warming);
        for (const socket of connections) socket.destroy();
        await Promise.all([new Promise<void>((resolve) => tcp.close(() => resolve())), new Promise<void>((resolve) => udp.close(() => resolve()))]);
      })();
      return closed;
    },
  };
}

type OnMessage = (udp: UdpSocket, message: Buffer, from: { address: string; port: number }) => void;

async function bindBoth(host: string, port: number, onConnection: (s: Socket) => void, onMessage: OnMessage): Promise<{ tcp: Server; udp: UdpSocket }> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= BIND_ATTEMPTS; attempt++) {
    const tcp = createServer(onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host, port }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw listenFailed(`dns: cannot listen on tcp ${host}:${port}`, err);
    }
    const tcpPort = (tcp.address() as AddressInfo).port;
    const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    udp.on('message', (message, rinfo) => onMessage(udp, message, rinfo));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address: host, port: tcpPort, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      return { tcp, udp };
    } catch (err) {
      lastError = err;
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      try {
        udp.close();
      } catch {
        // never bound: nothing to close
      }
      // Another process holds UDP on the port TCP got; with port 0, try another port.
      if (port !== 0 || (err as { code?: unknown }).code !== 'EADDRINUSE') break;
    }
  }
  throw listenFailed(`dns: cannot bind udp ${host}:${port}`, lastError);
}

function listenFailed(message: string, cause: unknown): SwyError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return new SwyError(ErrorCode.LISTEN_FAILED, typeof code === 'string' ? `${message}: ${code}` : message, { cause });
}
