/**
 * HTTP/1.1 upgrades (WebSocket, and any other `Connection: upgrade` + `Upgrade: X`, RFC 9110 §7.8) as
 * tunnels. The request is routed and balanced like any other (proxy.ts sends it here once an endpoint
 * is to be picked) and forwarded with its Upgrade field on a connection of its own. A 101 from the pod
 * is written to the client and the two sockets are joined both ways, with backpressure and half-close;
 * any other answer goes to the client as an ordinary response, and the connection closes after it. A
 * pod that cannot be reached gets the usual 502 and retry rules (proxy.ts). The joined sockets are the
 * process's TunnelRegistry's (idle timeout, endpoint removal, drain).
 *
 * The request itself goes through proxy.ts's one Exchange (balancing, retries, failures, health): this
 * module gives it a connection of its own per attempt (its socket leaves the Client at the 101) and
 * takes over at the 101. An h2c or gRPC backend still gets the upgrade in HTTP/1.1, the only version
 * with Upgrade.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Client as UndiciClient } from 'undici';
import type { Backend, EndpointView } from '../snapshot/types.ts';
import type { TakenConnection } from './client-exchange.ts';
import type { HttpExchange } from './exchange.ts';
import { SERVER_NAME } from './headers.ts';
import type { ProxyContext } from './proxy.ts';
import { connectTls, splitEndpointKey } from './upstream-connect.ts';

// The Client's own module, not the package entry (which loads all of undici): see endpoint-pool.ts.
const Client = createRequire(import.meta.url)('undici/lib/dispatcher/client.js') as typeof UndiciClient;
type Client = UndiciClient;

// Not an ESM import of node:http (see client-exchange.ts).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

/** An exchange whose request asks to switch protocols and whose connection can become a tunnel. */
export interface UpgradeExchange extends HttpExchange {
  /** The Upgrade field's value. */
  readonly upgrade: string;
  /** Writes the 101 head and hands the client's socket over; undefined when the client is gone. */
  takeOver(head: string): TakenConnection | undefined;
}

/** Whether `exchange` asks for an upgrade that can be tunnelled (only an HTTP/1.1 exchange can). */
export function isUpgrade(exchange: HttpExchange): exchange is UpgradeExchange {
  return exchange.upgrade !== undefined;
}

const ALPN_H1 = ['http/1.1'];

/** The connection an upgrade attempt is sent on (undici's Client; its socket leaves it at the 101). */
export type UpgradeClient = Pick<Client, 'dispatch' | 'close' | 'destroy'>;

/**
 * A connection of its own for one upgrade attempt to `endpoint`: plain, or TLS as the backend's
 * upstream protocol says (`kubernetes.io/wss`, `https`: ALPN http/1.1, the certificate checked as
 * upstream-connect.ts does for every TLS backend). proxy.ts dispatches the request on it with its
 * usual handler, retries and failures.
 */
export function openUpgradeClient(ctx: ProxyContext, backend: Backend, endpoint: EndpointView): UpgradeClient {
  const timeout = backend.policy.connectTimeoutMs ?? ctx.tunnels.connectTimeoutMs;
  const upstream = backend.upstream;
  if (upstream.protocol === 'tls') {
    const target = { ...splitEndpointKey(endpoint.key), connectTimeoutMs: timeout, caPem: upstream.caPem, alpn: ALPN_H1 };
    const connect = (_options: unknown, callback: (...args: [null, Socket] | [Error, null]) => void): void =>
      connectTls(target, (err, socket) => (err === null ? callback(null, socket!) : callback(err, null)));
    return new Client(`https://${endpoint.key}`, { pipelining: 1, connect });
  }
  return new Client(`http://${endpoint.key}`, { pipelining: 1, connect: { timeout } });
}

/**
 * The pod answered 101: the client gets the pod's 101 head and its socket is joined to the pod's in
 * the process's TunnelRegistry. A client already gone (or an exchange that cannot be taken over) closes
 * the pod's socket instead.
 */
export function acceptUpgrade(ctx: ProxyContext, client: HttpExchange, clientGone: boolean, endpointKey: string, statusCode: number, rawHeaders: readonly Buffer[], socket: Socket): void {
  const taken = clientGone || !isUpgrade(client) ? undefined : client.takeOver(switchingHead(statusCode, rawHeaders));
  if (taken === undefined) {
    socket.destroy();
    return;
  }
  ctx.tunnels.open(endpointKey, taken, socket);
}



/** Response fields that belong to the pod's connection only; Connection is rewritten, Upgrade kept. */
const HOP_BY_HOP_101 = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'content-length']);

/**
 * The 101 response head for the client: the pod's fields as it sent them (Upgrade, Sec-WebSocket-Accept,
 * Sec-WebSocket-Protocol, Set-Cookie…), without the fields of its own connection, `Connection: upgrade`
 * where the pod's Connection field was, and `server: switchyard` when the pod sent no Server field (as
 * for every response, headers.ts).
 */
export function switchingHead(statusCode: number, raw: readonly Buffer[]): string {
  let named: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toString('latin1').toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1]!.toString('latin1').split(',')) {
      const token = t.trim().toLowerCase();
      if (token !== '' && token !== 'upgrade') (named ??= new Set()).add(token);
    }
  }
  let head = `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Switching Protocols'}\r\n`;
  let connection = false;
  let server = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (lower === 'server') server = true;
    if (lower === 'connection') {
      if (!connection) head += `${name}: upgrade\r\n`;
      connection = true;
      continue;
    }
    if (HOP_BY_HOP_101.has(lower) || named?.has(lower)) continue;
    head += `${name}: ${raw[i + 1]!.toString('latin1')}\r\n`;
  }
  if (!connection) head += 'connection: upgrade\r\n';
  if (!server) head += `server: ${SERVER_NAME}\r\n`;
  return `${head}\r\n`;
}
