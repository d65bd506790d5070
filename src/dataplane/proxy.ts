/**
 * Proxies one routed request to a backend: picks an endpoint (round-robin, skipping unhealthy ones),
 * streams the request up and the response down with backpressure both ways, reports each outcome to
 * the endpoint health, and retries on another endpoint when that is safe:
 * - the connection failed before any byte of the request was written (refused, unreachable, connect
 *   timeout): whatever the method;
 * - the connection was reset before response headers, for GET, HEAD and OPTIONS without a body.
 * Never once response headers went to the client. Retries are bounded per request (the Service's
 * `retries`) and per backend (the retry budget).
 *
 * Only failures a pod caused count against it: refused, reset or timed-out connections and its own
 * malformed answers. A failure on Switchyard's side of the wire — a request undici would not build, a
 * body the client broke off, a full or timed-out wait for a connection — never ejects a pod, never takes
 * from the retry budget, and is answered with its own reason (issue #14: a request with two Host fields,
 * refused by undici before a byte was sent, once ejected a healthy pod per retry).
 *
 * A request body is collected up to `--request-buffer-size` before a connection is taken (request-body.ts),
 * except a gRPC call's, whose messages may wait for the pod's answers.
 */
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { ErrorCode } from '../errors.ts';
import type { EndpointHealth, FailureKind } from '../health/endpoint-health.ts';
import type { Logger } from '../log.ts';
import type { Backend, EndpointView, HeaderEdits, RouteFilters, RouteTimeouts } from '../snapshot/types.ts';
import { withSessionCookie } from './affinity-cookie.ts';
import type { Affinity } from './affinity-request.ts';
import type { RoundRobin } from './balancer.ts';
import type { HttpExchange } from './exchange.ts';
import type { TrafficCounters } from './counters.ts';
import type { ServiceStats, TrafficStats } from './traffic-stats.ts';
import { wantsTrailers } from './grpc.ts';
import { clientResponseHeaders, clientTrailerFields } from './headers.ts';
import { BodyPrefetch, RequestBody, type BodyBufferBudget } from './request-body.ts';
import type { RetryBudget } from './retry-budget.ts';
import { drawMirrors, RequestMirrors } from './request-mirror.ts';
import { editHeaders } from './route-filters.ts';
import { classifyUpstreamError, sendFailure, type FailureCode } from './status.ts';
import { acceptUpgrade, isUpgrade, openUpgradeClient, type UpgradeClient } from './tunnel.ts';
import type { TunnelRegistry } from './tunnel-registry.ts';
import type { UpstreamPools } from './upstream-pools.ts';

export interface ProxyDefaults {
  /** Wait for response headers, ms. */
  readonly responseTimeoutMs: number;
  /** Longest pause inside a response body, ms. */
  readonly idleTimeoutMs: number;
  /** Request body bytes buffered before a pod connection is taken (`--request-buffer-size`). */
  readonly requestBufferSize: number;
  /** What all requests of the process may buffer at once (`--request-buffer-total`). */
  readonly bodyBudget: BodyBufferBudget;
}

/** Shared by every exchange of a listener. */
export interface ProxyContext {
  readonly pools: UpstreamPools;
  readonly balancer: RoundRobin;
  readonly health: EndpointHealth;
  readonly budget: RetryBudget;
  readonly counters: TrafficCounters;
  /** Request metrics (traffic-stats.ts). */
  readonly stats: TrafficStats;
  /** Open WebSocket/upgrade tunnels (tunnel.ts). */
  readonly tunnels: TunnelRegistry;
  readonly defaults: ProxyDefaults;
  readonly log: Logger;
}

const REPLAYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * Starts proxying; answers the client itself in every case (response, or a coded failure).
 * `responseEdits`: a route's ResponseHeaderModifier, applied to the pod's response head; default none.
 * `affinity`: the request's session affinity (affinity-request.ts); default none.
 */
export function proxyRequest(ctx: ProxyContext, client: HttpExchange, backend: Backend, path: string, headers: string[], responseEdits?: HeaderEdits, affinity?: Affinity): void {
  const endpoint = affinity === undefined ? ctx.balancer.pick(backend, ctx.health) : ctx.balancer.pickAffine(backend, ctx.health, affinity);
  ctx.health.setPanic(backend, ctx.balancer.panicked);
  if (endpoint === undefined) {
    sendFailure(client, ErrorCode.NO_READY_ENDPOINT);
    return;
  }
  new Exchange(ctx, client, backend, path, headers, responseEdits, affinity).start(endpoint);
}

/**
 * proxyRequest for an HTTPRoute rule's filters: its ResponseHeaderModifier, its RequestMirror copies
 * (drawn per request, their backends looked up in `backends`, the request's snapshot's) and its
 * `timeouts`. A route with neither mirrors nor timeouts costs what proxyRequest costs.
 */
export function proxyRouteRequest(ctx: ProxyContext, client: HttpExchange, backend: Backend, path: string, headers: string[], filters: RouteFilters, backends: ReadonlyMap<string, Backend>, affinity?: Affinity): void {
  if (filters.mirrors === undefined && filters.timeouts === undefined) return proxyRequest(ctx, client, backend, path, headers, filters.responseHeaders, affinity);
  const endpoint = affinity === undefined ? ctx.balancer.pick(backend, ctx.health) : ctx.balancer.pickAffine(backend, ctx.health, affinity);
  ctx.health.setPanic(backend, ctx.balancer.panicked);
  if (endpoint === undefined) {
    sendFailure(client, ErrorCode.NO_READY_ENDPOINT);
    return;
  }
  // An upgrade becomes a tunnel: there is nothing a copy could mirror.
  const drawn = filters.mirrors === undefined || isUpgrade(client) ? undefined : drawMirrors(filters.mirrors, backends);
  const mirrors = drawn === undefined ? undefined : new RequestMirrors(drawn, client.method, path, headers, client.host);
  new Exchange(ctx, client, backend, path, headers, filters.responseHeaders, affinity, filters.timeouts, mirrors).start(endpoint);
}

class Exchange implements Dispatcher.DispatchHandler {
  readonly #ctx: ProxyContext;
  readonly #client: HttpExchange;
  readonly #backend: Backend;
  readonly #stats: ServiceStats;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #hasBody: boolean;
  #endpoint: EndpointView | undefined;
  #tried: string[] | undefined;
  #body: RequestBody | undefined;
  /** The start of the body, read before the first attempt; reused by retries. */
  #prefetch: BodyPrefetch | undefined;
  /** Inside a pool's dispatch: an error now is a refusal on this side, before anything was sent. */
  #dispatching = false;
  /** Cuts the current attempt (undici's onConnect hands it over). */
  #abort: ((err?: Error) => void) | undefined;
  /** Restarts a paused response body (undici's onHeaders hands it over). */
  #resume: (() => void) | undefined;
  /** The current attempt was written to a connection (undici's onConnect). */
  #started = false;
  #responded = false;
  #clientGone = false;
  /** An upgrade request's own connection for the current attempt (tunnel.ts); undefined for every other request. */
  #upgradeClient: UpgradeClient | undefined;
  readonly #responseEdits: HeaderEdits | undefined;
  readonly #affinity: Affinity | undefined;
  /** The route's `timeouts.request` timer, until the response head (or the end); undefined for every other request. */
  #deadline: ReturnType<typeof setTimeout> | undefined;
  /** The route's RequestMirror copies of this request; undefined for every other request. */
  readonly #mirrors: RequestMirrors | undefined;

  constructor(
    ctx: ProxyContext,
    client: HttpExchange,
    backend: Backend,
    path: string,
    headers: string[],
    responseEdits: HeaderEdits | undefined,
    affinity: Affinity | undefined,
    timeouts?: RouteTimeouts,
    mirrors?: RequestMirrors,
  ) {
    this.#ctx = ctx;
    this.#mirrors = mirrors;
    this.#responseEdits = responseEdits;
    this.#affinity = affinity;
    this.#client = client;
    this.#backend = backend;
    this.#stats = ctx.stats.service(backend);
    this.#hasBody = client.hasBody;
    const policy = backend.policy;
    const options: Dispatcher.DispatchOptions = {
      method: client.method as Dispatcher.HttpMethod,
      path,
      // TE is hop-by-hop, but `TE: trailers` is what an HTTP/2 pod (a gRPC server) needs to see, and all it may carry there.
      headers: backend.upstream.protocol !== 'http1' && wantsTrailers(client.rawHeaders) ? [...headers, 'te', 'trailers'] : headers,
      body: null,
      // A route's backendRequest timeout is per attempt, as the pool's own wait for response headers is.
      headersTimeout: timeouts?.backendRequestMs ?? policy.responseTimeoutMs ?? ctx.defaults.responseTimeoutMs,
      // A gRPC stream may stay silent as long as its call lasts: no idle limit (grpc-timeout bounds the call).
      bodyTimeout: client.grpc ? 0 : (policy.idleTimeoutMs ?? ctx.defaults.idleTimeoutMs),
    };
    // Upgrade (WebSocket): undici writes `connection: upgrade` and the Upgrade field itself (they are
    // hop-by-hop, so upstreamRequestHeaders dropped them) and hands over the socket at the 101.
    this.#options = isUpgrade(client) ? { ...options, upgrade: client.upgrade } : options;
    ctx.budget.recordRequest(backend.key);
    client.onClientGone = this.#onClientGone;
    const requestMs = timeouts?.requestMs;
    // Counted from the request head, as the spec's request timeout covers the whole exchange; "0s": none.
    if (requestMs !== undefined && requestMs > 0) this.#deadline = setTimeout(Exchange.#expire, requestMs - (performance.now() - client.trace.startedAt), this);
  }

  /**
   * The route's request timeout passed before the response head: the attempt is cut, no retry follows,
   * and the client gets 504 (a gRPC call DEADLINE_EXCEEDED). The pod is not blamed: the limit is the route's.
   */
  static #expire(ex: Exchange): void {
    ex.#deadline = undefined;
    if (ex.#responded || ex.#clientGone) return;
    ex.#ctx.log.debug({ endpoint: ex.#endpoint?.key, path: ex.#options.path }, 'route request timeout passed');
    // Part of the body may be unread: the connection cannot carry another request.
    if (ex.#hasBody) ex.#client.keepAlive = false;
    if (ex.#prefetch !== undefined) ex.#client.unreadBody(ex.#prefetch);
    // From here the exchange is abandoned as a gone client's is: nothing more is sent or answered by it.
    ex.#onClientGone();
    sendFailure(ex.#client, ErrorCode.UPSTREAM_TIMEOUT);
  }

  start(endpoint: EndpointView): void {
    this.#endpoint = endpoint;
    this.#client.trace.upstream = endpoint.key;
    this.#started = false;
    this.#abort = undefined;
    if (this.#options.upgrade != null) {
      // An upgrade gets a connection of its own: its socket leaves the Client at the 101.
      this.#upgradeClient = openUpgradeClient(this.#ctx, this.#backend, endpoint);
      this.#dispatch(this.#upgradeClient, this.#options);
      return;
    }
    const bufferSize = this.#ctx.defaults.requestBufferSize;
    if (this.#hasBody && this.#prefetch === undefined && bufferSize > 0 && !this.#client.grpc) {
      // Collect the start of the body first: a slow upload then holds no pod connection. Not for a gRPC
      // call: its body is a stream of messages that may wait for the pod's answers (bidirectional calls).
      const prefetch = new BodyPrefetch(this.#client, bufferSize, this.#ctx.defaults.bodyBudget, (err) => {
        if (this.#clientGone) return; // nothing to answer
        if (err === undefined) return this.start(this.#endpoint!);
        // The client broke its body off but is still there: answered as when the body streams (onError).
        this.#client.keepAlive = false;
        this.#end();
        sendFailure(this.#client, ErrorCode.PROXY_INTERNAL);
      });
      this.#prefetch = prefetch;
      prefetch.start();
      return;
    }
    const pool = this.#ctx.pools.get(endpoint.key, this.#backend.policy.connectTimeoutMs, this.#backend.upstream);
    if (!this.#hasBody) {
      this.#mirrors?.start(this.#ctx, null, this.#options.headersTimeout);
      return this.#dispatch(pool, this.#options);
    }
    // A body that arrived whole goes as one Buffer (one write, replayable by a retry); the rest is streamed.
    const whole = this.#prefetch?.whole();
    if (whole === undefined) this.#body = new RequestBody(this.#client, this.#prefetch);
    if (this.#mirrors !== undefined) {
      // Before the main dispatch: it may take body bytes at once, and the copies get them through the tee.
      this.#mirrors.start(this.#ctx, whole ?? { prefix: this.#prefetch?.chunks ?? [] }, this.#options.headersTimeout);
      if (this.#body !== undefined) this.#body.tee = this.#mirrors;
    }
    this.#dispatch(pool, { ...this.#options, body: whole ?? this.#body });
  }

  #dispatch(pool: { dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): unknown }, options: Dispatcher.DispatchOptions): void {
    this.#dispatching = true;
    this.#client.trace.attemptStartedAt = performance.now();
    try {
      pool.dispatch(options, this);
    } finally {
      this.#dispatching = false;
    }
  }

  // undici's own handler interface (onConnect … onComplete), the one its Client calls: the newer
  // onRequestStart/onResponseStart interface is an adapter over it that allocates a controller and parses
  // the raw headers into an object on every response, which this proxy only turns back into a list.

  onConnect(abort: (err?: Error) => void): void {
    this.#started = true;
    this.#abort = abort;
    if (this.#clientGone) abort(new Error('client closed the connection'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    const key = this.#endpoint!.key;
    const trace = this.#client.trace;
    trace.upstreamStatus = statusCode;
    trace.upstreamMs = performance.now() - trace.attemptStartedAt;
    this.#stats.upstreamResponse(trace.upstreamMs);
    if (statusCode >= 500) this.#ctx.health.recordFailure(key, '5xx', this.#backend);
    else this.#ctx.health.recordSuccess(key);
    this.#responded = true;
    this.#resume = resume;
    if (this.#deadline !== undefined) this.#clearDeadline();
    const fields = clientResponseHeaders(rawHeaders, this.#client.requestId);
    const head = this.#responseEdits === undefined ? fields : editHeaders(fields, this.#responseEdits);
    const cookie = this.#affinity?.cookie;
    this.#client.writeHead(statusCode, cookie === undefined ? head : withSessionCookie(head, cookie, this.#affinity!, this.#backend, this.#endpoint!, this.#client.scheme === 'https'));
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#client.write(chunk)) return true;
    this.#client.onceDrain(this.#resume!);
    return false;
  }

  onComplete(trailers: string[] | null): void {
    this.#end();
    // undici hands over the raw trailer fields (Buffers at run time, whatever its types say).
    this.#client.end(trailers !== null && trailers.length > 0 ? clientTrailerFields(trailers as unknown as Buffer[]) : undefined);
    // An upgrade the pod answered with an ordinary response: the client's connection closes after it.
    this.#releaseUpgradeClient(false);
  }

  /** The pod switched protocols: the client gets its 101 and the two sockets become a tunnel. */
  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Socket): void {
    this.#ctx.health.recordSuccess(this.#endpoint!.key);
    const trace = this.#client.trace;
    trace.upstreamStatus = statusCode;
    trace.upstreamMs = performance.now() - trace.attemptStartedAt;
    this.#responded = true;
    if (this.#deadline !== undefined) this.#clearDeadline();
    this.#releaseUpgradeClient(false);
    acceptUpgrade(this.#ctx, this.#client, this.#clientGone, this.#endpoint!.key, statusCode, (rawHeaders ?? []) as Buffer[], socket);
  }

  onError(err: Error): void {
    this.#releaseUpgradeClient(true);
    if (this.#clientGone) return;
    if (this.#responded) {
      this.#end();
      // Headers went out: nothing can be retried. The response is cut, except a gRPC call, which ends with
      // status trailers (UNAVAILABLE and the like) as gRPC clients expect.
      this.#ctx.log.debug({ err, endpoint: this.#endpoint!.key }, 'upstream response broke off');
      sendFailure(this.#client, classifyUpstreamError(err));
      return;
    }
    // Part of the body may be unread: the connection cannot carry another request.
    if (this.#hasBody) this.#client.keepAlive = false;
    const local = this.#localFailure(err);
    if (local !== undefined) {
      this.#end();
      this.#ctx.log.debug({ err, endpoint: this.#endpoint!.key, code: local }, 'request not forwarded');
      sendFailure(this.#client, local);
      return;
    }
    const code = classifyUpstreamError(err);
    const key = this.#endpoint!.key;
    this.#ctx.health.recordFailure(key, failureKind(code), this.#backend);
    if (!this.#started) this.#stats.connectFailures++;
    if (this.#retryable(err) && this.#retry(key)) return;
    this.#end();
    this.#ctx.log.debug({ err, endpoint: key, code }, 'upstream request failed');
    sendFailure(this.#client, code);
  }

  /** The answer to a failure on this side of the wire (never the pod's), or undefined for the pod's. */
  #localFailure(err: Error): FailureCode | undefined {
    const code = (err as { code?: unknown }).code;
    if (code === ErrorCode.UPSTREAM_BUSY || code === ErrorCode.UPSTREAM_QUEUE_TIMEOUT) return code;
    // undici would not build the request (InvalidArgumentError, NotSupportedError), at once or when its turn
    // in a pool's queue came: nothing was sent, and no pod raises these.
    if (!this.#started && (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED')) return ErrorCode.REQUEST_NOT_FORWARDABLE;
    // Anything else a pool throws at once is this side's (a closed pool, a destroyed Client), except a TLS
    // pool that fails closed for want of a usable CA: that answer stays upstream-tls-failed.
    if (this.#dispatching && code !== ErrorCode.UPSTREAM_TLS) return ErrorCode.PROXY_INTERNAL;
    // The client broke its body off: the attempt failed on the client's side.
    if (this.#body?.failed === true) return ErrorCode.PROXY_INTERNAL;
    return undefined;
  }

  #retryable(err: Error): boolean {
    if (this.#body?.consumed) return false;
    if (!this.#started) return true; // nothing was written
    const code = (err as { code?: unknown }).code;
    return !this.#hasBody && REPLAYABLE_METHODS.has(this.#options.method) && typeof code === 'string' && RESET_CODES.has(code);
  }

  #retry(failedKey: string): boolean {
    const policy = this.#backend.policy;
    const tried = (this.#tried ??= []);
    tried.push(failedKey);
    if (tried.length > policy.retries) return false;
    const affinity = this.#affinity;
    const next = affinity === undefined ? this.#ctx.balancer.pick(this.#backend, this.#ctx.health, tried) : this.#ctx.balancer.pickAffine(this.#backend, this.#ctx.health, affinity, tried);
    if (next === undefined) return false;
    if (!this.#ctx.budget.tryAcquire(this.#backend.key, policy.retryBudgetPercent)) {
      this.#stats.budgetExhausted++;
      this.#ctx.log.debug({ backend: this.#backend.key }, 'retry budget exhausted');
      return false;
    }
    this.#stats.retries++;
    this.#client.trace.retries++;
    this.#ctx.log.debug({ from: failedKey, to: next.key, attempt: tried.length + 1 }, 'retrying on another endpoint');
    this.start(next);
    return true;
  }

  /** The upgrade attempt's Client is done with (after a response, an error or the socket's hand-over). */
  #releaseUpgradeClient(destroy: boolean): void {
    const upgradeClient = this.#upgradeClient;
    if (upgradeClient === undefined) return;
    this.#upgradeClient = undefined;
    // Not from inside its own callback: the Client finishes the current step first.
    setImmediate(() => (destroy ? upgradeClient.destroy() : upgradeClient.close()).catch(ignore));
  }

  /** The exchange is over (answered, failed or abandoned): its collected body no longer counts against the budget. */
  #end(): void {
    this.#prefetch?.release();
    if (this.#deadline !== undefined) this.#clearDeadline();
    this.#mirrors?.end();
  }

  #clearDeadline(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  readonly #onClientGone = (): void => {
    this.#end();
    this.#clientGone = true;
    this.#abort?.(new Error('client closed the connection'));
  };
}

function ignore(): void {}

function failureKind(code: FailureCode): FailureKind {
  return code === ErrorCode.UPSTREAM_TIMEOUT ? 'timeout' : 'connect';
}
