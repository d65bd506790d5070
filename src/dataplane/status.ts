/**
 * The one place where a failure becomes an HTTP status. Client-facing bodies are short and generic;
 * the `x-switchyard-error` header names the reason; details go to the log.
 */
import { ErrorCode } from '../errors.ts';
import { SERVER_NAME } from './headers.ts';
import type { HttpExchange } from './exchange.ts';
import { GrpcStatus, percentEncodeGrpcMessage } from './grpc.ts';

export interface Failure {
  readonly status: number;
  /** Value of the x-switchyard-error header. */
  readonly reason: string;
  readonly body: string;
}

const failure = (status: number, reason: string, body: string): Failure => ({ status, reason, body: `${body}\n` });

export const FAILURES = {
  [ErrorCode.NO_ROUTE]: failure(404, 'no-route', 'no route for this host and path'),
  [ErrorCode.MISDIRECTED_REQUEST]: failure(421, 'misdirected-request', 'misdirected request: this connection does not serve that host'),
  [ErrorCode.UNKNOWN_SERVICE]: failure(503, 'unknown-service', 'backend service unavailable'),
  [ErrorCode.BACKEND_INVALID]: failure(500, 'invalid-backend', 'route backend invalid'),
  [ErrorCode.SERVICE_NOT_FOUND]: failure(502, 'unknown-service', 'no such service'),
  [ErrorCode.SERVICE_PORT_NOT_FOUND]: failure(502, 'unknown-service-port', 'no such service port'),
  [ErrorCode.NOT_A_SERVICE]: failure(403, 'not-a-service', 'not a service of this cluster'),
  [ErrorCode.NO_READY_ENDPOINT]: failure(503, 'no-ready-endpoint', 'no ready endpoint for this service'),
  [ErrorCode.UPSTREAM_CONNECT]: failure(502, 'upstream-connect-failed', 'upstream connection failed'),
  [ErrorCode.UPSTREAM_PROTOCOL]: failure(502, 'upstream-protocol-error', 'upstream protocol error'),
  [ErrorCode.UPSTREAM_TIMEOUT]: failure(504, 'upstream-timeout', 'upstream timed out'),
  [ErrorCode.UPSTREAM_TLS]: failure(502, 'upstream-tls-failed', 'upstream TLS handshake failed'),
  [ErrorCode.UPSTREAM_BUSY]: failure(503, 'upstream-busy', 'upstream busy'),
  [ErrorCode.UPSTREAM_QUEUE_TIMEOUT]: failure(504, 'upstream-queue-timeout', 'upstream timed out'),
  [ErrorCode.REQUEST_NOT_FORWARDABLE]: failure(400, 'request-not-forwardable', 'bad request: cannot be forwarded'),
  [ErrorCode.REQUEST_BODY_TIMEOUT]: failure(408, 'body-timeout', 'request body timeout'),
  [ErrorCode.REQUEST_PATH_REJECTED]: failure(400, 'bad-path', 'bad request: path not allowed'),
  [ErrorCode.REQUEST_HEADER_REJECTED]: failure(400, 'bad-header-name', 'bad request: header name not allowed'),
  [ErrorCode.PROXY_INTERNAL]: failure(500, 'proxy-error', 'request could not be forwarded'),
} as const satisfies Partial<Record<ErrorCode, Failure>>;

export type FailureCode = keyof typeof FAILURES;

export const ERROR_HEADER = 'x-switchyard-error';
const REQUEST_ID_HEADER = 'x-request-id';

/** The response head fields and body of each failure, built once. */
const FAILURE_RESPONSES = new Map<string, { readonly headers: readonly string[]; readonly body: Buffer }>(
  Object.entries(FAILURES).map(([code, f]) => {
    const body = Buffer.from(f.body);
    return [code, { headers: ['content-type', 'text/plain; charset=utf-8', 'content-length', String(body.length), 'server', SERVER_NAME, ERROR_HEADER, f.reason], body }];
  }),
);

/**
 * The gRPC status of each failure, for calls (`exchange.grpc`): what the issue specifies (no route 5
 * NOT_FOUND, no ready pod, connect failure, reset and protocol error 14 UNAVAILABLE, timeout 4
 * DEADLINE_EXCEEDED), and for the Service listener's refusals their HTTP meaning (no such Service or port:
 * NOT_FOUND; outside the cluster: PERMISSION_DENIED). A route whose Service is missing is UNAVAILABLE, as
 * its 503 says: the configuration is incomplete, not the method unknown. So is a route backendRef that
 * does not resolve (HTTP 500): GRPCRoute's spec requires UNAVAILABLE for the share of such a backend.
 */
export const GRPC_STATUSES = {
  [ErrorCode.NO_ROUTE]: GrpcStatus.NOT_FOUND,
  // A new connection with the right server name succeeds: the call may be retried.
  [ErrorCode.MISDIRECTED_REQUEST]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.UNKNOWN_SERVICE]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.BACKEND_INVALID]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.SERVICE_NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [ErrorCode.SERVICE_PORT_NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [ErrorCode.NOT_A_SERVICE]: GrpcStatus.PERMISSION_DENIED,
  [ErrorCode.NO_READY_ENDPOINT]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.UPSTREAM_CONNECT]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.UPSTREAM_PROTOCOL]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.UPSTREAM_TIMEOUT]: GrpcStatus.DEADLINE_EXCEEDED,
  [ErrorCode.UPSTREAM_TLS]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.UPSTREAM_BUSY]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.UPSTREAM_QUEUE_TIMEOUT]: GrpcStatus.DEADLINE_EXCEEDED,
  [ErrorCode.REQUEST_NOT_FORWARDABLE]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorCode.REQUEST_BODY_TIMEOUT]: GrpcStatus.DEADLINE_EXCEEDED,
  [ErrorCode.REQUEST_PATH_REJECTED]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorCode.REQUEST_HEADER_REJECTED]: GrpcStatus.INVALID_ARGUMENT,
  [ErrorCode.PROXY_INTERNAL]: GrpcStatus.INTERNAL,
} as const satisfies Record<FailureCode, GrpcStatus>;

/** `grpc-status` and `grpc-message` of each failure, for a trailers-only answer or trailers after a broken stream. */
const GRPC_TRAILERS = new Map<string, readonly string[]>(
  Object.entries(FAILURES).map(([code, f]) => [code, ['grpc-status', String(GRPC_STATUSES[code as FailureCode]), 'grpc-message', percentEncodeGrpcMessage(f.body.trimEnd())]]),
);

/**
 * A gRPC failure as a trailers-only response (PROTOCOL-HTTP2.md: HTTP status 200, the status in the
 * head, no body): what gRPC clients decode into a status, where a 5xx would only say "unknown".
 */
const GRPC_RESPONSES = new Map<string, readonly string[]>(
  Object.entries(FAILURES).map(([code, f]) => [code, ['content-type', 'application/grpc', ...GRPC_TRAILERS.get(code)!, 'server', SERVER_NAME, ERROR_HEADER, f.reason]]),
);

/** The fields of a trailers-only gRPC answer for `code` ([name, value, …]). */
export function grpcFailureHead(code: FailureCode): readonly string[] {
  return GRPC_RESPONSES.get(code)!;
}

/** The trailers that end a gRPC response with the status of `code` ([name, value, …]). */
export function grpcFailureTrailers(code: FailureCode): readonly string[] {
  return GRPC_TRAILERS.get(code)!;
}

/**
 * Answers with the failure's status, reason header, `x-request-id` (the exchange's) and body; a gRPC
 * call gets its gRPC status instead (HTTP 200, trailers-only, with the id too). When the response has
 * begun, a gRPC call is ended with the status in its trailers (a client then sees UNAVAILABLE, not a
 * broken stream); any other response is cut.
 */
export function sendFailure(exchange: HttpExchange, code: FailureCode): void {
  exchange.trace.error = FAILURES[code].reason;
  if (exchange.headersSent) {
    if (exchange.grpc) exchange.end(GRPC_TRAILERS.get(code)!);
    else exchange.destroy();
    return;
  }
  if (exchange.grpc) {
    exchange.writeHead(200, [...GRPC_RESPONSES.get(code)!, REQUEST_ID_HEADER, exchange.requestId]);
    exchange.end();
    return;
  }
  const response = FAILURE_RESPONSES.get(code)!;
  // A failure is not the hot path: one copy of the prebuilt fields per answer.
  exchange.writeHead(FAILURES[code].status, [...response.headers, REQUEST_ID_HEADER, exchange.requestId]);
  exchange.write(response.body);
  exchange.end();
}

/**
 * A gRPC call that no route of a Gateway listener matches is UNIMPLEMENTED, not NOT_FOUND: the Gateway
 * API's GRPCRoute conformance tests require it (an unmatched method, header or hostname), as gRPC's
 * HTTP-to-status mapping reads the 404 of a gateway that answers in plain HTTP.
 */
const GRPC_GATEWAY_NO_ROUTE: readonly string[] = ['content-type', 'application/grpc', 'grpc-status', String(GrpcStatus.UNIMPLEMENTED), 'grpc-message', percentEncodeGrpcMessage(FAILURES[ErrorCode.NO_ROUTE].body.trimEnd()), 'server', SERVER_NAME, ERROR_HEADER, FAILURES[ErrorCode.NO_ROUTE].reason];

/** Answers a request no route matches: as sendFailure(NO_ROUTE), but a gRPC call on a Gateway listener (`gateway`) gets UNIMPLEMENTED. */
export function sendNoRoute(exchange: HttpExchange, gateway: boolean): void {
  if (!gateway || !exchange.grpc || exchange.headersSent) return sendFailure(exchange, ErrorCode.NO_ROUTE);
  exchange.trace.error = FAILURES[ErrorCode.NO_ROUTE].reason;
  exchange.writeHead(200, [...GRPC_GATEWAY_NO_ROUTE, REQUEST_ID_HEADER, exchange.requestId]);
  exchange.end();
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

/** Classifies an upstream error (undici or socket) into a failure code. */
export function classifyUpstreamError(err: unknown): FailureCode {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (TIMEOUT_CODES.has(code)) return ErrorCode.UPSTREAM_TIMEOUT;
    if (code === ErrorCode.UPSTREAM_TLS) return ErrorCode.UPSTREAM_TLS;
    if (CONNECT_CODES.has(code)) return ErrorCode.UPSTREAM_CONNECT;
  }
  return ErrorCode.UPSTREAM_PROTOCOL;
}

const CLIENT_FAILURES = new Map<string, readonly [status: string, reason: string, body: string, extraHeader?: string]>([
  ['HPE_HEADER_OVERFLOW', ['431 Request Header Fields Too Large', 'header-too-large', 'request header fields too large\n']],
  ['HPE_CHUNK_EXTENSIONS_OVERFLOW', ['413 Content Too Large', 'chunk-extensions-too-large', 'chunk extensions too large\n']],
  // --client-header-timeout / --client-request-timeout ran out (a slow or stalled client).
  ['ERR_HTTP_REQUEST_TIMEOUT', ['408 Request Timeout', 'request-timeout', 'request timeout\n']],
  // --client-body-timeout: the client paused inside its request body too long.
  ['BODY_TIMEOUT', ['408 Request Timeout', 'body-timeout', 'request body timeout\n']],
  // An HTTP/1.1 request without Host, with two, or with one that is not uri-host[:port] (RFC 9112 §3.2: a server MUST answer 400).
  ['MISSING_HOST', ['400 Bad Request', 'missing-host', 'bad request: no host header\n']],
  ['DUPLICATE_HOST', ['400 Bad Request', 'duplicate-host', 'bad request: more than one host header\n']],
  ['INVALID_HOST', ['400 Bad Request', 'invalid-host', 'bad request: invalid host header\n']],
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is a framing fault (400, then close); a coding other than chunked is not implemented (501).
  ['TRANSFER_ENCODING_HTTP10', ['400 Bad Request', 'bad-request', 'bad request: transfer-encoding in HTTP/1.0\n']],
  ['UNSUPPORTED_TRANSFER_CODING', ['501 Not Implemented', 'unsupported-transfer-coding', 'transfer coding not implemented\n']],
  // An Expect other than 100-continue (RFC 9110 §10.1.1).
  ['EXPECTATION_FAILED', ['417 Expectation Failed', 'expectation-failed', 'expectation failed\n']],
  // CONNECT: never a tunnel (RFC 9110 §15.5.6: a 405 lists the methods that are allowed).
  ['CONNECT_NOT_ALLOWED', ['405 Method Not Allowed', 'connect-not-allowed', 'CONNECT not allowed\n', 'allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']],
]);
const BAD_REQUEST = ['400 Bad Request', 'bad-request', 'bad request\n'] as const;

/** The refusal of `code`: 400 bad-request for any code not listed. */
function clientFailure(code: string | undefined): readonly [status: string, reason: string, body: string, extraHeader?: string] {
  return (code !== undefined ? CLIENT_FAILURES.get(code) : undefined) ?? BAD_REQUEST;
}

/** The status and x-switchyard-error reason a refused request is answered with (a fixed set: safe as a metric label). */
export function clientFailureAnswer(code: string | undefined): { readonly status: number; readonly reason: string } {
  const [status, reason] = clientFailure(code);
  return { status: Number.parseInt(status, 10), reason };
}

/**
 * A raw response for a request refused before any handler ran: 400 for malformed requests (any llhttp
 * error code not listed) and HTTP/1.1 without Host, 431 for oversized heads, 413 for oversized chunk
 * extensions, 408 for a client too slow to send its request, 417 for an unmet Expect, 405 for CONNECT.
 * The connection is closed after it.
 */
export function rawClientFailure(code: string | undefined): string {
  const [status, reason, body, extraHeader] = clientFailure(code);
  const extra = extraHeader === undefined ? '' : `${extraHeader}\r\n`;
  return `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nserver: ${SERVER_NAME}\r\n${extra}${ERROR_HEADER}: ${reason}\r\nconnection: close\r\n\r\n${body}`;
}

/** A refused request's answer as data, for a framing that writes its own (HTTP/2). */
export interface ClientFailureResponse {
  readonly status: number;
  /** Head fields, [name, value, …]: content-type, content-length, server, x-switchyard-error and any extra field (405's Allow). */
  readonly headers: readonly string[];
  readonly body: Buffer;
}

/** The answer rawClientFailure() writes for `code`, as data (400 for a code not listed). */
export function clientFailureResponse(code: string | undefined): ClientFailureResponse {
  const [status, reason, body, extraHeader] = clientFailure(code);
  const bytes = Buffer.from(body);
  const extra = extraHeader === undefined ? [] : [extraHeader.slice(0, extraHeader.indexOf(':')), extraHeader.slice(extraHeader.indexOf(':') + 1).trim()];
  return {
    status: Number.parseInt(status, 10),
    headers: ['content-type', 'text/plain; charset=utf-8', 'content-length', String(bytes.length), 'server', SERVER_NAME, ...extra, ERROR_HEADER, reason],
    body: bytes,
  };
}

/** The same refusal for a gRPC call, as the fields of a trailers-only answer (HTTP 200) with `status` and the body's text as grpc-message. */
export function grpcClientFailureHead(code: string | undefined, status: GrpcStatus): readonly string[] {
  const [, reason, body] = clientFailure(code);
  return ['content-type', 'application/grpc', 'grpc-status', String(status), 'grpc-message', percentEncodeGrpcMessage(body.trimEnd()), 'server', SERVER_NAME, ERROR_HEADER, reason];
}
