/**
 * The accepting side of a listener with `--proxy-protocol`: a plain node:net server that admits only
 * peers in `--trusted-proxies`, reads each connection's PROXY protocol header (proxy-protocol.ts)
 * before anything else — the HTTP/1.1 parse, the HTTP/2 preface check, the TLS handshake — and then
 * hands the socket on with the bytes after the header back in its buffer. A peer outside the trusted
 * blocks, or a connection without a complete valid header within the client header timeout, is
 * destroyed with nothing written (the spec: "abort the connection", never answer in a protocol the
 * sender may not be speaking).
 *
 * A TLS listener's header precedes the ClientHello, so its TLS server never listens: it is given each
 * socket after the header (`emit('connection')`, as node:http2's server is in h2-sessions.ts), and the
 * TLS socket it makes takes the client address over (adoptTlsClientAddress).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.ts';
import type { EdgePolicy } from './edge-policy.ts';
import { clientAddress, clientPort, parseProxyHeader, setClientAddress, type ProxiedEndpoint } from './proxy-protocol.ts';
import { isTrustedProxy } from './trusted-proxies.ts';

export interface ProxyProtocolServerOptions {
  /** Its trustedProxies are the peers admitted. */
  readonly policy: EdgePolicy;
  /** The whole header must arrive within this long of the accept, ms (--client-header-timeout). */
  readonly headerTimeoutMs: number;
  readonly log: Logger;
}

function ignore(): void {}

/**
 * A server whose connections reach `next` only after a valid PROXY protocol header, paused, with the
 * bytes that followed the header unread in their buffer.
 */
export function createProxyProtocolServer(options: ProxyProtocolServerOptions, next: (socket: Socket) => void): Server {
  const { policy, headerTimeoutMs, log } = options;
  // allowHalfOpen: a client that ends its side after sending a request still gets the answer.
  return createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    // Resets while the header is read, and any later error of a socket the TLS server wraps: 'close' follows.
    socket.on('error', ignore);
    const peer = socket.remoteAddress ?? '';
    if (!isTrustedProxy(policy, peer)) {
      socket.destroy();
      log.debug({ peer }, 'connection closed: peer is not a trusted proxy (--trusted-proxies)');
      return;
    }
    readProxyHeader(socket, headerTimeoutMs, next, (reason) => log.debug({ peer, reason }, 'connection closed: no valid PROXY protocol header'));
  });
}

/** Reads the header off `socket`, then calls `next`; on anything else destroys the socket and tells `refused` why. */
function readProxyHeader(socket: Socket, timeoutMs: number, next: (socket: Socket) => void, refused: (reason: string) => void): void {
  let bytes: Buffer | undefined;
  const stop = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', stop);
  };
  const refuse = (reason: string): void => {
    stop();
    socket.destroy();
    refused(reason);
  };
  const onData = (chunk: Buffer): void => {
    bytes = bytes === undefined ? chunk : Buffer.concat([bytes, chunk]);
    const header = parseProxyHeader(bytes);
    if (header.kind === 'incomplete') return;
    if (header.kind === 'invalid') return refuse(header.reason);
    stop();
    socket.pause();
    if (header.source !== undefined) setClientAddress(socket, header.source);
    if (bytes.length > header.length) socket.unshift(bytes.subarray(header.length));
    next(socket);
  };
  const onEnd = (): void => refuse('the connection ended before its header was complete');
  const timer = setTimeout(refuse, timeoutMs, 'no complete header in time');
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', stop);
}

// --- handing sockets to a TLS server ----------------------------------------------------------------

interface Awaiting {
  readonly source: ProxiedEndpoint;
}

/**
 * Client addresses of sockets given to a TLS server, by TCP 4-tuple, until the TLS socket made from
 * each is secure. node:tls exposes no public link from a TLS socket to the socket it wraps, but both
 * report the same endpoints, and a 4-tuple names one open connection. An entry leaves when its TLS
 * socket takes it, or when the connection closes (a failed handshake).
 */
const awaitingTls = new Map<string, Awaiting>();

function tupleOf(socket: Socket): string {
  return `${socket.localAddress} ${socket.localPort} ${socket.remoteAddress} ${socket.remotePort}`;
}

/** Gives `socket` (its header read) to `tlsServer` for the handshake, keeping its client address for the TLS socket. */
export function handToTls(socket: Socket, tlsServer: Server): void {
  const address = clientAddress(socket);
  if (address !== socket.remoteAddress) {
    const key = tupleOf(socket);
    const entry: Awaiting = { source: { address, port: clientPort(socket) } };
    awaitingTls.set(key, entry);
    socket.once('close', () => {
      if (awaitingTls.get(key) === entry) awaitingTls.delete(key);
    });
  }
  tlsServer.emit('connection', socket);
}

/** Called with each secure TLS socket of a TLS server fed by handToTls: it takes over its connection's client address. */
export function adoptTlsClientAddress(tlsSocket: Socket): void {
  if (awaitingTls.size === 0) return;
  const key = tupleOf(tlsSocket);
  const entry = awaitingTls.get(key);
  if (entry === undefined) return;
  awaitingTls.delete(key);
  setClientAddress(tlsSocket, entry.source);
}
