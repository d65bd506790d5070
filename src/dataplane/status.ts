/**
 * The one place where a failure becomes an HTTP status. Client-facing bodies are short and generic;
 * the `x-switchyard-error` header names the reason; details go to the log.
 */
import type { ServerResponse } from 'node:http';
import { ErrorCode } from '../errors.ts';

export interface Failure {
  readonly status: number;
  /** Value of the x-switchyard-error header. */
  readonly reason: string;
  readonly body: string;
}

const failure = (status: number, reason: string, body: string): Failure => ({ status, reason, body: `${body}\n` });

export const FAILURES = {
  [ErrorCode.NO_ROUTE]: failure(404, 'no-route', 'no route for this host and path'),
  [ErrorCode.UNKNOWN_SERVICE]: failure(503, 'unknown-service', 'backend service unavailable'),
  [ErrorCode.SERVICE_NOT_FOUND]: failure(502, 'unknown-service', 'no such service'),
  [ErrorCode.SERVICE_PORT_NOT_FOUND]: failure(502, 'unknown-service-port', 'no such service port'),
  [ErrorCode.NOT_A_SERVICE]: failure(403, 'not-a-service', 'not a service of this cluster'),
  [ErrorCode.NO_READY_ENDPOINT]: failure(503, 'no-ready-endpoint', 'no ready endpoint for this service'),
  [ErrorCode.UPSTREAM_CONNECT]: failure(502, 'upstream-connect-failed', 'upstream connection failed'),
  [ErrorCode.UPSTREAM_PROTOCOL]: failure(502, 'upstream-protocol-error', 'upstream protocol error'),
  [ErrorCode.UPSTREAM_TIMEOUT]: failure(504, 'upstream-timeout', 'upstream timed out'),
} as const satisfies Partial<Record<ErrorCode, Failure>>;

export type FailureCode = keyof typeof FAILURES;

export const ERROR_HEADER = 'x-switchyard-error';

/** Answers with the failure's status, reason header and body, unless the response has begun. */
export function sendFailure(res: ServerResponse, code: FailureCode): void {
  const f = FAILURES[code];
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(f.status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(f.body),
    [ERROR_HEADER]: f.reason,
  });
  res.end(f.body);
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

/** Classifies an upstream error (undici or socket) into a failure code. */
export function classifyUpstreamError(err: unknown): FailureCode {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (TIMEOUT_CODES.has(code)) return ErrorCode.UPSTREAM_TIMEOUT;
    if (CONNECT_CODES.has(code)) return ErrorCode.UPSTREAM_CONNECT;
  }
  return ErrorCode.UPSTREAM_PROTOCOL;
}

const CLIENT_FAILURES = new Map<string, readonly [status: string, reason: string, body: string]>([
  ['HPE_HEADER_OVERFLOW', ['431 Request Header Fields Too Large', 'header-too-large', 'request header fields too large\n']],
  // --client-header-timeout / --client-request-timeout ran out (a slow or stalled client).
  ['ERR_HTTP_REQUEST_TIMEOUT', ['408 Request Timeout', 'request-timeout', 'request timeout\n']],
]);
const BAD_REQUEST = ['400 Bad Request', 'bad-request', 'bad request\n'] as const;

/**
 * A raw response for a request Node's server rejected before any handler ran (no ServerResponse exists):
 * 400 for malformed requests, 431 for oversized headers, 408 for a client too slow to send its request.
 * The connection is closed after it.
 */
export function rawParserFailure(parserCode: string | undefined): string {
  const [status, reason, body] = (parserCode !== undefined ? CLIENT_FAILURES.get(parserCode) : undefined) ?? BAD_REQUEST;
  return `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\n${ERROR_HEADER}: ${reason}\r\nconnection: close\r\n\r\n${body}`;
}
