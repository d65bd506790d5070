/**
 * Every error path of the forwarder (proxy.ts) against issue #14's rule: only a failure the pod caused
 * (refused, reset or timed-out connection, its own malformed answer, a 5xx) counts against it and may be
 * retried; one raised on Switchyard's side before the request was written (undici refused to build it,
 * the client broke its body off or went away, a full or timed-out connection queue) never ejects, never
 * takes from the retry budget and is answered with its own x-switchyard-error.
 *
 * Real RoundRobin, EndpointHealth, RetryBudget and TrafficCounters; a scripted pool plays undici's
 * handler calls (onConnect, onHeaders, onData, onComplete, onError) and reads the request body the way
 * undici does; a recording exchange plays the client. Each row runs with the body streamed at once
 * (`requestBufferSize` 0) and collected first (64 KiB, BodyPrefetch).
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { EndpointHealth, type FailureKind } from '../../../src/health/endpoint-health.ts';
import { RoundRobin } from '../../../src/dataplane/balancer.ts';
import { TrafficCounters } from '../../../src/dataplane/counters.ts';
import type { BodySink, HttpExchange } from '../../../src/dataplane/exchange.ts';
import { ExchangeTrace } from '../../../src/dataplane/exchange-trace.ts';
import { TrafficStats } from '../../../src/dataplane/traffic-stats.ts';
import { proxyRequest, type ProxyContext } from '../../../src/dataplane/proxy.ts';
import { BodyBufferBudget } from '../../../src/dataplane/request-body.ts';
import { RetryBudget } from '../../../src/dataplane/retry-budget.ts';
import type { TunnelRegistry } from '../../../src/dataplane/tunnel-registry.ts';
import type { UpstreamPools } from '../../../src/dataplane/upstream-pools.ts';
import { OUTLIER, backend, clock, recordingLogger, snapshotOf } from '../reliability/fixtures.ts';

const A = '10.0.0.1:8080';
const B = '10.0.0.2:8080';
const C = '10.0.0.3:8080';
const KIB = 1024;
const BUFFER_SIZES = [0, 64 * KIB];

const coded = (code: string | undefined, message = `failed: ${code ?? 'no code'}`): Error => Object.assign(new Error(message), code === undefined ? {} : { code });
const settle = async (turns = 8): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

// --- the client --------------------------------------------------------------------------------

/** A recording HttpExchange whose body the test feeds (`send`, `finish`) and breaks (`breakBody`, `goAway`). */
class FakeClient implements HttpExchange {
  readonly url = '/';
  readonly rawHeaders: readonly string[] = [];
  readonly host = 'shop.test';
  readonly connection = undefined;
  readonly forwardedFor = undefined;
  readonly requestId = 'rid-test';
  readonly trace = new ExchangeTrace(40000);
  readonly remoteAddress = '127.0.0.1';
  readonly localPort = 80;
  readonly scheme = 'http';
  readonly servername = undefined;
  readonly protocol = 'http/1.1';
  upgrade: string | undefined;
  keepAlive = true;
  statusCode = 0;
  headersSent = false;
  onClientGone: (() => void) | undefined;
  /** What the client got: its head, body and whether it was ended or cut. */
  head: { status: number; headers: readonly string[] } | undefined;
  readonly written: Buffer[] = [];
  ended = false;
  destroyed = false;
  /** Body hand-over calls, in order (`read`, `unread`, `resume`). */
  readonly bodyCalls: string[] = [];
  #pending: Buffer[] = [];
  #complete = false;
  #sink: BodySink | undefined;
  #paused = false;
  #gone = false;

  /** The client went away (goAway). */
  get gone(): boolean {
    return this.#gone;
  }

  readonly method: string;
  readonly hasBody: boolean;
  readonly grpc: boolean;

  constructor(method: string, hasBody: boolean, grpc = false) {
    this.method = method;
    this.hasBody = hasBody;
    this.grpc = grpc;
  }

  send(chunk: Buffer): void {
    if (this.#sink !== undefined && !this.#paused) this.#paused = !this.#sink.onData(chunk);
    else this.#pending.push(chunk);
  }

  finish(): void {
    this.#complete = true;
    this.#sink?.onEnd();
  }

  /** The client breaks its body off and stays (an HTTP/2 client's RST_STREAM on the request half, say). */
  breakBody(): void {
    const sink = this.#sink;
    this.#sink = undefined;
    sink?.onError(new Error('client broke the body off'));
  }

  /** The connection closed: the proxy hears first, then the body sink (as ClientExchange.gone does). */
  goAway(): void {
    this.#gone = true;
    const sink = this.#sink;
    this.#sink = undefined;
    this.onClientGone?.();
    if (sink !== undefined && !this.#complete) sink.onError(new Error('client closed the connection'));
  }

  readBody(sink: BodySink): void {
    this.bodyCalls.push('read');
    if (this.#gone) return;
    this.#sink = sink;
    this.#paused = false;
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i++) {
      if (this.#sink !== sink) {
        this.#pending = pending.slice(i);
        break;
      }
      this.send(pending[i]!);
    }
    if (this.#complete && this.#sink === sink) sink.onEnd();
  }

  unreadBody(sink: BodySink): void {
    this.bodyCalls.push('unread');
    if (this.#sink === sink) this.#sink = undefined;
  }

  resumeBody(): void {
    this.bodyCalls.push('resume');
    this.#paused = false;
    const pending = this.#pending;
    this.#pending = [];
    for (const chunk of pending) this.send(chunk);
  }

  writeHead(status: number, headers: readonly string[]): void {
    this.statusCode = status;
    this.headersSent = true;
    this.head = { status, headers };
  }

  write(chunk: Buffer): boolean {
    this.written.push(chunk);
    return true;
  }

  onceDrain(fn: () => void): void {
    setImmediate(fn);
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** The answer as a row states it. */
  answer(): Answer {
    if (this.destroyed) return 'destroyed';
    if (this.head === undefined) return 'nothing';
    const h = this.head.headers;
    const i = h.indexOf('x-switchyard-error');
    return { status: this.head.status, error: i >= 0 ? h[i + 1]! : null, ended: this.ended };
  }
}

type Answer = { status: number; error: string | null; ended: boolean } | 'destroyed' | 'nothing';

// --- the pods ----------------------------------------------------------------------------------

/** One dispatch to a pool, played like undici's Client plays it. */
class Call {
  connected = false;
  done = false;
  readonly received: Buffer[] = [];
  bodyEnded = false;

  readonly key: string;
  readonly options: Dispatcher.DispatchOptions;
  readonly handler: Dispatcher.DispatchHandler;

  constructor(key: string, options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
    this.key = key;
    this.options = options;
    this.handler = handler;
    // undici's Request: an error of the body stream fails the request.
    this.body?.on('error', (err: Error) => this.fail(err));
  }

  /** The body when it is a stream; a body collected whole comes as one Buffer (wholeBody). */
  get body(): Readable | null {
    const body = this.options.body;
    return body == null || Buffer.isBuffer(body) ? null : (body as Readable);
  }

  get wholeBody(): Buffer | undefined {
    const body = this.options.body;
    return Buffer.isBuffer(body) ? body : undefined;
  }

  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.handler.onError!(err);
    this.body?.destroy();
  }

  connect(): void {
    this.connected = true;
    this.handler.onConnect!((err) => this.fail(err ?? new Error('aborted')));
  }

  /** Reads the body as undici writes it to the socket: as it comes; resolves at its end. */
  readBody(): Promise<void> {
    const whole = this.wholeBody;
    if (whole !== undefined) {
      // undici writes a Buffer body in one go.
      this.received.push(whole);
      this.bodyEnded = true;
      return Promise.resolve();
    }
    const body = this.body;
    if (body === null) return Promise.resolve();
    return new Promise((resolve) => {
      body.on('data', (chunk: Buffer) => this.received.push(chunk));
      body.on('end', () => {
        this.bodyEnded = true;
        resolve();
      });
    });
  }

  respond(status: number, text: string, then: 'complete' | Error = 'complete'): void {
    const bytes = Buffer.from(text);
    this.handler.onHeaders!(status, [Buffer.from('content-length'), Buffer.from(String(then === 'complete' ? bytes.length : bytes.length * 2))], () => undefined, '');
    this.handler.onData!(bytes);
    if (then === 'complete') {
      this.done = true;
      this.handler.onComplete!(null);
    } else {
      this.fail(then);
    }
  }
}

type Step = (call: Call) => void;
const later =
  (fn: (call: Call) => void | Promise<void>): Step =>
  (call) =>
    void setImmediate(() => void fn(call));

/** undici or the pool refuses inside dispatch(), before anything was sent. */
const refuseNow =
  (code: string | undefined): Step =>
  (call) =>
    call.fail(coded(code));
/** The request waited in the pool's queue, then failed before a connection took it. */
const failQueued = (code: string): Step => later((c) => c.fail(coded(code)));
/** Connecting failed (nothing written). */
const connectFails = (code: string): Step => later((c) => c.fail(coded(code)));
/** Connected, the request (and its body) went out, then the pod failed before its response head. */
const failAfterWrite = (code: string): Step =>
  later(async (c) => {
    c.connect();
    await c.readBody();
    c.fail(coded(code));
  });
/** Connected and reading the body as it comes; never answers. */
const hold: Step = later((c) => {
  c.connect();
  void c.readBody();
});
const answer = (status: number, text = `from pod ${status}`): Step =>
  later(async (c) => {
    c.connect();
    await c.readBody();
    c.respond(status, text);
  });
const breakAfterHead = (code: string): Step =>
  later(async (c) => {
    c.connect();
    await c.readBody();
    c.respond(200, 'half', coded(code));
  });

// --- the proxy ---------------------------------------------------------------------------------

function setup(steps: readonly Step[], requestBufferSize: number, eps: readonly string[] = [A, B, C]) {
  const c = clock();
  const { log } = recordingLogger();
  // One counted connect failure or timeout ejects, with no cap on the share: the ejections show exactly what was counted.
  const be = backend(eps, { retries: 2, outlier: { ...OUTLIER, consecutiveConnectFailures: 1, maxEjectionPercent: 100 } });
  const health = new EndpointHealth({ log, now: c.now });
  health.observe(snapshotOf([be]));
  const budget = new RetryBudget(c.now);
  const counters = new TrafficCounters();
  const calls: Call[] = [];
  const pools = {
    get: (key: string) => ({
      dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
        const call = new Call(key, options, handler);
        calls.push(call);
        (steps[calls.length - 1] ?? answer(200, 'unexpected attempt'))(call);
      },
    }),
  } as unknown as UpstreamPools;
  const ctx: ProxyContext = {
    pools,
    balancer: new RoundRobin(),
    health,
    budget,
    counters,
    stats: new TrafficStats(),
    // Only an upgrade reads it (the connect timeout of its own Client).
    tunnels: { connectTimeoutMs: 1000 } as TunnelRegistry,
    defaults: { responseTimeoutMs: 60_000, idleTimeoutMs: 60_000, requestBufferSize, bodyBudget: new BodyBufferBudget(1 << 30) },
    log,
  };
  const recordFailure = vi.spyOn(health, 'recordFailure');
  const tryAcquire = vi.spyOn(budget, 'tryAcquire');
  return {
    ctx,
    be,
    calls,
    budget,
    /** The failures counted against pods, [endpoint, kind]. */
    failures: () => recordFailure.mock.calls.map(([key, kind]) => [key, kind] as [string, FailureKind]),
    ejected: () => eps.filter((k) => !health.available(k)),
    /** Retries taken from the budget (asked for, and granted). */
    budgetAsked: () => tryAcquire.mock.calls.length,
    budgetGranted: () => tryAcquire.mock.results.filter((r) => r.value === true).length,
  };
}

/** Bodies a row's client sends: none, a whole small one, a small one that never ends, a large one that never ends. */
type BodyKind = 'none' | 'whole' | 'partial' | 'large-partial';
const LARGE = Buffer.alloc(80 * KIB, 'x');

function client(method: string, body: BodyKind, grpc = false): FakeClient {
  const exchange = new FakeClient(method, body !== 'none', grpc);
  if (body === 'whole') {
    exchange.send(Buffer.from('hello world'));
    exchange.finish();
  } else if (body === 'partial') {
    exchange.send(Buffer.from('hello '));
  } else if (body === 'large-partial') {
    for (let i = 0; i < 4; i++) exchange.send(LARGE.subarray(i * 20 * KIB, (i + 1) * 20 * KIB));
  }
  return exchange;
}

const status = (s: number, error: string | null) => ({ status: s, error, ended: true });

interface Row {
  readonly name: string;
  readonly method?: string;
  readonly body?: BodyKind;
  readonly grpc?: boolean;
  /** An upgrade (WebSocket) request: sent on a Client of its own, not through the pools. */
  readonly upgrade?: string;
  /** The header fields forwarded (default: one Host). */
  readonly headers?: readonly string[];
  readonly eps?: readonly string[];
  readonly steps: readonly Step[];
  /** What the client does once the first attempt is under way. */
  readonly act?: (client: FakeClient) => void;
  /** Run with these buffer sizes only (default: both). */
  readonly buffers?: readonly number[];
  readonly setup?: (t: ReturnType<typeof setup>) => void;
  readonly answer: Answer;
  readonly dispatches: readonly string[];
  readonly failures: readonly [string, FailureKind][];
  readonly ejected: readonly string[];
  /** Retries made (counters.retries, and retries granted by the budget). */
  readonly retries: number;
  /** Times the budget was asked (default: `retries`). */
  readonly budgetAsked?: number;
  /** The body the last pod received. */
  readonly podBody?: string;
}

const NOT_FORWARDABLE = status(400, 'request-not-forwardable');
const INTERNAL = status(500, 'proxy-error');

const rows: Row[] = [
  // Switchyard's side: never counted, never retried, never from the budget.
  { name: 'undici refuses to build the request (InvalidArgumentError, in dispatch)', steps: [refuseNow('UND_ERR_INVALID_ARG')], answer: NOT_FORWARDABLE, dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'undici refuses to build the request (InvalidArgumentError), POST with a body', method: 'POST', body: 'whole', steps: [refuseNow('UND_ERR_INVALID_ARG')], answer: NOT_FORWARDABLE, dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'undici does not support the request (NotSupportedError, in dispatch)', steps: [refuseNow('UND_ERR_NOT_SUPPORTED')], answer: NOT_FORWARDABLE, dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'a gRPC call undici refuses gets INVALID_ARGUMENT', method: 'POST', body: 'whole', grpc: true, steps: [refuseNow('UND_ERR_INVALID_ARG')], answer: status(200, 'request-not-forwardable'), dispatches: [A], failures: [], ejected: [], retries: 0 },
  {
    name: 'undici refuses to build an upgrade request (two Host fields): its own Client, no pod asked',
    upgrade: 'websocket',
    headers: ['host', 'a', 'host', 'b'],
    steps: [],
    answer: NOT_FORWARDABLE,
    dispatches: [],
    failures: [],
    ejected: [],
    retries: 0,
  },
  { name: 'a pool that refuses in dispatch without a code (closed pool)', steps: [refuseNow(undefined)], answer: INTERNAL, dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'a connection destroyed on our side refuses in dispatch (UND_ERR_DESTROYED)', steps: [refuseNow('UND_ERR_DESTROYED')], answer: INTERNAL, dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'an HTTP/2 pool refuses a header in dispatch (ERR_HTTP2_INVALID_HEADER_VALUE)', steps: [refuseNow('ERR_HTTP2_INVALID_HEADER_VALUE')], answer: INTERNAL, dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'the connection queue is full (SWY_ERR_UPSTREAM_BUSY, in dispatch)', steps: [refuseNow(ErrorCode.UPSTREAM_BUSY)], answer: status(503, 'upstream-busy'), dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'the queue wait ran out (SWY_ERR_UPSTREAM_QUEUE_TIMEOUT, later)', steps: [failQueued(ErrorCode.UPSTREAM_QUEUE_TIMEOUT)], answer: status(504, 'upstream-queue-timeout'), dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'the queue wait ran out for a POST with a body', method: 'POST', body: 'whole', steps: [failQueued(ErrorCode.UPSTREAM_QUEUE_TIMEOUT)], answer: status(504, 'upstream-queue-timeout'), dispatches: [A], failures: [], ejected: [], retries: 0 },
  // The queue hands the request to a Client only when a connection frees up: undici's refusal then comes outside the pool's dispatch().
  { name: 'undici refuses a request that waited in the queue (InvalidArgumentError, later, before onConnect)', steps: [failQueued('UND_ERR_INVALID_ARG')], answer: NOT_FORWARDABLE, dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'the client breaks its body off while the pod reads it', method: 'POST', body: 'large-partial', steps: [hold], act: (cl) => cl.breakBody(), answer: INTERNAL, dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'the client goes away while the pod reads its body', method: 'POST', body: 'large-partial', steps: [hold], act: (cl) => cl.goAway(), answer: 'nothing', dispatches: [A], failures: [], ejected: [], retries: 0 },
  { name: 'the client goes away while its body is collected: no pod is asked', method: 'POST', body: 'partial', steps: [], act: (cl) => cl.goAway(), buffers: [64 * KIB], answer: 'nothing', dispatches: [], failures: [], ejected: [], retries: 0 },
  // Unreachable with today's exchanges (a body error always comes with the client gone, or answered by the
  // exchange itself), but where it reaches the proxy it is answered only once the pod reads the body (row above).
  {
    name: 'the client breaks its body off while it is collected, and stays',
    method: 'POST',
    body: 'partial',
    steps: [],
    act: (cl) => cl.breakBody(),
    buffers: [64 * KIB],
    answer: INTERNAL,
    dispatches: [],
    failures: [],
    ejected: [],
    retries: 0,
  },
  { name: 'the client goes away while waiting for the response head', steps: [hold], act: (cl) => cl.goAway(), answer: 'nothing', dispatches: [A], failures: [], ejected: [], retries: 0 },
  {
    name: 'the client goes away while the request is queued; a connection takes it later',
    steps: [
      later((c) => {
        setTimeout(() => c.connect(), 5);
      }),
    ],
    act: (cl) => cl.goAway(),
    answer: 'nothing',
    dispatches: [A],
    failures: [],
    ejected: [],
    retries: 0,
  },
  {
    name: 'the client goes away in the middle of the response',
    steps: [
      later((c) => {
        c.connect();
        c.handler.onHeaders!(200, [Buffer.from('content-length'), Buffer.from('100')], () => undefined, '');
        c.handler.onData!(Buffer.from('part'));
      }),
    ],
    act: (cl) => cl.goAway(),
    answer: { status: 200, error: null, ended: false },
    dispatches: [A],
    failures: [],
    ejected: [],
    retries: 0,
  },

  // The pod's side: counted; retried when nothing was written (or a bodiless GET was reset before its answer).
  { name: 'connection refused (ECONNREFUSED): counted, retried on the next pod', steps: [connectFails('ECONNREFUSED'), answer(200)], answer: status(200, null), dispatches: [A, B], failures: [[A, 'connect']], ejected: [A], retries: 1 },
  { name: 'connection refused on a POST: nothing was written, retried with the whole body', method: 'POST', body: 'whole', steps: [connectFails('ECONNREFUSED'), answer(200)], answer: status(200, null), dispatches: [A, B], failures: [[A, 'connect']], ejected: [A], retries: 1, podBody: 'hello world' },
  { name: 'connect timeout (UND_ERR_CONNECT_TIMEOUT): counted as a timeout, retried', steps: [connectFails('UND_ERR_CONNECT_TIMEOUT'), answer(200)], answer: status(200, null), dispatches: [A, B], failures: [[A, 'timeout']], ejected: [A], retries: 1 },
  { name: 'reset after the request went out (ECONNRESET), GET: retried', steps: [failAfterWrite('ECONNRESET'), answer(200)], answer: status(200, null), dispatches: [A, B], failures: [[A, 'connect']], ejected: [A], retries: 1 },
  { name: 'socket error after the request went out (UND_ERR_SOCKET), GET: retried', steps: [failAfterWrite('UND_ERR_SOCKET'), answer(200)], answer: status(200, null), dispatches: [A, B], failures: [[A, 'connect']], ejected: [A], retries: 1 },
  { name: 'reset after a POST body went out: counted, not replayed', method: 'POST', body: 'whole', steps: [failAfterWrite('ECONNRESET')], answer: status(502, 'upstream-connect-failed'), dispatches: [A], failures: [[A, 'connect']], ejected: [A], retries: 0 },
  { name: 'no response head in time (UND_ERR_HEADERS_TIMEOUT): counted, not retried', steps: [failAfterWrite('UND_ERR_HEADERS_TIMEOUT')], answer: status(504, 'upstream-timeout'), dispatches: [A], failures: [[A, 'timeout']], ejected: [A], retries: 0 },
  { name: 'a malformed response (HPE_INVALID_CONSTANT): counted, not retried', steps: [failAfterWrite('HPE_INVALID_CONSTANT')], answer: status(502, 'upstream-protocol-error'), dispatches: [A], failures: [[A, 'connect']], ejected: [A], retries: 0 },
  { name: "the pod's 5xx is relayed and counted as a 5xx (below the ejection streak)", steps: [answer(503)], answer: status(503, null), dispatches: [A], failures: [[A, '5xx']], ejected: [], retries: 0 },
  { name: 'the response breaks off after its head: the client connection is cut', steps: [breakAfterHead('ECONNRESET')], answer: 'destroyed', dispatches: [A], failures: [], ejected: [], retries: 0 },
  {
    name: 'every pod refuses: each counted, retries stop at the Service limit',
    steps: [connectFails('ECONNREFUSED'), connectFails('ECONNREFUSED'), connectFails('ECONNREFUSED')],
    answer: status(502, 'upstream-connect-failed'),
    dispatches: [A, B, C],
    failures: [[A, 'connect'], [B, 'connect'], [C, 'connect']],
    ejected: [A, B, C],
    retries: 2,
  },
  { name: 'the only pod refuses: nothing to retry on', eps: [A], steps: [connectFails('ECONNREFUSED')], answer: status(502, 'upstream-connect-failed'), dispatches: [A], failures: [[A, 'connect']], ejected: [A], retries: 0 },
  {
    name: 'the retry budget is spent: the refusal is counted, not retried',
    steps: [connectFails('ECONNREFUSED')],
    setup: (t) => {
      // The request about to start earns its share too: count it first, then spend everything.
      t.budget.recordRequest(t.be.key);
      while (t.budget.tryAcquire(t.be.key, t.be.policy.retryBudgetPercent));
    },
    answer: status(502, 'upstream-connect-failed'),
    dispatches: [A],
    failures: [[A, 'connect']],
    ejected: [A],
    retries: 0,
    budgetAsked: 1,
  },
  { name: "a retry that meets a full queue: the first pod counted, the busy one not", steps: [connectFails('ECONNREFUSED'), refuseNow(ErrorCode.UPSTREAM_BUSY)], answer: status(503, 'upstream-busy'), dispatches: [A, B], failures: [[A, 'connect']], ejected: [A], retries: 1 },
  { name: 'no endpoint at all', eps: [], steps: [], answer: status(503, 'no-ready-endpoint'), dispatches: [], failures: [], ejected: [], retries: 0 },
];

describe('proxyRequest: whose failure it is (issue #14)', () => {
  const cases = rows.flatMap((row) => (row.buffers ?? BUFFER_SIZES).map((size) => [`${row.name} [buffer ${size}]`, row, size] as const));
  it.each(cases)('%s', (_name, row, size) => playRow(row, size));

  async function playRow(row: Row, size: number): Promise<void> {
    const t = setup(row.steps, size, row.eps);
    row.setup?.(t);
    const askedBefore = t.budgetAsked();
    const grantedBefore = t.budgetGranted();
    const exchange = client(row.method ?? (row.body === undefined || row.body === 'none' ? 'GET' : 'POST'), row.body ?? 'none', row.grpc);
    exchange.upgrade = row.upgrade;
    proxyRequest(t.ctx, exchange, t.be, '/', [...(row.headers ?? ['host', 'shop.test'])]);
    await settle();
    if (row.act !== undefined) {
      row.act(exchange);
      await settle();
    }
    await new Promise((r) => setTimeout(r, 10)); // a connection that takes a queued request 5 ms later
    await settle();

    expect(exchange.answer(), 'what the client got').toEqual(row.answer);
    expect(
      t.calls.map((c) => c.key),
      'endpoints dispatched to',
    ).toEqual(row.dispatches);
    expect(t.failures(), 'failures counted against pods').toEqual(row.failures);
    expect(t.ejected(), 'pods ejected').toEqual(row.ejected);
    expect(exchange.trace.retries, 'retries').toBe(row.retries);
    expect(t.ctx.stats.families().find((f) => f.name === 'switchyard_upstream_retries_total')!.values[0]?.value ?? 0, 'retries counted').toBe(row.retries);
    expect(t.budgetAsked() - askedBefore, 'retry budget asked').toBe(row.budgetAsked ?? row.retries);
    expect(t.budgetGranted() - grantedBefore, 'retry budget granted').toBe(row.retries);
    if (row.podBody !== undefined) expect(Buffer.concat(t.calls.at(-1)!.received).toString()).toBe(row.podBody);
    // A request whose body may be left unread never leaves the client connection open for another.
    if (row.body !== undefined && row.body !== 'none' && typeof row.answer === 'object' && row.answer.error !== null) expect(exchange.keepAlive).toBe(false);
    // An exchange that is over (answered, cut, or its client gone) holds no collected body bytes any more.
    const over = (typeof row.answer === 'object' && row.answer.ended) || row.answer === 'destroyed' || exchange.gone;
    if (over) expect(t.ctx.defaults.bodyBudget.used, 'body bytes still counted').toBe(0);
  }
});

describe('proxyRequest: the request body and the pod connection', () => {
  it('buffer 0: the pod is asked at once and reads the body as it comes', async () => {
    const t = setup([hold], 0);
    const exchange = client('POST', 'partial');
    proxyRequest(t.ctx, exchange, t.be, '/', ['host', 'shop.test']);
    expect(t.calls.map((c) => c.key)).toEqual([A]);
    await settle();
    exchange.send(Buffer.from('world'));
    exchange.finish();
    await settle();
    expect(Buffer.concat(t.calls[0]!.received).toString()).toBe('hello world');
    expect(t.calls[0]!.bodyEnded).toBe(true);
  });

  it('64 KiB: no pod is asked before the whole small body arrived', async () => {
    const t = setup([answer(200)], 64 * KIB);
    const exchange = client('POST', 'partial');
    proxyRequest(t.ctx, exchange, t.be, '/', ['host', 'shop.test']);
    await settle();
    exchange.send(Buffer.alloc(1000, 'y'));
    await settle();
    expect(t.calls, 'no dispatch while the body is short of its end and of the buffer').toHaveLength(0);
    exchange.finish();
    expect(t.calls.map((c) => c.key)).toEqual([A]);
    await settle();
    expect(Buffer.concat(t.calls[0]!.received).toString()).toBe(`hello ${'y'.repeat(1000)}`);
    expect(exchange.answer()).toEqual(status(200, null));
  });

  it('64 KiB: a larger body is dispatched once its first 64 KiB arrived, the rest streamed after', async () => {
    const t = setup([answer(200)], 64 * KIB);
    const exchange = new FakeClient('POST', true);
    proxyRequest(t.ctx, exchange, t.be, '/', ['host', 'shop.test']);
    const chunk = Buffer.alloc(16 * KIB, 'z');
    for (let i = 0; i < 3; i++) exchange.send(chunk);
    await settle();
    expect(t.calls, '48 KiB: not yet').toHaveLength(0);
    exchange.send(chunk);
    await settle();
    expect(t.calls, '64 KiB: dispatched').toHaveLength(1);
    exchange.send(chunk);
    exchange.finish();
    await settle();
    expect(Buffer.concat(t.calls[0]!.received).length).toBe(80 * KIB);
    expect(exchange.answer()).toEqual(status(200, null));
  });

  it('64 KiB: a retry after a refused connection replays the collected body without reading the client again', async () => {
    const t = setup([connectFails('ECONNREFUSED'), answer(200)], 64 * KIB);
    const exchange = client('POST', 'whole');
    proxyRequest(t.ctx, exchange, t.be, '/', ['host', 'shop.test']);
    await settle();
    expect(t.calls.map((c) => [c.key, Buffer.concat(c.received).toString()])).toEqual([
      [A, ''],
      [B, 'hello world'],
    ]);
    expect(exchange.bodyCalls.filter((c) => c === 'read'), 'the client body was read once').toHaveLength(1);
  });
});
