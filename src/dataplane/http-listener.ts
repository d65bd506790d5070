/**
 * What every proxying HTTP listener shares: client limits (header size, slowloris timeouts), answers
 * for requests the parser rejects, CONNECT refused (never a tunnel), in-flight counting and draining.
 * The listeners differ only in how they route a request (ingress-listener.ts, service-listener.ts).
 *
 * HTTP/1.1 is served on plain `node:net` sockets with Node's own parser (client-connection.ts), not
 * through node:http's server: its per-request stream objects cost more CPU than the proxying
 * (docs/performance.md, Performance notes). Timeouts are one sweep per listener over its connections, as node:http does.
 * With `--http1-server node`, or on a Node without that parser's binding, node:http serves them instead
 * (node-http-server.ts).
 *
 * TLS and HTTP/2 are options of the same listener: a TLS listener hands each connection, after the
 * handshake, to HTTP/1.1 or HTTP/2 by ALPN; a plaintext one hands a connection whose first bytes are
 * the HTTP/2 preface to HTTP/2 (h2c with prior knowledge). The plaintext HTTP/1.1 path pays one branch
 * per connection for it (client-connection.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServerBase, type Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from '../log.ts';
import { ClientConnection, type ConnectionHost } from './client-connection.ts';
import type { EdgePolicy } from './edge-policy.ts';
import type { HttpExchange } from './exchange.ts';
import { createHttp2Sessions, type Http2Options, type Http2Sessions } from './h2/h2-sessions.ts';
import { adoptTlsClientAddress, createProxyProtocolServer, handToTls } from './proxy-protocol-server.ts';
import { llhttpAvailable } from './llhttp.ts';
import { createNodeHttpServer, selectHttp1Server, warnHttp1Fallback, type NodeHttpServer } from './node-http-server.ts';

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
  /** Longest pause between two reads of a request body before 408, ms. */
  readonly bodyTimeoutMs: number;
  /** After an early answer to a request whose body still arrives, how long the rest is read before closing, ms. */
  readonly lingeringTimeoutMs: number;
  /** Most client connections this listener holds at once; the excess is closed at accept. */
  readonly maxConnections: number;
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

/** TLS on a listener: certificates chosen per handshake by SNI (a CertificateStore, dataplane/tls/certificate-store.ts). */
export interface ListenerTls {
  /** Options for tls.createServer: the default certificate, protocol versions, ciphers, SNICallback. */
  serverOptions(): TlsOptions;
  /** Keeps the server's own context (clients without SNI) on the current default certificate and ticket key. */
  attach(server: TlsServer): void;
}

/** `finished`: the response went out whole. */
export type ExchangeEnded = (exchange: HttpExchange, finished: boolean) => void;

export interface HttpListenerOptions {
  readonly limits: ClientLimits;
  readonly log: Logger;
  /** Told of every exchange once it ended (answered, cut, or abandoned by the client): metrics, access log. */
  readonly ended: ExchangeEnded;
  /** Told of every HTTP/1.1 request refused before it became an exchange (malformed, oversized, too slow), by llhttp or node:http code, with its connection. */
  readonly refused: (code: string, socket: Socket) => void;
  /** Must answer every exchange it is handed. */
  readonly route: (exchange: HttpExchange) => void;
  /** HTTP/2: by ALPN on TLS, by prior knowledge (the connection preface) on plaintext. Undefined: HTTP/1.1 only. */
  readonly http2: Http2Options | undefined;
  /** Undefined: plaintext. */
  readonly tls: ListenerTls | undefined;
  /** Path, header and trust rules (edge-policy.ts). */
  readonly policy: EdgePolicy;
}

/** What a TLS client may offer by ALPN; with HTTP/2 off, HTTP/1.1 only. */
const ALPN_H2 = ['h2', 'http/1.1'];
const ALPN_H1 = ['http/1.1'];

/** An HTTP listener (HTTP/1.1, and HTTP/2 when enabled; TLS when given) that hands each request to `route`. */
export function createHttpListener(options: HttpListenerOptions): Listener {
  const { limits, log, ended, route } = options;
  const scheme = options.tls === undefined ? 'http' : 'https';
  let inFlight = 0;
  let draining = false;
  const connections = new Set<ClientConnection>();
  const served = {
    get draining() {
      return draining;
    },
    serve(exchange: HttpExchange): void {
      inFlight++;
      route(exchange);
    },
    done(exchange: HttpExchange, finished: boolean): void {
      inFlight--;
      ended(exchange, finished);
    },
  };
  const http2 = options.http2 === undefined ? undefined : createHttp2Sessions(options.http2, served, log.child({ protocol: 'h2' }));
  const host: ConnectionHost = {
    maxHeaderSize: limits.maxHeaderSize,
    scheme,
    // On TLS, HTTP/2 is chosen by ALPN before the first byte; prior knowledge is for plaintext only.
    http2: http2 === undefined || scheme === 'https' ? undefined : (socket) => http2.accept(socket, 'http'),
    get draining() {
      return draining;
    },
    serve: served.serve,
    done: served.done,
    // Smuggling-shaped framing, invalid headers, oversized heads, slow clients: answered without reaching `route`.
    rejected(code, reason, socket) {
      options.refused(code, socket);
      log.debug({ code, reason }, 'rejected malformed request');
    },
    closed(connection) {
      connections.delete(connection);
    },
  };
  // Chosen once per listener: Node's llhttp binding (the default), or node:http with --http1-server node
  // or on a Node without the binding (node-http-server.ts). Either way one call per accepted socket.
  const http1 = selectHttp1Server(options.policy.http1Server, llhttpAvailable);
  if (http1.fellBack) warnHttp1Fallback(log);
  const nodeHttp = http1.kind === 'node' ? createNodeHttpServer(host, limits) : undefined;
  const acceptHttp1: (socket: Socket) => void =
    nodeHttp?.accept ??
    ((socket) => {
      connections.add(new ClientConnection(socket, host));
    });

  const acceptTls = (socket: TLSSocket): void => {
    if (socket.alpnProtocol === 'h2' && http2 !== undefined) http2.accept(socket, 'https');
    else acceptHttp1(socket);
  };
  const proxyProtocol = options.policy.proxyProtocol;
  const tlsServer =
    options.tls === undefined
      ? undefined
      : createTlsServer(
          options.tls,
          limits,
          http2,
          log,
          proxyProtocol
            ? (socket) => {
                adoptTlsClientAddress(socket);
                acceptTls(socket);
              }
            : acceptTls,
        );
  const server: Server = proxyProtocol
    ? // Every connection starts with a PROXY protocol header, before the HTTP/1.1 parse, the HTTP/2 preface
      // and the TLS handshake; the TLS server then never listens (proxy-protocol-server.ts).
      createProxyProtocolServer({ policy: options.policy, headerTimeoutMs: limits.headerTimeoutMs, log }, (socket) => {
        if (tlsServer !== undefined) return handToTls(socket, tlsServer);
        acceptHttp1(socket);
        // Paused while the header was read; the bytes after it wait in the socket's buffer.
        socket.resume();
      })
    : (tlsServer ??
      // allowHalfOpen: a client that ends its side after sending a request still gets the answer.
      createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
        acceptHttp1(socket);
      }));

  // Past the cap, net closes a new connection at accept: the excess costs no parser and no pod connection,
  // and the process keeps descriptors for its pods and its manifest rescans (runtime/fd-budget.ts).
  server.maxConnections = limits.maxConnections;

  // The same period node:http uses for these checks (at most 1 s, at most the header timeout).
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const c of connections) c.check(now, limits);
    },
    Math.min(1000, limits.headerTimeoutMs),
  );
  sweep.unref();
  server.once('close', () => {
    clearInterval(sweep);
    nodeHttp?.close();
  });

  return {
    server,
    inFlight: () => inFlight,
    drain(timeoutMs) {
      draining = true;
      http2?.drain();
      return drainServer(server, connections, timeoutMs, () => inFlight, nodeHttp, () => http2?.destroyAll());
    },
  };
}

function createTlsServer(tls: ListenerTls, limits: ClientLimits, http2: Http2Sessions | undefined, log: Logger, onSecure: (socket: TLSSocket) => void): Server {
  const server = createTlsServerBase(
    {
      ...tls.serverOptions(),
      allowHalfOpen: true,
      noDelay: true,
      ALPNProtocols: http2 === undefined ? ALPN_H1 : ALPN_H2,
      // A client that stalls in the handshake is a slowloris too.
      handshakeTimeout: limits.headerTimeoutMs,
    },
    onSecure,
  );
  tls.attach(server);
  // A plaintext client on the TLS port, a failed handshake: node:tls has destroyed the socket. A timed-out
  // handshake it only reports (https.Server destroys the socket itself; tls.Server leaves it to its user):
  // without the destroy here, a client that never finishes its handshake keeps its connection for good.
  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    socket.destroy();
    log.debug({ code: err.code, reason: err.message }, 'TLS handshake failed');
  });
  return server;
}

/** Stop accepting, close keep-alive connections as they go idle, cut what is left at the deadline. */
function drainServer(
  server: Server,
  connections: ReadonlySet<ClientConnection>,
  timeoutMs: number,
  inFlight: () => number,
  nodeHttp: NodeHttpServer | undefined,
  cutOthers: () => void,
): Promise<{ cut: number }> {
  return new Promise((resolve) => {
    let cut = 0;
    // While draining, a connection closes after its current response; idle ones close now.
    const closeIdle = (): void => {
      for (const c of connections) c.closeIfIdle();
      nodeHttp?.closeIdle();
    };
    const sweep = setInterval(closeIdle, 50);
    const deadline = setTimeout(() => {
      cut = inFlight();
      for (const c of connections) c.socket.destroy();
      nodeHttp?.destroyAll();
      cutOthers();
    }, timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve({ cut });
    });
    closeIdle();
  });
}
