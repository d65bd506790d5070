/**
 * The HTTP/1.1 fallback: node:http's public server serves a listener's HTTP/1.1 connections when Node's
 * llhttp binding (llhttp.ts, reached through `_http_common`, deprecated by DEP0199) is missing or
 * `--http1-server node` is given. The server never listens: the listener's net or TLS server accepts,
 * and each HTTP/1.1 socket is handed over with `emit('connection', socket)`, as node:http documents.
 *
 * It answers what client-connection.ts answers, with the same bytes where Switchyard writes them
 * (status.ts): parse errors, oversized heads (431), slow clients (408, node:http's header, request and
 * keep-alive timeouts), the head checks of request-checks.ts (Host, Transfer-Encoding), an Expect other
 * than 100-continue (417), CONNECT (405), and
 * a plaintext connection opening with the HTTP/2 preface goes to HTTP/2. Framing and pipelining are
 * node:http's (pipelined requests are forwarded at once, answered in order).
 */
import type { ClientLimits } from './http-listener.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log.ts';
import type { HttpExchange } from './exchange.ts';
import { NodeExchange } from './node-http-exchange.ts';
import { peekPreface } from './node-http-preface.ts';
import { tunnellable, UpgradeConnection } from './node-http-upgrade.ts';
import { checkRequestHead, type HeadFields } from './request-checks.ts';
import { clientFailureResponse, rawClientFailure } from './status.ts';

/** An HTTP/1.1 server implementation (`--http1-server`). */
export type Http1ServerKind = 'llhttp' | 'node';

/**
 * The server a listener runs: `wanted`, except llhttp on a Node without the binding, which falls back
 * to node (`fellBack`: say so once).
 */
export function selectHttp1Server(wanted: Http1ServerKind, llhttpAvailable: boolean): { readonly kind: Http1ServerKind; readonly fellBack: boolean } {
  return wanted === 'llhttp' && !llhttpAvailable ? { kind: 'node', fellBack: true } : { kind: wanted, fellBack: false };
}

let warned = false;

/** Logs the fallback once per process (every listener of a process falls back alike). */
export function warnHttp1Fallback(log: Logger): void {
  if (warned) return;
  warned = true;
  log.warn({ node: process.version }, "this Node.js does not expose the llhttp binding (_http_common, DEP0199): HTTP/1.1 is served by node:http, as with '--http1-server node'");
}

/** What the server needs from its listener (a subset of client-connection.ts's ConnectionHost). */
export interface NodeHttpHost {
  readonly draining: boolean;
  readonly scheme: 'http' | 'https';
  /** Takes over a plaintext connection that opens with the HTTP/2 preface (its bytes back in the socket); undefined: HTTP/1.1 only. */
  readonly http2: ((socket: Socket) => void) | undefined;
  serve(exchange: HttpExchange): void;
  done(exchange: HttpExchange, finished: boolean): void;
  rejected(code: string, reason: string | undefined, socket: Socket): void;
}

/** The listener's client limits but the connection cap (net applies that at accept). */
export type NodeHttpLimits = Omit<ClientLimits, 'maxConnections'>;

export interface NodeHttpServer {
  /** Serves an accepted socket (plain, or TLS after an http/1.1 or no ALPN). */
  accept(socket: Socket): void;
  /** Closes connections that sit between requests (drain). */
  closeIdle(): void;
  /** Cuts every connection (the drain deadline). */
  destroyAll(): void;
  /** Stops the timeout checks; call once the listener closed. */
  close(): void;
}

/** Served exchanges of one connection, not yet counted done. */
type Open = Set<NodeExchange | UpgradeConnection>;

/** A node:http server fed by a listener's accepted sockets. */
export function createNodeHttpServer(host: NodeHttpHost, limits: NodeHttpLimits): NodeHttpServer {
  const { createServer } = process.getBuiltinModule('node:http');
  const open = new Map<Socket, Open>();
  /** Sockets being ended after a refusal: nothing more is served or answered on them. */
  const closing = new WeakSet<Socket>();
  /** Plaintext sockets whose first bytes are being looked at (h2c), not yet node:http's. */
  const peeking = new Set<Socket>();
  const server = createServer({
    maxHeaderSize: limits.maxHeaderSize > 0 ? limits.maxHeaderSize : undefined,
    // Answered here with Switchyard's own 400 (x-switchyard-error: missing-host).
    requireHostHeader: false,
    headersTimeout: Math.min(limits.headerTimeoutMs, limits.requestTimeoutMs),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // The period the llhttp path's sweep uses (node:http's default is 30 s).
    connectionsCheckingInterval: Math.min(1000, limits.headerTimeoutMs),
    shouldUpgradeCallback: tunnellable,
  });
  // A client that ends its side after its request still gets the answer (the connection closes after
  // it), as on the llhttp path; node:http's default aborts the request. The property is not in its docs
  // (nor in @types/node) but has been the switch since Node 0.x; the half-close test guards it.
  (server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  // node:http starts its header and request timeout checks (and the connection list closeIdleConnections
  // reads) on 'listening'; this server never listens, its sockets come from the listener.
  server.emit('listening');

  const owner = {
    get draining() {
      return host.draining;
    },
    scheme: host.scheme,
    done(exchange: NodeExchange | UpgradeConnection, finished: boolean): void {
      open.get(exchange.socket)?.delete(exchange);
      host.done(exchange instanceof UpgradeConnection ? exchange.exchange : exchange, finished);
    },
    close: (socket: Socket) => closeWith(socket, undefined),
    linger(exchange: NodeExchange): void {
      lingering.add(exchange);
    },
  };

  // What node:http does not time: a pause inside a request body (408) and the lingering read after an
  // early answer. One sweep per server, at the period of node:http's own checks.
  const lingering = new Set<NodeExchange>();
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const [socket, served] of open) {
        for (const exchange of served) {
          if (exchange instanceof NodeExchange && exchange.bodyStalled(now, limits.bodyTimeoutMs)) {
            refuseOn(socket, 'BODY_TIMEOUT', undefined);
            break;
          }
        }
      }
      for (const exchange of lingering) {
        const out = exchange.lingeredOut(now, limits.lingeringTimeoutMs);
        if (out === false) continue;
        lingering.delete(exchange);
        // The answer is delivered; what the client still sends is not read any more.
        if (out) exchange.socket.end(() => exchange.socket.destroy());
      }
    },
    Math.min(1000, limits.headerTimeoutMs),
  );
  sweep.unref();

  /** Ends `socket` after `last`; a client that does not close its side within the header timeout is cut. */
  function closeWith(socket: Socket, last: string | undefined): void {
    if (closing.has(socket)) return;
    closing.add(socket);
    const timer = setTimeout(() => socket.destroy(), limits.headerTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    if (last === undefined) socket.end();
    else socket.end(last, 'latin1');
    // Keep reading (and dropping) so the client's close is seen.
    socket.resume();
  }

  /** A request refused before routing: its answer, then the connection closes; neither in flight nor counted. */
  function refuse(res: ServerResponse, code: string): void {
    host.rejected(code, undefined, res.socket as Socket);
    // node:http closes the connection after this answer; requests pipelined behind it are not served.
    closing.add(res.socket as Socket);
    const failure = clientFailureResponse(code);
    res.sendDate = false;
    res.writeHead(failure.status, [...failure.headers, 'connection', 'close']);
    res.end(failure.body);
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (closing.has(req.socket)) return;
    const exchange = new NodeExchange(owner, req, res);
    const refusal = refusalOf(exchange);
    if (refusal !== undefined) return refuse(res, refusal);
    open.get(req.socket)?.add(exchange);
    res.once('finish', () => exchange.finished());
    res.once('close', () => exchange.gone());
    host.serve(exchange);
  };
  server.on('request', onRequest);
  // Both are decided by the exchange itself (100 Continue when the body is first read, 417 otherwise).
  server.on('checkContinue', onRequest);
  server.on('checkExpectation', onRequest);

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const served = open.get(socket);
    if (served === undefined || closing.has(socket)) return void socket.destroy();
    const connection = new UpgradeConnection(owner, req, socket, head);
    const exchange = connection.exchange;
    const refusal = refusalOf(exchange);
    if (refusal !== undefined) {
      host.rejected(refusal, undefined, socket);
      return closeWith(socket, rawClientFailure(refusal));
    }
    // Without shouldUpgradeCallback (Node before 24.9) every upgrade arrives here; a body would be beyond node:http's parser.
    if (exchange.upgrade === undefined && exchange.hasBody) return closeWith(socket, rawClientFailure(undefined));
    served.add(connection);
    connection.start();
    host.serve(exchange);
  });

  // Never a tunnel. Pipelined behind a response still being written, the refusal cannot go out first: cut.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    if (busy(open.get(socket))) socket.destroy();
    else closeWith(socket, rawClientFailure('CONNECT_NOT_ALLOWED'));
  });

  server.on('clientError', (err: Error & { code?: string; reason?: string }, socket: Socket) => {
    if (closing.has(socket)) return;
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    refuseOn(socket, err.code ?? 'HPE_UNKNOWN', err.reason);
  });

  /** A connection refused mid-way (a parse error, a timeout): a short answer when nothing else is being written, then close. */
  function refuseOn(socket: Socket, code: string, reason: string | undefined): void {
    if (closing.has(socket)) return;
    host.rejected(code, reason, socket);
    const served = open.get(socket);
    if (busy(served)) return void socket.destroy();
    // Whatever is served or waiting on this connection will never be answered.
    if (served !== undefined) for (const exchange of [...served]) (exchange instanceof UpgradeConnection ? exchange.exchange : exchange).gone();
    closeWith(socket, rawClientFailure(code));
  }

  function serveHttp1(socket: Socket): void {
    open.set(socket, new Set());
    socket.once('close', () => {
      const served = open.get(socket);
      open.delete(socket);
      if (served !== undefined) for (const exchange of [...served]) if (exchange instanceof NodeExchange) exchange.gone();
    });
    server.emit('connection', socket);
    // A socket paused while its first bytes were looked at (h2c below) starts reading again.
    socket.resume();
  }

  return {
    accept(socket) {
      const http2 = host.http2;
      if (http2 === undefined) return serveHttp1(socket);
      peeking.add(socket);
      socket.once('close', () => peeking.delete(socket));
      const decide = (preface: boolean): void => {
        peeking.delete(socket);
        if (preface) http2(socket);
        else serveHttp1(socket);
      };
      peekPreface(socket, limits.headerTimeoutMs, decide, (silent) => closeWith(silent, rawClientFailure('ERR_HTTP_REQUEST_TIMEOUT')));
    },
    closeIdle() {
      server.closeIdleConnections();
      // Nothing sent yet: idle too.
      for (const socket of peeking) socket.destroy();
    },
    destroyAll() {
      for (const socket of open.keys()) socket.destroy();
      for (const socket of peeking) socket.destroy();
    },
    close() {
      clearInterval(sweep);
      server.close();
    },
  };
}

/** The checks client-connection.ts makes before a request is served (request-checks.ts, then Expect). */
function refusalOf(exchange: HttpExchange & { readonly versionMinor: number; readonly head: HeadFields }): string | undefined {
  return checkRequestHead(exchange.head, exchange.versionMinor, exchange.url);
}

/** A response is being written on this connection: a refusal written now would land inside it. */
function busy(served: Open | undefined): boolean {
  if (served === undefined) return false;
  for (const exchange of served) if (exchange instanceof NodeExchange ? exchange.midResponse : exchange.exchange.headersSent) return true;
  return false;
}
