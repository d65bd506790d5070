/**
 * The edge listener: Ingress host/path rules → round-robin over ready endpoints → forward.
 * It never routes by Service name: only Ingress rules expose a Service to the edge.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { matchRoute, normalizeHost } from './match.ts';
import { parseTarget } from './path.ts';
import { proxyRequest, type ProxyContext } from './proxy.ts';
import { rawParserFailure, sendFailure } from './status.ts';

/** Server-side limits against slow or oversized clients. */
export interface ClientLimits {
  /** Largest request head accepted before 431, bytes. */
  readonly maxHeaderSize: number;
  /** Time a client has to send the complete request head (slowloris), ms. */
  readonly headerTimeoutMs: number;
  /** Time a client has to send the complete request, body included, ms. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive client connection stays open, ms. */
  readonly keepAliveTimeoutMs: number;
}

export interface IngressListenerOptions {
  readonly holder: SnapshotHolder;
  readonly proxy: ProxyContext;
  readonly log: Logger;
  readonly limits: ClientLimits;
}

export interface Listener {
  readonly server: Server;
  /** Requests being served right now. */
  inFlight(): number;
  /**
   * Stops accepting, lets in-flight requests finish (closing each connection after its response),
   * and after `timeoutMs` cuts whatever is left. Resolves when every connection is closed.
   */
  drain(timeoutMs: number): Promise<{ cut: number }>;
}

export function createIngressListener(options: IngressListenerOptions): Listener {
  const { holder, proxy, log } = options;
  let inFlight = 0;
  let draining = false;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    res.once('close', () => inFlight--);
    if (draining) res.shouldKeepAlive = false;

    const target = parseTarget(req.url ?? '/');
    const snapshot = holder.current();
    if (!target) return sendFailure(res, ErrorCode.NO_ROUTE);
    const hostHeader = target.host ?? req.headers.host;
    const route = matchRoute(snapshot.routes, normalizeHost(hostHeader), target.path);
    if (!route) return sendFailure(res, ErrorCode.NO_ROUTE);
    const backend = route.backend === undefined ? undefined : snapshot.backends.get(route.backend);
    if (!backend) return sendFailure(res, ErrorCode.UNKNOWN_SERVICE);
    const headers = upstreamRequestHeaders(req, { proto: 'http', port: req.socket.localPort ?? 0 }, target.host);
    proxyRequest(proxy, req, res, backend, target.pathAndQuery, headers);
  };

  const server = createClientServer(options.limits, onRequest);

  // Requests the parser rejects (smuggling-shaped framing, invalid headers, oversized heads) never reach a handler.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    log.debug({ code: err.code, reason: (err as { reason?: string }).reason }, 'rejected malformed request');
    socket.end(rawParserFailure(err.code));
  });

  // CONNECT would turn Switchyard into a tunnel: refused.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 19\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nx-switchyard-error: connect-not-allowed\r\nconnection: close\r\n\r\nCONNECT not allowed\n');
  });

  return {
    server,
    inFlight: () => inFlight,
    drain: (timeoutMs) => drainServer(server, timeoutMs, () => {
      draining = true;
    }, () => inFlight),
  };
}

/** An HTTP server with the client limits applied; shared by every proxying listener. */
export function createClientServer(limits: ClientLimits, onRequest: (req: IncomingMessage, res: ServerResponse) => void): Server {
  return createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headerTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above on this period (default 30 s, far coarser than the timeouts).
      connectionsCheckingInterval: Math.min(1000, limits.headerTimeoutMs),
    },
    onRequest,
  );
}

/** Shared by every HTTP listener: stop accepting, close idle keep-alive connections as they go idle, cut at the deadline. */
export function drainServer(server: Server, timeoutMs: number, markDraining: () => void, inFlight: () => number): Promise<{ cut: number }> {
  markDraining();
  return new Promise((resolve) => {
    let done = false;
    let cut = 0;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve({ cut });
    };
    server.close(() => finish());
    // A keep-alive connection becomes idle when its last response is written; close it then.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      cut = inFlight();
      server.closeAllConnections();
    }, timeoutMs);
    server.closeIdleConnections();
  });
}
