import type { ClientExchange } from '../../../src/dataplane/client-exchange.ts';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { classifyUpstreamError, clientFailureResponse, ERROR_HEADER, FAILURES, GRPC_STATUSES, grpcFailureHead, grpcFailureTrailers, rawClientFailure, sendFailure, type FailureCode } from '../../../src/dataplane/status.ts';
import type { HttpExchange } from '../../../src/dataplane/exchange.ts';
import { ExchangeTrace } from '../../../src/dataplane/exchange-trace.ts';

const withCode = (code: unknown) => Object.assign(new Error('boom'), { code });

describe('classifyUpstreamError', () => {
  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', ErrorCode.UPSTREAM_TIMEOUT],
    ['UND_ERR_HEADERS_TIMEOUT', ErrorCode.UPSTREAM_TIMEOUT],
    ['UND_ERR_BODY_TIMEOUT', ErrorCode.UPSTREAM_TIMEOUT],
    ['ETIMEDOUT', ErrorCode.UPSTREAM_TIMEOUT],
    ['ECONNREFUSED', ErrorCode.UPSTREAM_CONNECT],
    ['ECONNRESET', ErrorCode.UPSTREAM_CONNECT],
    ['EHOSTUNREACH', ErrorCode.UPSTREAM_CONNECT],
    ['ENETUNREACH', ErrorCode.UPSTREAM_CONNECT],
    ['EADDRNOTAVAIL', ErrorCode.UPSTREAM_CONNECT],
    ['ENOTFOUND', ErrorCode.UPSTREAM_CONNECT],
    ['EAI_AGAIN', ErrorCode.UPSTREAM_CONNECT],
    ['EPIPE', ErrorCode.UPSTREAM_CONNECT],
    ['UND_ERR_SOCKET', ErrorCode.UPSTREAM_CONNECT],
    ['UND_ERR_CLOSED', ErrorCode.UPSTREAM_CONNECT],
    ['UND_ERR_DESTROYED', ErrorCode.UPSTREAM_CONNECT],
    ['SWY_ERR_UPSTREAM_TLS', ErrorCode.UPSTREAM_TLS],
    ['SWY_ERR_UPSTREAM_PROTOCOL', ErrorCode.UPSTREAM_PROTOCOL],
    ['HPE_INVALID_CONSTANT', ErrorCode.UPSTREAM_PROTOCOL],
    ['UND_ERR_RESPONSE_STATUS_CODE', ErrorCode.UPSTREAM_PROTOCOL],
    ['econnrefused', ErrorCode.UPSTREAM_PROTOCOL],
  ])('code %s → %s', (code, expected) => {
    expect(classifyUpstreamError(withCode(code))).toBe(expected);
  });

  it.each([
    ['an Error without code', new Error('x')],
    ['a numeric code', withCode(111)],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'ECONNREFUSED'],
    ['a plain object', {}],
  ])('%s → upstream protocol error', (_name, err) => {
    expect(classifyUpstreamError(err)).toBe(ErrorCode.UPSTREAM_PROTOCOL);
  });

  it('a plain object carrying a code is classified (errors that crossed a boundary)', () => {
    expect(classifyUpstreamError({ code: 'ECONNREFUSED' })).toBe(ErrorCode.UPSTREAM_CONNECT);
  });
});

describe('FAILURES and sendFailure', () => {
  it.each([
    [ErrorCode.NO_ROUTE, 404, 'no-route'],
    [ErrorCode.MISDIRECTED_REQUEST, 421, 'misdirected-request'],
    [ErrorCode.UNKNOWN_SERVICE, 503, 'unknown-service'],
    [ErrorCode.BACKEND_INVALID, 500, 'invalid-backend'],
    [ErrorCode.NO_READY_ENDPOINT, 503, 'no-ready-endpoint'],
    [ErrorCode.UPSTREAM_CONNECT, 502, 'upstream-connect-failed'],
    [ErrorCode.UPSTREAM_PROTOCOL, 502, 'upstream-protocol-error'],
    [ErrorCode.UPSTREAM_TIMEOUT, 504, 'upstream-timeout'],
    [ErrorCode.UPSTREAM_TLS, 502, 'upstream-tls-failed'],
    [ErrorCode.UPSTREAM_BUSY, 503, 'upstream-busy'],
    [ErrorCode.UPSTREAM_QUEUE_TIMEOUT, 504, 'upstream-queue-timeout'],
    [ErrorCode.REQUEST_NOT_FORWARDABLE, 400, 'request-not-forwardable'],
    [ErrorCode.REQUEST_BODY_TIMEOUT, 408, 'body-timeout'],
    [ErrorCode.REQUEST_PATH_REJECTED, 400, 'bad-path'],
    [ErrorCode.REQUEST_HEADER_REJECTED, 400, 'bad-header-name'],
    [ErrorCode.PROXY_INTERNAL, 500, 'proxy-error'],
  ] as [FailureCode, number, string][])('%s → %i %s', (code, status, reason) => {
    expect([FAILURES[code].status, FAILURES[code].reason]).toEqual([status, reason]);
    expect(FAILURES[code].body.endsWith('\n')).toBe(true);

    const calls: unknown[][] = [];
    const res = {
      headersSent: false,
      requestId: 'rid-9',
      trace: new ExchangeTrace(0),
      writeHead: (...args: unknown[]) => calls.push(['writeHead', ...args]),
      write: (chunk: Buffer) => calls.push(['write', chunk.toString()]),
      end: (...args: unknown[]) => calls.push(['end', ...args]),
      destroy: () => calls.push(['destroy']),
    } as unknown as ClientExchange;
    sendFailure(res, code);
    // The access log and the metrics read the reason from the exchange's trace.
    expect(res.trace.error).toBe(reason);
    const body = FAILURES[code].body;
    expect(calls).toEqual([
      ['writeHead', status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'server', 'switchyard', ERROR_HEADER, reason, 'x-request-id', 'rid-9']],
      ['write', body],
      ['end'],
    ]);
  });

  it('destroys the response when headers were already sent', () => {
    const calls: string[] = [];
    const res = { headersSent: true, trace: new ExchangeTrace(0), writeHead: () => calls.push('writeHead'), end: () => calls.push('end'), destroy: () => calls.push('destroy') } as unknown as ClientExchange;
    sendFailure(res, ErrorCode.UPSTREAM_PROTOCOL);
    expect(calls).toEqual(['destroy']);
  });
});

describe('rawClientFailure', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', '431 Request Header Fields Too Large', 'header-too-large', 'request header fields too large\n'],
    ['HPE_INVALID_METHOD', '400 Bad Request', 'bad-request', 'bad request\n'],
    ['ERR_HTTP_REQUEST_TIMEOUT', '408 Request Timeout', 'request-timeout', 'request timeout\n'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', '413 Content Too Large', 'chunk-extensions-too-large', 'chunk extensions too large\n'],
    ['MISSING_HOST', '400 Bad Request', 'missing-host', 'bad request: no host header\n'],
    ['DUPLICATE_HOST', '400 Bad Request', 'duplicate-host', 'bad request: more than one host header\n'],
    ['INVALID_HOST', '400 Bad Request', 'invalid-host', 'bad request: invalid host header\n'],
    ['TRANSFER_ENCODING_HTTP10', '400 Bad Request', 'bad-request', 'bad request: transfer-encoding in HTTP/1.0\n'],
    ['UNSUPPORTED_TRANSFER_CODING', '501 Not Implemented', 'unsupported-transfer-coding', 'transfer coding not implemented\n'],
    ['BODY_TIMEOUT', '408 Request Timeout', 'body-timeout', 'request body timeout\n'],
    ['EXPECTATION_FAILED', '417 Expectation Failed', 'expectation-failed', 'expectation failed\n'],
    ['CONNECT_NOT_ALLOWED', '405 Method Not Allowed', 'connect-not-allowed', 'CONNECT not allowed\n', 'allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
    ['toString', '400 Bad Request', 'bad-request', 'bad request\n'],
    [undefined, '400 Bad Request', 'bad-request', 'bad request\n'],
  ])('%s → %s', (code, statusLine, reason, body, extraHeader?: string) => {
    const raw = rawClientFailure(code);
    const [head, rest] = raw.split('\r\n\r\n');
    const lines = head!.split('\r\n');
    expect(lines[0]).toBe(`HTTP/1.1 ${statusLine}`);
    const expected = ['connection: close', `content-length: ${Buffer.byteLength(body)}`, 'content-type: text/plain; charset=utf-8', 'server: switchyard', `x-switchyard-error: ${reason}`];
    if (extraHeader !== undefined) expected.push(extraHeader);
    expect(lines.slice(1).sort()).toEqual(expected.sort());
    expect(rest).toBe(body);
  });
});

/** A recording exchange: what sendFailure did to it, in order. */
function recorder(grpc: boolean, headersSent: boolean): { exchange: HttpExchange; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const exchange = {
    grpc,
    headersSent,
    requestId: 'rid-9',
    trace: new ExchangeTrace(0),
    writeHead: (...args: unknown[]) => calls.push(['writeHead', ...args]),
    write: (chunk: Buffer) => calls.push(['write', chunk.toString()]),
    end: (...args: unknown[]) => calls.push(['end', ...args]),
    destroy: () => calls.push(['destroy']),
  } as unknown as HttpExchange;
  return { exchange, calls };
}

describe('sendFailure for a gRPC call (exchange.grpc)', () => {
  // [code, grpc-status, grpc-message (percent-encoded), x-switchyard-error]
  const cases: [FailureCode, number, string, string][] = [
    [ErrorCode.NO_ROUTE, 5, 'no route for this host and path', 'no-route'],
    [ErrorCode.MISDIRECTED_REQUEST, 14, 'misdirected request: this connection does not serve that host', 'misdirected-request'],
    [ErrorCode.UNKNOWN_SERVICE, 14, 'backend service unavailable', 'unknown-service'],
    [ErrorCode.BACKEND_INVALID, 14, 'route backend invalid', 'invalid-backend'],
    [ErrorCode.SERVICE_NOT_FOUND, 5, 'no such service', 'unknown-service'],
    [ErrorCode.SERVICE_PORT_NOT_FOUND, 5, 'no such service port', 'unknown-service-port'],
    [ErrorCode.NOT_A_SERVICE, 7, 'not a service of this cluster', 'not-a-service'],
    [ErrorCode.NO_READY_ENDPOINT, 14, 'no ready endpoint for this service', 'no-ready-endpoint'],
    [ErrorCode.UPSTREAM_CONNECT, 14, 'upstream connection failed', 'upstream-connect-failed'],
    [ErrorCode.UPSTREAM_PROTOCOL, 14, 'upstream protocol error', 'upstream-protocol-error'],
    [ErrorCode.UPSTREAM_TIMEOUT, 4, 'upstream timed out', 'upstream-timeout'],
    [ErrorCode.UPSTREAM_TLS, 14, 'upstream TLS handshake failed', 'upstream-tls-failed'],
    [ErrorCode.UPSTREAM_BUSY, 14, 'upstream busy', 'upstream-busy'],
    [ErrorCode.UPSTREAM_QUEUE_TIMEOUT, 4, 'upstream timed out', 'upstream-queue-timeout'],
    [ErrorCode.REQUEST_NOT_FORWARDABLE, 3, 'bad request: cannot be forwarded', 'request-not-forwardable'],
    [ErrorCode.REQUEST_BODY_TIMEOUT, 4, 'request body timeout', 'body-timeout'],
    [ErrorCode.REQUEST_PATH_REJECTED, 3, 'bad request: path not allowed', 'bad-path'],
    [ErrorCode.REQUEST_HEADER_REJECTED, 3, 'bad request: header name not allowed', 'bad-header-name'],
    [ErrorCode.PROXY_INTERNAL, 13, 'request could not be forwarded', 'proxy-error'],
  ];

  it('every failure has a gRPC status (the table is complete)', () => {
    expect(Object.keys(GRPC_STATUSES).sort()).toEqual(Object.keys(FAILURES).sort());
    expect(cases.map((c) => c[0]).sort()).toEqual(Object.keys(FAILURES).sort());
  });

  it.each(cases)('%s → HTTP 200, trailers-only, grpc-status %i', (code, grpcStatus, message, reason) => {
    const { exchange, calls } = recorder(true, false);
    sendFailure(exchange, code);
    const head = ['content-type', 'application/grpc', 'grpc-status', String(grpcStatus), 'grpc-message', message, 'server', 'switchyard', ERROR_HEADER, reason];
    // Headers only, then end() without a body or trailers: one HEADERS frame with END_STREAM over HTTP/2.
    expect(calls).toEqual([['writeHead', 200, [...head, 'x-request-id', 'rid-9']], ['end']]);
    expect(grpcFailureHead(code)).toEqual(head);
    expect(grpcFailureTrailers(code)).toEqual(['grpc-status', String(grpcStatus), 'grpc-message', message]);
  });

  it('after the response head went out, a gRPC call ends with the status in trailers instead of being cut', () => {
    const { exchange, calls } = recorder(true, true);
    sendFailure(exchange, ErrorCode.UPSTREAM_CONNECT);
    expect(calls).toEqual([['end', ['grpc-status', '14', 'grpc-message', 'upstream connection failed']]]);
  });

  it('a timeout midway ends with DEADLINE_EXCEEDED trailers', () => {
    const { exchange, calls } = recorder(true, true);
    sendFailure(exchange, ErrorCode.UPSTREAM_TIMEOUT);
    expect(calls).toEqual([['end', ['grpc-status', '4', 'grpc-message', 'upstream timed out']]]);
  });

  it('a non-gRPC exchange is unchanged: cut after the head, a plain-text answer before it', () => {
    const cut = recorder(false, true);
    sendFailure(cut.exchange, ErrorCode.UPSTREAM_CONNECT);
    expect(cut.calls).toEqual([['destroy']]);
    const plain = recorder(false, false);
    sendFailure(plain.exchange, ErrorCode.NO_ROUTE);
    expect(plain.calls[0]![1]).toBe(404);
  });

  it('grpc-message values need no encoding but would get it (only 0x20–0x7E but %)', () => {
    for (const code of Object.keys(FAILURES) as FailureCode[]) {
      const message = grpcFailureTrailers(code)[3]!;
      expect(message).toMatch(/^[\x20-\x24\x26-\x7e]*$/);
    }
  });
});

describe('clientFailureResponse', () => {
  it.each([['HPE_HEADER_OVERFLOW'], ['HPE_CHUNK_EXTENSIONS_OVERFLOW'], ['ERR_HTTP_REQUEST_TIMEOUT'], ['MISSING_HOST'], ['EXPECTATION_FAILED'], ['CONNECT_NOT_ALLOWED'], ['HPE_INVALID_METHOD'], [undefined]])(
    '%s: the same status, fields and body as the raw HTTP/1.1 answer',
    (code) => {
      const raw = rawClientFailure(code);
      const [head, body] = raw.split('\r\n\r\n');
      const [statusLine, ...lines] = head!.split('\r\n');
      const answer = clientFailureResponse(code);
      expect(statusLine).toBe(`HTTP/1.1 ${answer.status} ${statusLine!.split(' ').slice(2).join(' ')}`);
      const fields = lines.filter((l) => !l.startsWith('connection:'));
      const pairs: string[] = [];
      for (let i = 0; i < answer.headers.length; i += 2) pairs.push(`${answer.headers[i]}: ${answer.headers[i + 1]}`);
      expect(pairs.sort()).toEqual(fields.sort());
      expect(answer.body.toString()).toBe(body);
    },
  );
});
