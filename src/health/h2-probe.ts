/**
 * Active checks over HTTP/2: the standard gRPC health check (grpc/doc/health-checking.md,
 * `grpc.health.v1.Health/Check`) and a plain GET for pods that speak only HTTP/2. Each check opens its own
 * session (h2c with prior knowledge, or TLS with ALPN h2) and closes it, like the HTTP/1.1 probe's
 * `connection: close`, so a check measures what a new connection gets.
 *
 * The health protobuf messages are tiny and encoded by hand: HealthCheckRequest { string service = 1; }
 * and HealthCheckResponse { ServingStatus status = 1; } with SERVING = 1.
 */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';
import { NO_USABLE_CA, podTlsOptions, statusVerdict, type ProbeResult } from './probe-common.ts';

/** TLS to the pod: `caPem` undefined means not verified, '' an unusable CA (fail-closed), as for traffic. */
export interface ProbeTls {
  readonly caPem: string | undefined;
}

export const GRPC_HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** HealthCheckResponse.ServingStatus names, by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/** A gRPC message frame (uncompressed) carrying HealthCheckRequest { service }. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/**
 * The `status` of the first HealthCheckResponse in a gRPC response body: 0 (UNKNOWN, proto3's default)
 * when the field is absent; undefined when the body is not one whole uncompressed message that parses.
 */
export function decodeHealthCheckResponse(body: Buffer): number | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) return undefined;
  const msg = body.subarray(5, 5 + length);
  let status = 0;
  let i = 0;
  const readVarint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (i >= msg.length) return undefined;
      const b = msg[i++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    return undefined;
  };
  while (i < msg.length) {
    const key = readVarint();
    if (key === undefined) return undefined;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const v = readVarint();
      if (v === undefined) return undefined;
      if (field === 1) status = v;
    } else if (wire === 2) {
      const len = readVarint();
      if (len === undefined || i + len > msg.length) return undefined;
      i += len;
    } else if (wire === 1 || wire === 5) {
      i += wire === 1 ? 8 : 4;
      if (i > msg.length) return undefined;
    } else {
      return undefined;
    }
  }
  return status;
}

interface H2Answer {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One request on a session of its own; rejects with a reason string on any failure or at `timeoutMs`. */
function h2Exchange(host: string, port: number, tls: ProbeTls | undefined, timeoutMs: number, headers: Record<string, string>, body: Buffer | undefined): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    if (tls?.caPem === '') {
      reject(new Error(NO_USABLE_CA));
      return;
    }
    const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const options: SecureClientSessionOptions = tls === undefined ? { settings: { enablePush: false } } : { settings: { enablePush: false }, ALPNProtocols: ['h2'], ...podTlsOptions(tls.caPem) };
    let session: ClientHttp2Session | undefined;
    let settled = false;
    const finish = (err: Error | undefined, answer?: H2Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session?.destroy();
      if (err !== undefined) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    session = connect(`${tls !== undefined ? 'https' : 'http'}://${authority}`, options);
    session.on('error', (err: NodeJS.ErrnoException) => finish(new Error(err.code ?? err.message)));
    const req = session.request({ ':authority': authority, ...headers }, { endStream: body === undefined });
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('response', (h) => (responseHeaders = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (chunk: Buffer) => {
      // A health answer is a few bytes; a pod sending megabytes is not healthy, and is not buffered.
      size += chunk.length;
      if (size > 64 * 1024) finish(new Error('answer too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => finish(undefined, { headers: responseHeaders, trailers, body: Buffer.concat(chunks) }));
    // A failed session fails its stream first (ERR_HTTP2_STREAM_CANCEL); the session's own error
    // (ECONNREFUSED, a certificate that does not verify) follows and says more, so the stream's waits a turn.
    req.on('error', (err: NodeJS.ErrnoException) => setImmediate(() => finish(new Error(err.code ?? err.message))));
    req.on('close', () => setImmediate(() => finish(new Error(`stream closed (code ${req.rstCode})`))));
    if (body !== undefined) req.end(body);
  });
}

/** `grpc.health.v1.Health/Check` for the whole server (empty service name): healthy iff grpc-status 0 and SERVING. */
export async function grpcHealthProbe(host: string, port: number, tls: ProbeTls | undefined, timeoutMs: number): Promise<ProbeResult> {
  const what = 'gRPC health check';
  let answer: H2Answer;
  try {
    answer = await h2Exchange(
      host,
      port,
      tls,
      timeoutMs,
      {
        ':method': 'POST',
        ':path': GRPC_HEALTH_CHECK_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${Math.max(1, timeoutMs)}m`,
        'user-agent': 'switchyard-health-check',
      },
      encodeHealthCheckRequest(''),
    );
  } catch (err) {
    return { ok: false, reason: `${what} failed: ${(err as Error).message}` };
  }
  const httpStatus = Number(answer.headers[':status']);
  if (httpStatus !== 200) return { ok: false, reason: `${what} answered HTTP ${httpStatus}` };
  const grpcStatus = answer.trailers['grpc-status'] ?? answer.headers['grpc-status'];
  if (grpcStatus !== '0') {
    const message = answer.trailers['grpc-message'] ?? answer.headers['grpc-message'];
    return { ok: false, reason: `${what} answered grpc-status ${String(grpcStatus ?? 'none')}${message ? ` (${decodeURIComponentSafe(String(message))})` : ''}` };
  }
  const status = decodeHealthCheckResponse(answer.body);
  if (status === undefined) return { ok: false, reason: `${what} answered a body that is not a HealthCheckResponse` };
  const name = SERVING_STATUS[status] ?? String(status);
  return status === 1 ? { ok: true, reason: 'SERVING' } : { ok: false, reason: `${what} answered ${name}` };
}

/** GET `path` over HTTP/2 (for pods that speak nothing else); healthy when the status is in `expected`. */
export async function h2HttpProbe(host: string, port: number, tls: ProbeTls | undefined, path: string, timeoutMs: number, expected: readonly (readonly [number, number])[]): Promise<ProbeResult> {
  let answer: H2Answer;
  try {
    answer = await h2Exchange(host, port, tls, timeoutMs, { ':method': 'GET', ':path': path, 'user-agent': 'switchyard-health-check' }, undefined);
  } catch (err) {
    return { ok: false, reason: `health check ${path} failed: ${(err as Error).message}` };
  }
  return statusVerdict(path, Number(answer.headers[':status']), expected);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
