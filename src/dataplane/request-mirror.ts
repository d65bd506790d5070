/**
 * HTTPRoute RequestMirror: a fire-and-forget copy of a request to another backend, balanced over its
 * endpoints by the same round-robin. The copy never delays or fails the request it copies:
 * - its answer is read and discarded; its failures are counted (switchyard_mirror_requests_total) and
 *   logged at debug, never reported to the client nor to endpoint health;
 * - its body is teed from the bytes the main request takes from the client, at the main request's pace:
 *   a copy whose pod reads slower than MIRROR_BODY_LIMIT bytes behind is dropped, never buffered further
 *   and never allowed to slow the main exchange (its backpressure is ignored);
 * - at most MIRROR_MAX_IN_FLIGHT copies per data-plane thread are in flight (a hanging mirror pod holds
 *   copies until its --upstream-timeout): past it, new copies are dropped.
 * The copy's Host is the request's with `-shadow` appended to the host name (before any port), as Envoy
 * and the load balancers built on it do, so a mirror pod can tell copies from live traffic.
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ErrorCode } from '../errors.ts';
import type { Backend, RouteMirror } from '../snapshot/types.ts';
import type { BodySink } from './exchange.ts';
import type { ProxyContext } from './proxy.ts';

/** Copies in flight per data-plane thread before new ones are dropped. */
export const MIRROR_MAX_IN_FLIGHT = 256;
/** Body bytes a copy may lag behind the main request before it is dropped. */
export const MIRROR_BODY_LIMIT = 128 * 1024;

/** What became of a copy: its pod answered (any status), it failed (refused, reset, timed out), or Switchyard dropped it. */
export type MirrorResult = 'success' | 'failed' | 'dropped';

/** Copies in flight in this thread (each thread has its own module instance). */
let inFlight = 0;

/**
 * The mirror backends a request is copied to: each of `mirrors` whose share `numerator/denominator`
 * draws it and whose backend is in the snapshot. Undefined when none (no allocation then).
 */
export function drawMirrors(mirrors: readonly RouteMirror[], backends: ReadonlyMap<string, Backend>): Backend[] | undefined {
  let chosen: Backend[] | undefined;
  for (const m of mirrors) {
    if (m.numerator < m.denominator && Math.random() * m.denominator >= m.numerator) continue;
    const backend = backends.get(m.backend);
    if (backend !== undefined) (chosen ??= []).push(backend);
  }
  return chosen;
}

/** `host` with `-shadow` after its name: `a.example:8080` → `a.example-shadow:8080`, `[::1]:80` → `[::1]-shadow:80`. */
export function shadowHost(host: string): string {
  const close = host.lastIndexOf(']');
  const colon = host.indexOf(':', close + 1);
  return colon < 0 ? `${host}-shadow` : `${host.slice(0, colon)}-shadow${host.slice(colon)}`;
}

/** `headers` ([name, value, …]) with Host made the shadow host (`fallbackHost` when there is no Host field). */
function shadowHeaders(headers: readonly string[], fallbackHost: string | undefined): string[] {
  const out = headers.slice();
  for (let i = 0; i < out.length; i += 2) {
    if (out[i]!.length === 4 && out[i]!.toLowerCase() === 'host') {
      out[i + 1] = shadowHost(out[i + 1]!);
      return out;
    }
  }
  if (fallbackHost !== undefined) out.push('host', shadowHost(fallbackHost));
  return out;
}

/**
 * The copies of one request. Made by the proxy when a route mirrors and the draw chose some backend;
 * started once, when the main request is first handed to a pod (after its body prefetch, if any).
 */
export class RequestMirrors implements BodySink {
  readonly #backends: readonly Backend[];
  readonly #method: string;
  readonly #path: string;
  readonly #headers: readonly string[];
  readonly #host: string | undefined;
  #started = false;
  #bodies: MirrorBody[] | undefined;

  /** `path` and `headers`: as the main request goes to its pod (after the rule's other filters); `host`: the client's. */
  constructor(backends: readonly Backend[], method: string, path: string, headers: readonly string[], host: string | undefined) {
    this.#backends = backends;
    this.#method = method;
    this.#path = path;
    this.#headers = headers;
    this.#host = host;
  }

  /**
   * Sends the copies, once (later calls, from retries, do nothing). `body`: null without one; a Buffer
   * when the whole body is read already; otherwise the chunks read so far, the rest coming through this
   * sink (onData/onEnd), teed by the main request as it reads them. `headersTimeoutMs`: the main attempt's
   * (0 or unset: the mirror Service's response timeout, else --upstream-timeout).
   */
  start(ctx: ProxyContext, body: Buffer | null | { readonly prefix: readonly Buffer[] }, headersTimeoutMs: number | null | undefined): void {
    if (this.#started) return;
    this.#started = true;
    const fields = shadowHeaders(this.#headers, this.#host);
    for (const backend of this.#backends) {
      if (inFlight >= MIRROR_MAX_IN_FLIGHT) {
        ctx.stats.mirrorResult(backend, 'dropped');
        continue;
      }
      const endpoint = ctx.balancer.pick(backend, ctx.health);
      if (endpoint === undefined) {
        ctx.stats.mirrorResult(backend, 'dropped');
        continue;
      }
      let stream: MirrorBody | undefined;
      if (body !== null && !Buffer.isBuffer(body)) (this.#bodies ??= []).push((stream = new MirrorBody(body.prefix)));
      const copy = new MirrorCopy(ctx, backend, endpoint.key, stream);
      const options: Dispatcher.DispatchOptions = {
        method: this.#method as Dispatcher.HttpMethod,
        path: this.#path,
        headers: fields,
        body: stream ?? (body as Buffer | null),
        // A copy never waits without limit (a main attempt may, with backendRequest "0s"): its slot must come back.
        headersTimeout: headersTimeoutMs || (backend.policy.responseTimeoutMs ?? ctx.defaults.responseTimeoutMs),
        bodyTimeout: backend.policy.idleTimeoutMs ?? ctx.defaults.idleTimeoutMs,
      };
      inFlight++;
      try {
        ctx.pools.get(endpoint.key, backend.policy.connectTimeoutMs, backend.upstream).dispatch(options, copy);
      } catch (err) {
        copy.onError(err as Error);
      }
    }
  }

  // The main request's body, teed (BodySink): never paused by the copies.

  onData(chunk: Buffer): boolean {
    const bodies = this.#bodies;
    if (bodies !== undefined) for (let i = 0; i < bodies.length; i++) bodies[i]!.feed(chunk);
    return true;
  }

  onEnd(): void {
    const bodies = this.#bodies;
    if (bodies !== undefined) for (let i = 0; i < bodies.length; i++) bodies[i]!.finish();
  }

  onError(): void {
    this.#dropBodies('the client broke the request body off');
  }

  /** The main exchange is over: a copy whose body is still incomplete will never get the rest. */
  end(): void {
    this.#dropBodies('the main request ended before its whole body was read');
  }

  #dropBodies(why: string): void {
    const bodies = this.#bodies;
    if (bodies !== undefined) for (let i = 0; i < bodies.length; i++) bodies[i]!.cut(why);
  }
}

/** A copy's streamed body: what the main request read so far, then what it reads, up to MIRROR_BODY_LIMIT behind. */
class MirrorBody extends Readable {
  ended = false;
  dropped = false;
  /** The prefix (chunks the main request holds anyway, shared, not copied) plus MIRROR_BODY_LIMIT. */
  readonly #limit: number;

  constructor(prefix: readonly Buffer[]) {
    super({ highWaterMark: MIRROR_BODY_LIMIT });
    let size = 0;
    for (const chunk of prefix) {
      size += chunk.length;
      this.push(chunk);
    }
    this.#limit = size + MIRROR_BODY_LIMIT;
    // A copy still queued for a connection has no reader yet to take the error cut() raises.
    this.on('error', ignore);
  }

  override _read(): void {
    // Fed by the main request's reads only.
  }

  feed(chunk: Buffer): void {
    if (this.ended || this.destroyed) return;
    this.push(chunk);
    if (this.readableLength > this.#limit) this.cut('the mirror pod reads the body slower than the client sends it');
  }

  finish(): void {
    if (this.ended || this.destroyed) return;
    this.ended = true;
    this.push(null);
  }

  cut(why: string): void {
    if (this.ended || this.destroyed) return;
    this.dropped = true;
    this.destroy(new Error(`mirror copy dropped: ${why}`));
  }
}

/** One copy's exchange with its pod: everything it answers is discarded. */
class MirrorCopy implements Dispatcher.DispatchHandler {
  readonly #ctx: ProxyContext;
  readonly #backend: Backend;
  readonly #endpoint: string;
  readonly #body: MirrorBody | undefined;
  #done = false;

  constructor(ctx: ProxyContext, backend: Backend, endpoint: string, body: MirrorBody | undefined) {
    this.#ctx = ctx;
    this.#backend = backend;
    this.#endpoint = endpoint;
    this.#body = body;
  }

  onConnect(): void {}

  onHeaders(): boolean {
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.#finish('success');
  }

  onError(err: Error): void {
    const code = (err as { code?: unknown }).code;
    // Refusals on this side (the copy's body fell behind, the pod's connections are all busy) are drops, not the pod's failures.
    const dropped = this.#body?.dropped === true || code === ErrorCode.UPSTREAM_BUSY || code === ErrorCode.UPSTREAM_QUEUE_TIMEOUT;
    if (!this.#done) this.#ctx.log.debug({ err, endpoint: this.#endpoint, backend: this.#backend.key }, 'mirror copy not completed');
    this.#finish(dropped ? 'dropped' : 'failed');
  }

  #finish(result: MirrorResult): void {
    if (this.#done) return;
    this.#done = true;
    inFlight--;
    // A copy that ended early (its pod answered without reading the whole body) lets go of the rest.
    if (this.#body !== undefined && !this.#body.destroyed) this.#body.destroy();
    this.#ctx.stats.mirrorResult(this.#backend, result);
  }
}

function ignore(): void {}
