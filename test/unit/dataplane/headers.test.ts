import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, clientTrailerFields, requestFields, upstreamRequestHeaders, type ClientRequestHead } from '../../../src/dataplane/headers.ts';

/** A client request head as the listener hands it over: raw headers as sent, the fields read from them, the peer address. */
function fakeRequest(raw: readonly string[], remoteAddress = '10.1.2.3'): ClientRequestHead {
  return { rawHeaders: [...raw], ...requestFields(raw), remoteAddress };
}

/** The flat [name, value, …] list as pairs. */
const pairs = (flat: readonly string[]): [string, string][] => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);
const HTTP = { proto: 'http', port: 8080 } as const;

describe('upstreamRequestHeaders', () => {
  it('passes end-to-end fields in order (Host as sent) and appends X-Forwarded-*', () => {
    const req = fakeRequest(['Host', 'Demo.Example.com:8080', 'User-Agent', 'curl/8', 'Accept', '*/*', 'X-Multi', 'a', 'x-multi', 'b']);
    expect(pairs(upstreamRequestHeaders(req, HTTP))).toEqual([
      ['Host', 'Demo.Example.com:8080'],
      ['User-Agent', 'curl/8'],
      ['Accept', '*/*'],
      ['X-Multi', 'a'],
      ['x-multi', 'b'],
      ['x-forwarded-for', '10.1.2.3'],
      ['x-forwarded-proto', 'http'],
      ['x-forwarded-host', 'Demo.Example.com:8080'],
      ['x-forwarded-port', '8080'],
    ]);
  });

  it.each([
    ['Connection', 'keep-alive'],
    ['connection', 'close'],
    ['Proxy-Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=5'],
    ['KEEP-ALIVE', 'max=100'],
    ['TE', 'trailers'],
    ['Transfer-Encoding', 'chunked'],
    ['Upgrade', 'websocket'],
    ['Expect', '100-continue'],
    ['X-Forwarded-Proto', 'https'],
    ['X-Forwarded-Host', 'spoofed.example.com'],
    ['X-Forwarded-Port', '1'],
  ])('drops %s from the client request', (name, value) => {
    const req = fakeRequest(['Host', 'h', name, value, 'Accept', '*/*']);
    const out = pairs(upstreamRequestHeaders(req, HTTP));
    expect(out.filter(([n, v]) => n.toLowerCase() === name.toLowerCase() && v === value)).toEqual([]);
    expect(out.filter(([n]) => n.toLowerCase() === name.toLowerCase()).length).toBe(name.toLowerCase().startsWith('x-forwarded-') ? 1 : 0);
    expect(out.slice(0, 2)).toEqual([
      ['Host', 'h'],
      ['Accept', '*/*'],
    ]);
  });

  it.each([
    ['one field named in Connection', ['Connection', 'close, X-Trace', 'X-Trace', '1', 'X-Keep', 'k'], [['X-Keep', 'k']]],
    ['tokens are trimmed and case-insensitive', ['Connection', ' x-a ,X-B , keep-alive', 'X-A', '1', 'x-b', '2', 'X-C', '3'], [['X-C', '3']]],
    ['two Connection headers', ['Connection', 'x-a', 'Connection', 'x-b', 'X-A', '1', 'X-B', '2', 'X-C', '3'], [['X-C', '3']]],
    ['empty tokens are ignored', ['Connection', ',,close,', 'X-C', '3'], [['X-C', '3']]],
    ['a named end-to-end field such as Cookie', ['Connection', 'Cookie', 'Cookie', 'a=1', 'X-C', '3'], [['X-C', '3']]],
  ])('drops fields named in Connection: %s', (_name, raw, expected) => {
    const out = pairs(upstreamRequestHeaders(fakeRequest(raw), HTTP, undefined));
    expect(out.filter(([n]) => !n.startsWith('x-forwarded-'))).toEqual(expected);
  });

  it.each([
    ['no prior header', [], '10.1.2.3', '10.1.2.3'],
    ['one prior hop', ['X-Forwarded-For', '203.0.113.7'], '10.1.2.3', '203.0.113.7, 10.1.2.3'],
    ['a prior list', ['X-Forwarded-For', '203.0.113.7, 198.51.100.1'], '10.1.2.3', '203.0.113.7, 198.51.100.1, 10.1.2.3'],
    ['two prior headers (folded by Node)', ['X-Forwarded-For', '203.0.113.7', 'x-forwarded-for', '198.51.100.1'], '10.1.2.3', '203.0.113.7, 198.51.100.1, 10.1.2.3'],
    ['an IPv6 client', [], '::1', '::1'],
    ['an IPv6-mapped IPv4 client after a prior hop', ['X-Forwarded-For', '203.0.113.7'], '::ffff:127.0.0.1', '203.0.113.7, ::ffff:127.0.0.1'],
  ])('X-Forwarded-For: %s', (_name, raw, remote, expected) => {
    const out = pairs(upstreamRequestHeaders(fakeRequest(['Host', 'h', ...raw], remote), HTTP, undefined));
    expect(out.filter(([n]) => n.toLowerCase() === 'x-forwarded-for')).toEqual([['x-forwarded-for', expected]]);
  });

  it.each([
    [{ proto: 'http', port: 80 } as const, 'a.example.com', [['x-forwarded-proto', 'http'], ['x-forwarded-host', 'a.example.com'], ['x-forwarded-port', '80']]],
    [{ proto: 'https', port: 8443 } as const, 'b.example.com:8443', [['x-forwarded-proto', 'https'], ['x-forwarded-host', 'b.example.com:8443'], ['x-forwarded-port', '8443']]],
    [{ proto: 'http', port: 8080 } as const, undefined, [['x-forwarded-proto', 'http'], ['x-forwarded-port', '8080']]],
  ])('X-Forwarded-Proto/Host/Port for %j and Host header %j', (info, host, expected) => {
    const raw = host === undefined ? ['X-Forwarded-Proto', 'gopher'] : ['Host', host, 'X-Forwarded-Proto', 'gopher'];
    const out = pairs(upstreamRequestHeaders(fakeRequest(raw), info));
    expect(out.filter(([n]) => n.startsWith('x-forwarded-') && n !== 'x-forwarded-for')).toEqual(expected);
  });

  it('an absolute-form target host replaces the Host header (RFC 9112 §3.2.2), and X-Forwarded-Host follows it', () => {
    const out = pairs(upstreamRequestHeaders(fakeRequest(['Host', 'other.example', 'Accept', '*/*']), HTTP, 'demo.localhost'));
    expect(out.filter(([n]) => n.toLowerCase() === 'host')).toEqual([['host', 'demo.localhost']]);
    expect(out.filter(([n]) => n === 'x-forwarded-host')).toEqual([['x-forwarded-host', 'demo.localhost']]);
  });
});

describe('clientResponseHeaders', () => {
  /** undici's raw form: [name, value, …] as buffers, as the upstream sent them. */
  const raw = (...fields: string[]): Buffer[] => fields.map((f) => Buffer.from(f, 'latin1'));

  it('drops hop-by-hop fields and the fields the upstream Connection names, keeps the rest in order with their case', () => {
    const out = clientResponseHeaders(
      raw(
        'Content-Type', 'text/plain',
        'Content-Length', '5',
        'Set-Cookie', 'a=1',
        'Connection', 'keep-alive, X-Upstream-Secret',
        'Keep-Alive', 'timeout=5',
        'Proxy-Connection', 'keep-alive',
        'Transfer-Encoding', 'chunked',
        'TE', 'trailers',
        'Upgrade', 'h2c',
        'x-upstream-secret', 'hop',
        'Set-Cookie', 'b=2',
        'X-Request-Id', 'r1',
      ),
    );
    expect(pairs(out)).toEqual([
      ['Content-Type', 'text/plain'],
      ['Content-Length', '5'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['X-Request-Id', 'r1'],
      ['server', 'switchyard'],
    ]);
  });

  it.each([
    ['the pod sent none', raw('a', '1'), [['a', '1'], ['server', 'switchyard']]],
    ['the pod sent its own', raw('Server', 'nginx/1.27', 'a', '1'), [['Server', 'nginx/1.27'], ['a', '1']]],
    ['in any case', raw('SERVER', 'pod'), [['SERVER', 'pod']]],
    ['a name of the same length is not it', raw('Serval', 'x'), [['Serval', 'x'], ['server', 'switchyard']]],
  ])('Server: %s', (_name, headers, expected) => {
    expect(pairs(clientResponseHeaders(headers))).toEqual(expected);
  });

  it('trailers get no Server field, and lose hop-by-hop ones', () => {
    expect(pairs(clientTrailerFields(raw('grpc-status', '0', 'grpc-message', '', 'Connection', 'close')))).toEqual([
      ['grpc-status', '0'],
      ['grpc-message', ''],
    ]);
  });

  it.each([
    ['no Connection header', raw('a', '1', 'b', '2'), [['a', '1'], ['b', '2']]],
    ['Connection: close only', raw('connection', 'close', 'a', '1'), [['a', '1']]],
    ['Connection naming a field in upper case', raw('Connection', 'X-Debug', 'x-debug', 'on', 'a', '1'), [['a', '1']]],
    ['two Connection fields, each naming one', raw('Connection', 'x-one', 'x-one', '1', 'connection', 'X-Two', 'X-TWO', '2', 'a', '1'), [['a', '1']]],
    ['a value with bytes above 0x7f, passed through as latin1', [Buffer.from('X-Name'), Buffer.from([0x63, 0x61, 0x66, 0xe9])], [['X-Name', 'caf\u00e9']]],
    ['an odd trailing name without a value', raw('a', '1', 'dangling'), [['a', '1']]],
    ['nothing', [], []],
  ])('%s', (_name, headers, expected) => {
    expect(pairs(clientResponseHeaders(headers))).toEqual([...expected, ['server', 'switchyard']]);
  });
});

describe('requestFields', () => {
  it.each([
    ['nothing of interest', ['Accept', '*/*', 'User-Agent', 'x'], { host: undefined, connection: undefined, forwardedFor: undefined, hasBody: false, expect: undefined }],
    ['the first Host of two', ['Host', 'a.example', 'host', 'b.example'], { host: 'a.example' }],
    ['Connection fields joined as Node folds them', ['Connection', 'keep-alive', 'connection', 'X-Trace'], { connection: 'keep-alive, X-Trace' }],
    ['X-Forwarded-For fields joined', ['X-Forwarded-For', '203.0.113.7', 'x-forwarded-for', '198.51.100.1'], { forwardedFor: '203.0.113.7, 198.51.100.1' }],
    ['Content-Length 0 is no body', ['Content-Length', '0'], { hasBody: false }],
    ['Content-Length 5 is a body', ['content-length', '5'], { hasBody: true }],
    ['any Transfer-Encoding is a body', ['Transfer-Encoding', 'chunked'], { hasBody: true }],
    ['Expect, any case', ['EXPECT', '100-continue'], { expect: '100-continue' }],
    ['names of the right length but other letters', ['Hose', 'x', 'Expert', 'y', 'Connectiom', 'z'], { host: undefined, expect: undefined, connection: undefined }],
  ])('%s', (_name, raw, expected) => {
    expect(requestFields(raw)).toMatchObject(expected);
  });
});
