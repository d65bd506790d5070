/**
 * What every proxying HTTP listener shares: client limits (header size, slowloris timeouts), answers
 * for requests the parser rejects, CONNECT refused (never a tunnel), in-flight counting and draining.
 * The listeners differ only in how they route a request (ingress-listener.ts, service-listener.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log.ts';
import { rawParserFailure } from './status.ts';

// Not `import { createServer } from 'node:http'`: building node:http's ESM namespace reads its lazy
// WebSocket/CloseEvent/MessageEvent exports, which loads Node's bundled undici (fetch, WebSocket): about
// 2.5 MB of RSS per process (measured idle, 10 routes) for nothing the proxy uses. getBuiltinModule
// returns the CommonJS exports as they are. test/architecture/imports.test.ts keeps it that way.
const { createServer } = process.getBuiltinModule('node:http');

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

const CONNECT_REFUSED =
  'HTTP/1.1 405 Method Not Allowed\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 20\r\n' +
  'allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nx-switchyard-error: connect-not-allowed\r\nconnection: close\r\n\r\nCONNECT not allowed\n';

/**
 * An HTTP listener that hands each request to `route`, which must answer it. `counts` gets one
 * increment per response, at the index of its status class (0 when the connection was cut first).
 */
export function createHttpListener(
  limits: ClientLimits,
  log: Logger,
  counts: number[],
  route: (req: IncomingMessage, res: ServerResponse) => void,
): Listener {
  let inFlight = 0;
  let draining = false;
  function onClose(this: ServerResponse): void {
    inFlight--;
    const statusClass = this.writableFinished ? Math.floor(this.statusCode / 100) : 0;
    counts[statusClass > 0 && statusClass < 6 ? statusClass : 0]!++;
  }

  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headerTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above on this period (default 30 s, far coarser than the timeouts).
      connectionsCheckingInterval: Math.min(1000, limits.headerTimeoutMs),
    },
    (req, res) => {
      inFlight++;
      res.once('close', onClose);
      if (draining) res.shouldKeepAlive = false;
      route(req, res);
    },
  );

  // Requests the parser rejects (smuggling-shaped framing, invalid headers, oversized heads, slow clients) never reach `route`.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    log.debug({ code: err.code, reason: (err as { reason?: string }).reason }, 'rejected malformed request');
    socket.end(rawParserFailure(err.code));
  });

  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.end(CONNECT_REFUSED);
  });

  return {
    server,
    inFlight: () => inFlight,
    drain(timeoutMs) {
      draining = true;
      return drainServer(server, timeoutMs, () => inFlight);
    },
  };
}

/** Stop accepting, close keep-alive connections as they go idle, cut what is left at the deadline. */
function drainServer(server: Server, timeoutMs: number, inFlight: () => number): Promise<{ cut: number }> {
  return new Promise((resolve) => {
    let cut = 0;
    // A keep-alive connection becomes idle when its last response is written; close it then.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      cut = inFlight();
      server.closeAllConnections();
    }, timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve({ cut });
    });
    server.closeIdleConnections();
  });
}
