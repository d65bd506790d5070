import { describe, expect, it } from 'vitest';
import { clientFailureResponse } from '../../../src/dataplane/status.ts';
import { REFUSALS, responseHead, translateRequest, trailerFields, type H2Request } from '../../../src/dataplane/h2/h2-headers.ts';

const BIG = 64 * 1024;
const base = [':method', 'GET', ':scheme', 'https', ':authority', 'shop.example', ':path', '/p?q=1'];

/** The flat [name, value, …] list as pairs. */
const pairs = (flat: readonly (string | number)[]): [string | number, string | number][] => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);

function ok(raw: readonly string[], max = BIG): H2Request {
  const r = translateRequest(raw, max);
  if (typeof r === 'string') throw new Error(`refused: ${r}`);
  return r;
}

describe('translateRequest', () => {
  it('takes method, target and Host from the pseudo-headers, and passes the other fields in order after Host', () => {
    const r = ok([...base, 'user-agent', 'curl/8', 'accept', '*/*', 'x-multi', 'a', 'x-multi', 'b']);
    expect([r.method, r.url, r.host]).toEqual(['GET', '/p?q=1', 'shop.example']);
    expect(pairs(r.rawHeaders)).toEqual([
      ['host', 'shop.example'],
      ['user-agent', 'curl/8'],
      ['accept', '*/*'],
      ['x-multi', 'a'],
      ['x-multi', 'b'],
    ]);
    expect([r.forwardedFor, r.grpc, r.teTrailers]).toEqual([undefined, false, false]);
  });

  it.each([
    ['only :authority', [':authority', 'a.example'], 'a.example'],
    ['only host (RFC 9113 §8.3.1: a request translated from HTTP/1.1)', ['host', 'h.example'], 'h.example'],
    ['both, equal but for case: :authority wins, one Host', [':authority', 'A.example', 'host', 'a.EXAMPLE'], 'A.example'],
    ['with a port', [':authority', 'a.example:8443'], 'a.example:8443'],
  ])('Host from %s', (_name, fields, host) => {
    const pseudo = fields[0] === ':authority' ? fields.slice(0, 2) : [];
    const regular = fields[0] === ':authority' ? fields.slice(2) : fields;
    const r = ok([':method', 'GET', ':scheme', 'http', ...pseudo, ':path', '/', ...regular]);
    expect(r.host).toBe(host);
    expect(pairs(r.rawHeaders)).toEqual([['host', host]]);
  });

  it('joins repeated cookie fields with "; " at the place of the first one (RFC 9113 §8.2.3)', () => {
    const r = ok([...base, 'cookie', 'a=1', 'x-mid', 'm', 'cookie', 'b=2', 'cookie', 'c=3']);
    expect(pairs(r.rawHeaders)).toEqual([
      ['host', 'shop.example'],
      ['cookie', 'a=1; b=2; c=3'],
      ['x-mid', 'm'],
    ]);
  });

  it('joins x-forwarded-for fields with ", " and keeps them in the list', () => {
    const r = ok([...base, 'x-forwarded-for', '10.0.0.1', 'x-forwarded-for', '10.0.0.2, 10.0.0.3']);
    expect(r.forwardedFor).toBe('10.0.0.1, 10.0.0.2, 10.0.0.3');
    expect(r.rawHeaders.filter((n) => n === 'x-forwarded-for')).toHaveLength(2);
  });

  it.each([
    ['application/grpc', true],
    ['application/grpc+proto', true],
    ['application/grpc;charset=utf-8', true],
    ['application/grpc-web', false],
    ['application/grpc-web+proto', false],
    ['application/json', false],
  ])('content-type %s → grpc %s', (contentType, grpc) => {
    expect(ok([...base, 'content-type', contentType]).grpc).toBe(grpc);
  });

  it('keeps te: trailers (gRPC needs it upstream) and drops any other TE and connection-specific fields', () => {
    const r = ok([...base, 'te', 'trailers', 'connection', 'close', 'keep-alive', 'x', 'proxy-connection', 'x', 'transfer-encoding', 'chunked', 'upgrade', 'h2c', 'http2-settings', 'AAA', 'x-kept', '1']);
    expect(r.teTrailers).toBe(true);
    expect(pairs(r.rawHeaders)).toEqual([
      ['host', 'shop.example'],
      ['te', 'trailers'],
      ['x-kept', '1'],
    ]);
    const gzip = ok([...base, 'te', 'gzip']);
    expect([gzip.teTrailers, gzip.rawHeaders.includes('te')]).toEqual([false, false]);
  });

  it.each([
    ['no :authority and no host', [':method', 'GET', ':scheme', 'http', ':path', '/'], 'MISSING_HOST'],
    ['an empty :authority and no host', [':method', 'GET', ':scheme', 'http', ':authority', '', ':path', '/'], 'MISSING_HOST'],
    ['a host that differs from :authority (§8.3.1)', [...base, 'host', 'other.example'], 'HOST_MISMATCH'],
    ['CONNECT', [':method', 'CONNECT', ':authority', 'a.example:443'], 'CONNECT_NOT_ALLOWED'],
  ])('refuses %s', (_name, raw, why) => {
    expect(translateRequest(raw, BIG)).toBe(why);
  });

  it('sizes the header list as HPACK does (name + value + 32 per field, pseudo-headers included)', () => {
    const raw = [...base, 'x-a', 'b'];
    const size = raw.reduce((sum, s, i) => sum + s.length + (i % 2 === 0 ? 32 : 0), 0);
    expect(typeof translateRequest(raw, size)).toBe('object');
    expect(translateRequest(raw, size - 1)).toBe('HEADERS_TOO_LARGE');
  });

  it.each([
    ['userinfo', 'admin@web.example'],
    ['a space', 'web .example'],
    ['a non-numeric port', 'web.example:http'],
  ])('refuses an :authority with %s (INVALID_HOST)', (_what, authority) => {
    expect(translateRequest([':method', 'GET', ':scheme', 'http', ':authority', authority, ':path', '/'], 16384)).toBe('INVALID_HOST');
  });

  it('every refusal has an answer with the HTTP/1.1 status and reason', () => {
    const answer = (code: string): [number, string | undefined] => {
      const { status, headers } = clientFailureResponse(code);
      return [status, headers[headers.indexOf('x-switchyard-error') + 1]];
    };
    expect(Object.fromEntries(Object.entries(REFUSALS).map(([k, v]) => [k, answer(v)]))).toEqual({
      HEADERS_TOO_LARGE: [431, 'header-too-large'],
      MISSING_HOST: [400, 'missing-host'],
      INVALID_HOST: [400, 'invalid-host'],
      HOST_MISMATCH: [400, 'bad-request'],
      CONNECT_NOT_ALLOWED: [405, 'connect-not-allowed'],
    });
  });
});

describe('responseHead', () => {
  it('puts :status first, lower-cases names, keeps repeated fields as repeated pairs, drops connection-specific ones', () => {
    const head = responseHead(200, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Connection', 'close', 'Keep-Alive', 't=5', 'Transfer-Encoding', 'chunked', 'Upgrade', 'x', 'Proxy-Connection', 'x', 'TE', 'trailers', 'X-Case', 'Kept']);
    expect(pairs(head.list)).toEqual([
      [':status', '200'],
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-case', 'Kept'],
    ]);
    expect(head.trailers).toBe(false);
  });

  it.each([
    [['trailer', 'x-checksum'], true],
    [['content-type', 'application/grpc'], true],
    [['content-type', 'application/grpc+proto'], true],
    [['content-type', 'application/json'], false],
  ])('%j: trailers may follow → %s', (fields, trailers) => {
    expect(responseHead(200, fields).trailers).toBe(trailers);
  });

  it('drops content-length from a 204 only (RFC 9110 §8.6), keeps it for 304 and 200', () => {
    expect(responseHead(204, ['content-length', '5']).list).toEqual([':status', '204']);
    expect(responseHead(304, ['content-length', '5']).list).toEqual([':status', '304', 'content-length', '5']);
    expect(responseHead(200, ['content-length', '5']).list).toEqual([':status', '200', 'content-length', '5']);
  });

  it('never passes a pseudo-header from the upstream', () => {
    expect(responseHead(200, [':status', '500', ':path', '/x', 'x-ok', '1']).list).toEqual([':status', '200', 'x-ok', '1']);
  });
});

describe('trailerFields', () => {
  it('lower-cases names, gathers repeated ones, drops connection-specific and pseudo fields', () => {
    expect(trailerFields(['Grpc-Status', '0', 'X-Multi', 'a', 'x-multi', 'b', 'Connection', 'close', ':status', '200'])).toEqual({ 'grpc-status': '0', 'x-multi': ['a', 'b'] });
  });
});
