/**
 * HTTP/1.1 upgrades (WebSocket, and any other `Connection: upgrade` + `Upgrade: X`, RFC 9110 §7.8) as
 * tunnels. The request is routed and balanced like any other (proxy.ts sends it here once an endpoint
 * is to be picked) and forwarded with its Upgrade field on a connection of its own. A 101 from the pod
 * is written to the client and the two sockets are joined both ways, with backpressure and half-close;
 * any other answer goes to the client as an ordinary response, and the connection closes after it. A
 * pod that cannot be reached gets the usual 502 and retry rules (proxy.ts). The joined sockets are the
 * process's TunnelRegistry's (idle timeout, endpoint removal, drain).
 *
 * Each attempt opens its own undici Client (its socket leaves the Client at the 101), plain or TLS as
 * the backend's upstream protocol says (`kubernetes.io/wss`, `https`: TLS with ALPN http/1.1, the
 * certificate checked as upstream-connect.ts does for every TLS backend); an h2c or gRPC backend still
 * gets the upgrade in HTTP/1.1, the only version with Upgrade.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Client as UndiciClient, Dispatcher } from 'undici';
import { ErrorCode } from '../errors.ts';
import type { FailureKind } from '../health/endpoint-health.ts';
import type { Backend, EndpointView } from '../snapshot/types.ts';
import type { TakenConnection } from './client-exchange.ts';
import type { HttpExchange } from './exchange.ts';
import { clientResponseHeaders, SERVER_NAME } from './headers.ts';
import type { ProxyContext } from './proxy.ts';
import { classifyUpstreamError, sendFailure, type FailureCode } from './status.ts';
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

/** Starts forwarding an upgrade request; answers the client in every case (a tunnel, a response or a failure). */
export function proxyUpgrade(ctx: ProxyContext, client: UpgradeExchange, backend: Backend, path: string, headers: string[]): void {
  const endpoint = ctx.balancer.pick(backend, ctx.health);
  ctx.health.setPanic(backend, ctx.balancer.panicked);
  if (endpoint === undefined) {
    sendFailure(client, ErrorCode.NO_READY_ENDPOINT);
    return;
  }
  new UpgradeAttempt(ctx, client, backend, path, headers).start(endpoint);
}

const ALPN_H1 = ['http/1.1'];

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const REPLAYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One upgrade request and its retries: undici's handler interface, as proxy.ts's Exchange. */
class UpgradeAttempt implements Dispatcher.DispatchHandler {
  readonly #ctx: ProxyContext;
  readonly #client: UpgradeExchange;
  readonly #backend: Backend;
  readonly #options: Dispatcher.DispatchOptions;
  #endpoint: EndpointView | undefined;
  #undici: Client | undefined;
  #tried: string[] | undefined;
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  /** The current attempt was written to a connection (undici's onConnect). */
  #started = false;
  #responded = false;
  #clientGone = false;

  constructor(ctx: ProxyContext, client: UpgradeExchange, backend: Backend, path: string, headers: string[]) {
    this.#ctx = ctx;
    this.#client = client;
    this.#backend = backend;
    const policy = backend.policy;
    this.#options = {
      method: client.method as Dispatcher.HttpMethod,
      path,
      // Without Connection and Upgrade (hop-by-hop, dropped by upstreamRequestHeaders): undici writes
      // `connection: upgrade` and `upgrade` itself, and refuses them among the headers.
      headers,
      body: null,
      upgrade: client.upgrade,
      headersTimeout: policy.responseTimeoutMs ?? ctx.defaults.responseTimeoutMs,
      bodyTimeout: policy.idleTimeoutMs ?? ctx.defaults.idleTimeoutMs,
    };
    ctx.budget.recordRequest(backend.key);
    client.onClientGone = this.#onClientGone;
  }

  start(endpoint: EndpointView): void {
    this.#endpoint = endpoint;
    this.#started = false;
    this.#abort = undefined;
    const upstream = this.#backend.upstream;
    const timeout = this.#backend.policy.connectTimeoutMs ?? this.#ctx.tunnels.connectTimeoutMs;
    let undici: Client;
    if (upstream?.protocol === 'tls') {
      const target = { ...splitEndpointKey(endpoint.key), connectTimeoutMs: timeout, caPem: upstream.caPem, alpn: ALPN_H1 };
      const connect = (_options: unknown, callback: (...args: [null, Socket] | [Error, null]) => void): void =>
        connectTls(target, (err, socket) => (err === null ? callback(null, socket!) : callback(err, null)));
      undici = new Client(`https://${endpoint.key}`, { pipelining: 1, connect });
    } else {
      undici = new Client(`http://${endpoint.key}`, { pipelining: 1, connect: { timeout } });
    }
    this.#undici = undici;
    undici.dispatch(this.#options, this);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#started = true;
    this.#abort = abort;
    if (this.#clientGone) abort(new Error('client closed the connection'));
  }

  /** Any answer but a 101: an ordinary response (the client's connection closes after it). */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    const key = this.#endpoint!.key;
    if (statusCode >= 500) this.#ctx.health.recordFailure(key, '5xx', this.#backend);
    else this.#ctx.health.recordSuccess(key);
    this.#responded = true;
    this.#resume = resume;
    this.#client.writeHead(statusCode, clientResponseHeaders(rawHeaders));
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#client.write(chunk)) return true;
    this.#client.onceDrain(this.#resume!);
    return false;
  }

  onComplete(): void {
    this.#client.end();
    this.#release(false);
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Socket): void {
    const key = this.#endpoint!.key;
    this.#ctx.health.recordSuccess(key);
    this.#responded = true;
    // The socket has left the Client; what remains of the Client is closed.
    this.#release(false);
    const taken = this.#clientGone ? undefined : this.#client.takeOver(switchingHead(statusCode, (rawHeaders ?? []) as Buffer[]));
    if (taken === undefined) {
      socket.destroy();
      return;
    }
    this.#ctx.tunnels.open(key, taken, socket);
  }

  onError(err: Error): void {
    this.#release(true);
    if (this.#clientGone) return;
    if (this.#responded) {
      this.#ctx.log.debug({ err, endpoint: this.#endpoint!.key }, 'upstream response to an upgrade request broke off');
      this.#client.destroy();
      return;
    }
    const code = classifyUpstreamError(err);
    const key = this.#endpoint!.key;
    this.#ctx.health.recordFailure(key, failureKind(code), this.#backend);
    if (this.#retryable(err) && this.#retry(key)) return;
    this.#ctx.log.debug({ err, endpoint: key, code }, 'upgrade request failed');
    sendFailure(this.#client, code);
  }

  /** The rule of proxy.ts for a request without a body: nothing was written, or a reset before any answer to a GET. */
  #retryable(err: Error): boolean {
    if (!this.#started) return true;
    const code = (err as { code?: unknown }).code;
    return REPLAYABLE_METHODS.has(this.#options.method) && typeof code === 'string' && RESET_CODES.has(code);
  }

  #retry(failedKey: string): boolean {
    const policy = this.#backend.policy;
    const tried = (this.#tried ??= []);
    tried.push(failedKey);
    if (tried.length > policy.retries) return false;
    const next = this.#ctx.balancer.pick(this.#backend, this.#ctx.health, tried);
    if (next === undefined) return false;
    if (!this.#ctx.budget.tryAcquire(this.#backend.key, policy.retryBudgetPercent)) return false;
    this.#ctx.counters.retries++;
    this.#ctx.log.debug({ from: failedKey, to: next.key, attempt: tried.length + 1 }, 'retrying an upgrade on another endpoint');
    this.start(next);
    return true;
  }

  /** The attempt's Client is done with (after a response, an error or the socket's hand-over). */
  #release(destroy: boolean): void {
    const undici = this.#undici;
    if (undici === undefined) return;
    this.#undici = undefined;
    // Not from inside its own callback: the Client finishes the current step first.
    setImmediate(() => (destroy ? undici.destroy() : undici.close()).catch(ignore));
  }

  readonly #onClientGone = (): void => {
    this.#clientGone = true;
    this.#abort?.(new Error('client closed the connection'));
  };
}

function failureKind(code: FailureCode): FailureKind {
  return code === ErrorCode.UPSTREAM_TIMEOUT ? 'timeout' : 'connect';
}

function ignore(): void {}

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
