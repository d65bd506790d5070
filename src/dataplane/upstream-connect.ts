/**
 * Opening a connection to a pod for the HTTP/2 and TLS upstream pools: TCP or TLS, bounded by the
 * connect timeout, with failures coded the way the undici path codes them (the socket's own ECONNREFUSED
 * and friends, UND_ERR_CONNECT_TIMEOUT), so status.ts classifies both paths alike. A TLS failure after
 * the TCP connection was made is SWY_ERR_UPSTREAM_TLS.
 *
 * Certificate checks (`switchyard.dev/backend-ca-secret`): with a CA, the pod's chain must lead to it;
 * without one, nothing is verified (the issue: in-cluster pods mostly serve self-signed certificates).
 * The name in the certificate is not checked: a pod is dialled by its IP address, while its certificate
 * names the Service (or nothing useful at all), so a name check would fail every correctly configured
 * backend; the CA is what pins the identity, as with ingress-nginx's `proxy-ssl-verify` without a name.
 */
import { connect as netConnect, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ErrorCode, SwyError } from '../errors.ts';

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  /** Bound on TCP connect (and TLS handshake), ms. */
  readonly connectTimeoutMs: number;
}

export interface TlsTarget extends ConnectTarget {
  /**
   * PEM CA bundle pod certificates must chain to; undefined: not verified; '' (a CA Secret was named but
   * is unusable): every connection fails, fail-closed, rather than silently skipping verification.
   */
  readonly caPem: string | undefined;
  /** ALPN protocols offered, in order of preference. */
  readonly alpn: readonly string[];
}

export type ConnectCallback<S> = (err: Error | null, socket?: S) => void;

/** `address:port` or `[v6]:port` → host and port. */
export function splitEndpointKey(key: string): { host: string; port: number } {
  const colon = key.lastIndexOf(':');
  const host = key.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(key.slice(colon + 1)) };
}

/** Error with a code, the shape undici and sockets produce (checked by code, never by class). */
export function codedError(code: string, message: string, cause?: unknown): Error & { code: string } {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
}

/**
 * A TCP connection; `callback` is called once. `onread` (net's option): reads go to that buffer and
 * callback instead of 'data' events (the llhttp upstream client, h1-upstream/connection.ts).
 */
export function connectTcp(target: ConnectTarget, callback: ConnectCallback<Socket>, onread?: OnReadOpts): void {
  const socket = netConnect(onread === undefined ? { host: target.host, port: target.port, noDelay: true } : { host: target.host, port: target.port, noDelay: true, onread });
  const timer = armConnectTimeout(socket, target, callback);
  socket.once('error', (err) => {
    clearTimeout(timer);
    socket.destroy();
    callback(err);
  });
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.removeAllListeners('error');
    callback(null, socket);
  });
}

/** A TLS connection offering `target.alpn`; `socket.alpnProtocol` says what the pod chose. `callback` is called once. */
export function connectTls(target: TlsTarget, callback: ConnectCallback<TLSSocket>): void {
  if (target.caPem === '') {
    // Checked before dialling: a pod must not get a request it cannot be verified for.
    callback(new SwyError(ErrorCode.UPSTREAM_TLS, `no usable CA for ${target.host}:${target.port}: the backend's switchyard.dev/backend-ca-secret is missing or invalid (see /api/v1/config diagnostics)`));
    return;
  }
  const verify = target.caPem !== undefined;
  const socket = tlsConnect({
    host: target.host,
    port: target.port,
    ALPNProtocols: target.alpn as string[],
    rejectUnauthorized: verify,
    ...(verify ? { ca: target.caPem, checkServerIdentity: () => undefined } : {}),
  });
  socket.setNoDelay(true);
  let tcpUp = false;
  const timer = armConnectTimeout(socket, target, callback);
  socket.once('connect', () => (tcpUp = true));
  socket.once('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    socket.destroy();
    if (!tcpUp) callback(err);
    else callback(new SwyError(ErrorCode.UPSTREAM_TLS, `TLS handshake with ${target.host}:${target.port} failed: ${err.code ?? err.message}`, { cause: err }));
  });
  socket.once('secureConnect', () => {
    clearTimeout(timer);
    socket.removeAllListeners('error');
    callback(null, socket);
  });
}

function armConnectTimeout<S>(socket: Socket, target: ConnectTarget, callback: ConnectCallback<S>): NodeJS.Timeout {
  return setTimeout(() => {
    socket.removeAllListeners('error');
    socket.on('error', () => undefined);
    socket.destroy();
    callback(codedError('UND_ERR_CONNECT_TIMEOUT', `connect to ${target.host}:${target.port} timed out after ${target.connectTimeoutMs} ms`));
  }, target.connectTimeoutMs);
}
