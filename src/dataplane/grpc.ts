/**
 * The few pieces of the gRPC wire protocol (grpc/doc/PROTOCOL-HTTP2.md) the proxy needs: the
 * `grpc-timeout` deadline, status codes, and the percent-encoding of `grpc-message`. Pure.
 */

/** gRPC status codes Switchyard answers with (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/**
 * `grpc-timeout` units: Hours, Minutes, Seconds, milliseconds, microseconds, nanoseconds, as
 * [multiplier, divisor] to milliseconds: a division by a whole number is exact wherever the result is.
 */
const UNITS: Readonly<Record<string, readonly [number, number]>> = { H: [3_600_000, 1], M: [60_000, 1], S: [1000, 1], m: [1, 1], u: [1, 1000], n: [1, 1_000_000] };

/**
 * A `grpc-timeout` value (`TimeoutValue TimeoutUnit`: 1 to 8 ASCII digits, then one of H M S m u n) in
 * milliseconds, rounded up so a sub-millisecond deadline is not zero; undefined when the value is not of
 * that form (the call then has no deadline of Switchyard's, and the pod judges the header itself).
 * `0S` is a valid deadline that has already passed: 0.
 */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const digits = value.length - 1;
  if (digits < 1 || digits > 8) return undefined;
  const unit = Object.hasOwn(UNITS, value[digits]!) ? UNITS[value[digits]!] : undefined;
  if (unit === undefined) return undefined;
  let n = 0;
  for (let i = 0; i < digits; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return Math.ceil((n * unit[0]) / unit[1]);
}

/** True for `application/grpc` and its `+proto`/`;…` forms: the content type that makes a request a gRPC call. */
export function isGrpcContentType(value: string | undefined): boolean {
  if (value === undefined || value.length < 16) return false;
  if (value.slice(0, 16).toLowerCase() !== 'application/grpc') return false;
  if (value.length === 16) return true;
  const next = value[16];
  return next === '+' || next === ';' || next === ' ';
}

/**
 * `grpc-message` as the gRPC spec encodes it: the UTF-8 bytes of the message, those outside 0x20–0x7E
 * and `%` itself written as `%XX`.
 */
export function percentEncodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Whether the client asked for trailers (`TE: trailers`), which HTTP/2 gRPC servers expect on every call. */
export function wantsTrailers(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 2 || name.toLowerCase() !== 'te') continue;
    for (const token of rawHeaders[i + 1]!.split(',')) {
      const t = token.trim();
      const semi = t.indexOf(';');
      if ((semi < 0 ? t : t.slice(0, semi).trim()).toLowerCase() === 'trailers') return true;
    }
  }
  return false;
}
