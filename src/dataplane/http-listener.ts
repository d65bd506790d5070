/**
 * What every proxying HTTP listener shares: client limits (header size, slowloris timeouts), answers
 * for requests the parser rejects, CONNECT refused (never a tunnel), in-flight counting and draining.
 * The listeners differ only in how they route a request (ingress-listener.ts, service-listener.ts).
 *
 * HTTP/1.1 is served on plain `node:net` sockets with Node's own parser (client-connection.ts), not
 * through node:http's server: its per-request stream objects cost more CPU than the proxying (README,
 * Performance). Timeouts are one sweep per listener over its connections, as node:http does.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.ts';
import { ClientConnection, type ConnectionHost } from './client-connection.ts';
import type { ClientExchange } from './client-exchange.ts';

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

/**
 * An HTTP listener that hands each request to `route`, which must answer it. `counts` gets one
 * increment per response, at the index of its status class (0 when the connection was cut first).
 */
export function createHttpListener(limits: ClientLimits, log: Logger, counts: number[], route: (exchange: ClientExchange) => void): Listener {
  let inFlight = 0;
  let draining = false;
  const connections = new Set<ClientConnection>();
  const host: ConnectionHost = {
    maxHeaderSize: limits.maxHeaderSize,
    scheme: 'http',
    get draining() {
      return draining;
    },
    serve(exchange) {
      inFlight++;
      route(exchange);
    },
    done(exchange, finished) {
      inFlight--;
      const statusClass = finished ? Math.floor(exchange.statusCode / 100) : 0;
      counts[statusClass > 0 && statusClass < 6 ? statusClass : 0]!++;
    },
    // Smuggling-shaped framing, invalid headers, oversized heads, slow clients: answered without reaching `route`.
    rejected(code, reason) {
      log.debug({ code, reason }, 'rejected malformed request');
    },
    closed(connection) {
      connections.delete(connection);
    },
  };

  // allowHalfOpen: a client that ends its side after sending a request still gets the answer.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    connections.add(new ClientConnection(socket, host));
  });

  // The same period node:http uses for these checks (at most 1 s, at most the header timeout).
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const c of connections) c.check(now, limits.headerTimeoutMs, limits.requestTimeoutMs, limits.keepAliveTimeoutMs);
    },
    Math.min(1000, limits.headerTimeoutMs),
  );
  sweep.unref();
  server.once('close', () => clearInterval(sweep));

  return {
    server,
    inFlight: () => inFlight,
    drain(timeoutMs) {
      draining = true;
      return drainServer(server, connections, timeoutMs, () => inFlight);
    },
  };
}

/** Stop accepting, close keep-alive connections as they go idle, cut what is left at the deadline. */
function drainServer(server: Server, connections: ReadonlySet<ClientConnection>, timeoutMs: number, inFlight: () => number): Promise<{ cut: number }> {
  return new Promise((resolve) => {
    let cut = 0;
    // While draining, a connection closes after its current response; idle ones close now.
    const closeIdle = (): void => {
      for (const c of connections) c.closeIfIdle();
    };
    const sweep = setInterval(closeIdle, 50);
    const deadline = setTimeout(() => {
      cut = inFlight();
      for (const c of connections) c.socket.destroy();
    }, timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve({ cut });
    });
    closeIdle();
  });
}
