import { describe, expect, it } from 'vitest';
import { requestFields } from '../../../src/dataplane/headers.ts';
import { checkRequestHead, expectsContinue, isValidHost } from '../../../src/dataplane/request-checks.ts';

describe('isValidHost (RFC 9112 §3.2, RFC 3986 §3.2.2)', () => {
  it.each([
    ['web.example', true],
    ['web.example:8080', true],
    ['127.0.0.1:80', true],
    ['[::1]:8443', true],
    ['[2001:db8::1]', true],
    ['', true],
    ['web.example:', true],
    ['xn--bcher-kva.example', true],
    ['web%2Eexample', true],
    ['web example', false],
    ['user@web.example', false],
    ['web.example:80a', false],
    ['web.example:80:81', false],
    ['[::1', false],
    ['web.example/path', false],
    ['web\\example', false],
    ['web%zzexample', false],
  ])('%j → %s', (value, valid) => {
    expect(isValidHost(value)).toBe(valid);
  });
});

describe('checkRequestHead', () => {
  it.each([
    ['one valid Host', ['Host', 'web.example'], 1, '/', undefined],
    ['no Host over HTTP/1.1', [], 1, '/', 'MISSING_HOST'],
    ['no Host over HTTP/1.0', [], 0, '/', undefined],
    ['two Host fields', ['Host', 'a.example', 'host', 'b.example'], 1, '/', 'DUPLICATE_HOST'],
    ['two identical Host fields', ['Host', 'a.example', 'Host', 'a.example'], 1, '/', 'DUPLICATE_HOST'],
    ['two Host fields over HTTP/1.0', ['Host', 'a.example', 'Host', 'b.example'], 0, '/', 'DUPLICATE_HOST'],
    ['a Host with a space', ['Host', 'a .example'], 1, '/', 'INVALID_HOST'],
    ['a Host with userinfo', ['Host', 'admin@a.example'], 1, '/', 'INVALID_HOST'],
    ['a Host with a non-numeric port', ['Host', 'a.example:http'], 1, '/', 'INVALID_HOST'],
    ['an absolute-form target with userinfo', ['Host', 'a.example'], 1, 'http://evil@a.example/', 'INVALID_HOST'],
    ['an absolute-form target that disagrees with Host (the target wins, RFC 9112 §3.2.2)', ['Host', 'a.example'], 1, 'http://b.example/x', undefined],
    ['chunked', ['Host', 'a', 'Transfer-Encoding', 'chunked'], 1, '/', undefined],
    ['Chunked in capitals', ['Host', 'a', 'Transfer-Encoding', 'Chunked'], 1, '/', undefined],
    ['gzip, chunked', ['Host', 'a', 'Transfer-Encoding', 'gzip, chunked'], 1, '/', 'UNSUPPORTED_TRANSFER_CODING'],
    ['gzip then chunked in two fields', ['Host', 'a', 'Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'], 1, '/', 'UNSUPPORTED_TRANSFER_CODING'],
    ['Transfer-Encoding over HTTP/1.0', ['Host', 'a', 'Transfer-Encoding', 'chunked'], 0, '/', 'TRANSFER_ENCODING_HTTP10'],
    ['Transfer_Encoding (not the field)', ['Host', 'a', 'Transfer_Encoding', 'gzip'], 1, '/', undefined],
    ['Expect: 100-continue', ['Host', 'a', 'Expect', '100-continue'], 1, '/', undefined],
    ['Expect: 100-Continue, padded', ['Host', 'a', 'Expect', ' 100-Continue '], 1, '/', undefined],
    ['an Expect other than 100-continue (RFC 9110 §10.1.1)', ['Host', 'a', 'Expect', 'something-else'], 1, '/', 'EXPECTATION_FAILED'],
    ['an Expect in HTTP/1.0 (ignored)', ['Expect', 'something-else'], 0, '/', undefined],
    ['a missing Host wins over a bad Expect', ['Expect', 'something-else'], 1, '/', 'MISSING_HOST'],
  ] as const)('%s', (_name, raw, minor, url, expected) => {
    expect(checkRequestHead(requestFields(raw), minor, url)).toBe(expected);
  });
});

describe('expectsContinue', () => {
  it.each([
    ['100-continue', 1, true],
    ['100-CONTINUE', 1, true],
    ['100-continue', 0, false],
    ['something-else', 1, false],
    [undefined, 1, false],
  ] as const)('%j over HTTP/1.%i → %s', (field, minor, expected) => {
    expect(expectsContinue(field, minor)).toBe(expected);
  });
});
