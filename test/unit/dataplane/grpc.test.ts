/** dataplane/grpc.ts: the grpc-timeout parser, the gRPC content type, grpc-message encoding and `TE: trailers`. */
import { describe, expect, it } from 'vitest';
import { isGrpcContentType, parseGrpcTimeout, percentEncodeGrpcMessage, wantsTrailers } from '../../../src/dataplane/grpc.ts';

describe('parseGrpcTimeout (PROTOCOL-HTTP2.md: 1–8 digits, then H M S m u n)', () => {
  // [value, milliseconds or undefined]
  const cases: [string | undefined, number | undefined][] = [
    ['200m', 200],
    ['5S', 5000],
    ['1M', 60_000],
    ['2H', 7_200_000],
    ['1500u', 2], // 1.5 ms rounds up
    ['1000u', 1],
    ['3000u', 3], // exactly 3, not rounded up to 4
    ['7000000n', 7],
    ['toString', undefined],
    ['1u', 1], // a sub-millisecond deadline is not zero
    ['999999n', 1],
    ['1000000n', 1],
    ['3000001n', 4],
    ['0S', 0],
    ['0m', 0],
    ['00000001S', 1000],
    ['99999999m', 99_999_999],
    ['99999999H', 99_999_999 * 3_600_000],
    // Not of the form: no deadline of Switchyard's.
    [undefined, undefined],
    ['', undefined],
    ['S', undefined],
    ['5', undefined],
    ['5s', undefined], // units are case-sensitive: s is not a unit
    ['5h', undefined],
    ['5ms', undefined],
    ['123456789S', undefined], // 9 digits
    ['-5S', undefined],
    ['+5S', undefined],
    [' 5S', undefined],
    ['5 S', undefined],
    ['5.5S', undefined],
    ['0x1S', undefined],
    ['５S', undefined], // a full-width digit
    ['5constructor', undefined],
  ];
  it.each(cases)('%j → %j', (value, expected) => {
    expect(parseGrpcTimeout(value)).toBe(expected);
  });
});

describe('isGrpcContentType', () => {
  it.each([
    ['application/grpc', true],
    ['application/grpc+proto', true],
    ['application/grpc+json', true],
    ['application/grpc; charset=utf-8', true],
    ['Application/GRPC', true],
    ['application/grpc-web', false],
    ['application/grpc-web+proto', false],
    ['application/grpcx', false],
    ['application/json', false],
    ['application/grp', false],
    ['', false],
    [undefined, false],
  ] as [string | undefined, boolean][])('%j → %s', (value, expected) => {
    expect(isGrpcContentType(value)).toBe(expected);
  });
});

describe('percentEncodeGrpcMessage (0x20–0x7E except % as is, the rest %XX of its UTF-8 bytes)', () => {
  it.each([
    ['no route for this host and path', 'no route for this host and path'],
    ['100% sure', '100%25 sure'],
    ['tab\there', 'tab%09here'],
    ['line\nbreak', 'line%0Abreak'],
    ['café', 'caf%C3%A9'],
    ['😀', '%F0%9F%98%80'],
    ['~!@#$^&*()', '~!@#$^&*()'],
    ['\x7f', '%7F'],
    ['', ''],
  ])('%j → %j', (message, encoded) => {
    expect(percentEncodeGrpcMessage(message)).toBe(encoded);
    expect(decodeURIComponent(encoded)).toBe(message);
  });
});

describe('wantsTrailers', () => {
  it.each([
    [['te', 'trailers'], true],
    [['TE', 'Trailers'], true],
    [['te', 'gzip, trailers'], true],
    [['te', 'trailers;q=1'], true],
    [['te', ' trailers '], true],
    [['host', 'a', 'te', 'gzip', 'te', 'trailers'], true],
    [['te', 'gzip'], false],
    [['te', 'trailersx'], false],
    [['x-te', 'trailers'], false],
    [['tee', 'trailers'], false],
    [[], false],
  ] as [string[], boolean][])('%j → %s', (raw, expected) => {
    expect(wantsTrailers(raw)).toBe(expected);
  });
});
