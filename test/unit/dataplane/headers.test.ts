import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_POLICY, type EdgePolicy } from '../../../src/dataplane/edge-policy.ts';
import {
  clientResponseHeaders,
  clientTrailerFields,
  forwardedElement,
  MAX_REQUEST_ID_LENGTH,
  requestFields,
  requestIdFor,
  upstreamRequestHeaders,
  type ClientRequestHead,
  type ForwardedInfo,
} from '../../../src/dataplane/headers.ts';

/** A client request head as the listener hands it over: raw headers as sent, the fields read from them, its id, the peer address. */
function fakeRequest(raw: readonly string[], remoteAddress = '10.1.2.3'): ClientRequestHead {
  const fields = requestFields(raw);
  return { rawHeaders: [...raw], ...fields, requestId: requestIdFor(fields.clientRequestId), remoteAddress };
}

/** What randomUUID() makes (RFC 9562 version 4). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The flat [name, value, …] list as pairs. */
const pairs = (flat: readonly string[] | undefined): [string, string][] => {
  if (flat === undefined) throw new Error('the request was refused');
  return Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);
};
const policy = (changes: Partial<EdgePolicy> = {}): EdgePolicy => ({ ...DEFAULT_EDGE_POLICY, ...changes });
/** 10.0.0.0/8 and 2001:db8::/32 are trusted proxies; the default peer 10.1.2.3 is one of them. */
const TRUSTING = policy({ trustedProxies: ['10.0.0.0/8', '2001:db8::/32'] });
const HTTP: ForwardedInfo = { proto: 'http', port: 8080, policy: DEFAULT_EDGE_POLICY };
const TRUSTED_HTTP: ForwardedInfo = { ...HTTP, policy: TRUSTING };
const named = (out: [string, string][], name: string): [string, string][] => out.filter(([n]) => n.toLowerCase() === name);
const forwarding = (out: [string, string][]): [string, string][] => out.filter(([n]) => /^(x-forwarded-|forwarded$)/i.test(n));

describe('upstreamRequestHeaders', () => {
  it('passes end-to-end fields in order (Host as sent) and appends X-Forwarded-*', () => {
    const req = fakeRequest(['Host', 'Demo.Example.com:8080', 'User-Agent', 'curl/8', 'Accept', '*/*', 'X-Multi', 'a', 'x-multi', 'b']);
    expect(pairs(upstreamRequestHeaders(req, HTTP))).toEqual([
      ['Host', 'Demo.Example.com:8080'],
      ['User-Agent', 'curl/8'],
      ['Accept', '*/*'],
      ['X-Multi', 'a'],
      ['x-multi', 'b'],
      ['x-request-id', expect.stringMatching(UUID)],
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
    ['X-Forwarded-For', '203.0.113.7'],
    ['X-Forwarded-Proto', 'https'],
    ['X-Forwarded-Host', 'spoofed.example.com'],
    ['X-Forwarded-Port', '1'],
    ['Forwarded', 'for=203.0.113.7;proto=https'],
  ])('drops %s from the client request', (name, value) => {
    const req = fakeRequest(['Host', 'h', name, value, 'Accept', '*/*']);
    const out = pairs(upstreamRequestHeaders(req, HTTP));
    expect(out.filter(([n, v]) => n.toLowerCase() === name.toLowerCase() && v === value)).toEqual([]);
    expect(named(out, name.toLowerCase()).length).toBe(name.toLowerCase().startsWith('x-forwarded-') ? 1 : 0);
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
    // RFC 9110 §7.6.1 lets a sender name any field, but these carry routing and framing: never stripped.
    ['Host is never stripped', ['Connection', 'Host', 'Host', 'h.example', 'X-C', '3'], [['Host', 'h.example'], ['X-C', '3']]],
    ['Content-Length is never stripped', ['Connection', 'close, content-length', 'Content-Length', '5', 'X-C', '3'], [['Content-Length', '5'], ['X-C', '3']]],
    ['protected names beside a strippable one', ['Connection', 'HOST, X-Trace, Content-Length', 'host', 'h', 'X-Trace', '1', 'content-length', '0'], [['host', 'h'], ['content-length', '0']]],
    ['Transfer-Encoding stays hop-by-hop (the body is framed again upstream)', ['Connection', 'transfer-encoding', 'Transfer-Encoding', 'chunked', 'X-C', '3'], [['X-C', '3']]],
  ])('fields named in Connection: %s', (_name, raw, expected) => {
    const out = pairs(upstreamRequestHeaders(fakeRequest(raw), HTTP, undefined));
    expect(out.filter(([n]) => !n.startsWith('x-forwarded-') && n !== 'x-request-id')).toEqual(expected);
  });

  it('Connection naming the forwarding fields cannot strip what a trusted proxy recorded', () => {
    const raw = ['Host', 'h', 'Connection', 'X-Forwarded-For, X-Forwarded-Proto, Forwarded', 'X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'https', 'Forwarded', 'for=203.0.113.7'];
    const out = pairs(upstreamRequestHeaders(fakeRequest(raw), TRUSTED_HTTP));
    expect(forwarding(out)).toEqual([
      ['X-Forwarded-Proto', 'https'],
      ['Forwarded', 'for=203.0.113.7'],
      ['x-forwarded-for', '203.0.113.7, 10.1.2.3'],
      ['x-forwarded-host', 'h'],
      ['x-forwarded-port', '8080'],
      ['forwarded', 'for=10.1.2.3;proto=http;host=h'],
    ]);
  });

  it.each([
    ['no prior header', [], '10.1.2.3', '10.1.2.3', '10.1.2.3'],
    ['one prior hop', ['X-Forwarded-For', '203.0.113.7'], '10.1.2.3', '10.1.2.3', '203.0.113.7, 10.1.2.3'],
    ['a prior list', ['X-Forwarded-For', '203.0.113.7, 198.51.100.1'], '10.1.2.3', '10.1.2.3', '203.0.113.7, 198.51.100.1, 10.1.2.3'],
    ['two prior headers (folded by Node)', ['X-Forwarded-For', '203.0.113.7', 'x-forwarded-for', '198.51.100.1'], '10.1.2.3', '10.1.2.3', '203.0.113.7, 198.51.100.1, 10.1.2.3'],
    ['an empty prior header', ['X-Forwarded-For', ''], '10.1.2.3', '10.1.2.3', '10.1.2.3'],
    ['an IPv6 client in a trusted block', ['X-Forwarded-For', '203.0.113.7'], '2001:db8::5', '2001:db8::5', '203.0.113.7, 2001:db8::5'],
    ['an IPv4-mapped IPv6 peer matches an IPv4 block', ['X-Forwarded-For', '203.0.113.7'], '::ffff:10.0.0.1', '::ffff:10.0.0.1', '203.0.113.7, ::ffff:10.0.0.1'],
    ['a peer outside every block', ['X-Forwarded-For', '203.0.113.7'], '192.0.2.9', '192.0.2.9', '192.0.2.9'],
    ['an IPv6 peer outside every block', ['X-Forwarded-For', '203.0.113.7'], '::1', '::1', '::1'],
    ['an IPv4-mapped peer outside every block', ['X-Forwarded-For', '203.0.113.7'], '::ffff:127.0.0.1', '::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['a peer whose address is gone', ['X-Forwarded-For', '203.0.113.7'], '', '', ''],
  ])('X-Forwarded-For: %s', (_name, raw, remote, untrusting, trusting) => {
    const req = fakeRequest(['Host', 'h', ...raw], remote);
    expect(named(pairs(upstreamRequestHeaders(req, HTTP)), 'x-forwarded-for'), 'no trusted proxies').toEqual([['x-forwarded-for', untrusting]]);
    expect(named(pairs(upstreamRequestHeaders(req, TRUSTED_HTTP)), 'x-forwarded-for'), 'trusting 10/8 and 2001:db8::/32').toEqual([['x-forwarded-for', trusting]]);
  });

  it.each([
    [{ proto: 'http', port: 80 } as const, 'a.example.com', [['x-forwarded-proto', 'http'], ['x-forwarded-host', 'a.example.com'], ['x-forwarded-port', '80']]],
    [{ proto: 'https', port: 8443 } as const, 'b.example.com:8443', [['x-forwarded-proto', 'https'], ['x-forwarded-host', 'b.example.com:8443'], ['x-forwarded-port', '8443']]],
    [{ proto: 'http', port: 8080 } as const, undefined, [['x-forwarded-proto', 'http'], ['x-forwarded-port', '8080']]],
  ])('X-Forwarded-Proto/Host/Port for %j and Host header %j', (info, host, expected) => {
    const raw = host === undefined ? ['X-Forwarded-Proto', 'gopher'] : ['Host', host, 'X-Forwarded-Proto', 'gopher'];
    const out = pairs(upstreamRequestHeaders(fakeRequest(raw), { ...info, policy: DEFAULT_EDGE_POLICY }));
    expect(out.filter(([n]) => n.startsWith('x-forwarded-') && n !== 'x-forwarded-for')).toEqual(expected);
  });

  const SPOOFED = ['X-Forwarded-For', '203.0.113.7', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil.example', 'X-Forwarded-Port', '1', 'Forwarded', 'for=203.0.113.7;proto=https'];
  it.each([
    [
      'untrusted peer (default): every client value replaced, no Forwarded',
      HTTP,
      SPOOFED,
      [['x-forwarded-for', '10.1.2.3'], ['x-forwarded-proto', 'http'], ['x-forwarded-host', 'h.example'], ['x-forwarded-port', '8080']],
    ],
    [
      'trusted peer: kept in place, For and Forwarded appended to',
      TRUSTED_HTTP,
      SPOOFED,
      [
        ['X-Forwarded-Proto', 'https'],
        ['X-Forwarded-Host', 'evil.example'],
        ['X-Forwarded-Port', '1'],
        ['Forwarded', 'for=203.0.113.7;proto=https'],
        ['x-forwarded-for', '203.0.113.7, 10.1.2.3'],
        ['forwarded', 'for=10.1.2.3;proto=http;host=h.example'],
      ],
    ],
    [
      'trusted peer that sent none: set as for any client, no Forwarded started',
      TRUSTED_HTTP,
      [],
      [['x-forwarded-for', '10.1.2.3'], ['x-forwarded-proto', 'http'], ['x-forwarded-host', 'h.example'], ['x-forwarded-port', '8080']],
    ],
    [
      'trusted peer that sent some: the missing ones set',
      TRUSTED_HTTP,
      ['x-forwarded-proto', 'https'],
      [['x-forwarded-proto', 'https'], ['x-forwarded-for', '10.1.2.3'], ['x-forwarded-host', 'h.example'], ['x-forwarded-port', '8080']],
    ],
    [
      'a trusting policy and a peer outside it: replaced',
      TRUSTED_HTTP,
      SPOOFED,
      [['x-forwarded-for', '192.0.2.9'], ['x-forwarded-proto', 'http'], ['x-forwarded-host', 'h.example'], ['x-forwarded-port', '8080']],
      '192.0.2.9',
    ],
  ])('forwarding fields: %s', (_name, info, raw, expected, remote = '10.1.2.3') => {
    const out = pairs(upstreamRequestHeaders(fakeRequest(['Host', 'h.example', ...raw], remote), info));
    expect(forwarding(out)).toEqual(expected);
  });

  it.each([
    ['drop (default)', 'drop', ['Accept', '*/*']],
    ['allow', 'allow', ['X_Forwarded_For', '203.0.113.7', 'Transfer_Encoding', 'chunked', 'x_custom', 'v', 'Accept', '*/*']],
  ] as const)('header names with underscores: %s', (_name, mode, expected) => {
    const raw = ['Host', 'h', 'X_Forwarded_For', '203.0.113.7', 'Transfer_Encoding', 'chunked', 'x_custom', 'v', 'Accept', '*/*'];
    const out = pairs(upstreamRequestHeaders(fakeRequest(raw), { ...HTTP, policy: policy({ headersWithUnderscores: mode }) }));
    expect(out.filter(([n]) => !n.startsWith('x-forwarded-') && n !== 'x-request-id' && n !== 'Host').flat()).toEqual(expected);
    // Never taken for the field it resembles: X-Forwarded-For is the peer alone.
    expect(named(out, 'x-forwarded-for')).toEqual([['x-forwarded-for', '10.1.2.3']]);
  });

  it.each([
    ['X_Forwarded_For', 'x'],
    ['Transfer_Encoding', 'chunked'],
    ['_', 'x'],
    ['a_b', ''],
  ])('reject mode refuses a request with %s', (name, value) => {
    const reject: ForwardedInfo = { ...HTTP, policy: policy({ headersWithUnderscores: 'reject' }) };
    expect(upstreamRequestHeaders(fakeRequest(['Host', 'h', name, value]), reject)).toBeUndefined();
    expect(upstreamRequestHeaders(fakeRequest(['Host', 'h', 'X-Forwarded-For', 'x']), reject)).toBeDefined();
  });

  it('an absolute-form target host replaces the Host header (RFC 9112 §3.2.2), and X-Forwarded-Host follows it', () => {
    const out = pairs(upstreamRequestHeaders(fakeRequest(['Host', 'other.example', 'Accept', '*/*']), HTTP, 'demo.localhost'));
    expect(named(out, 'host')).toEqual([['host', 'demo.localhost']]);
    expect(named(out, 'x-forwarded-host')).toEqual([['x-forwarded-host', 'demo.localhost']]);
  });
});

describe('forwardedElement (RFC 7239 §4, §6)', () => {
  it.each([
    ['IPv4', '192.0.2.60', 'http', 'example.com', 'for=192.0.2.60;proto=http;host=example.com'],
    ['IPv6 quoted and bracketed', '2001:db8:cafe::17', 'https', 'example.com', 'for="[2001:db8:cafe::17]";proto=https;host=example.com'],
    ['IPv4-mapped IPv6', '::ffff:10.0.0.1', 'http', undefined, 'for="[::ffff:10.0.0.1]";proto=http'],
    ['no address', '', 'http', undefined, 'for=unknown;proto=http'],
    ['a host with a port is quoted', '192.0.2.60', 'http', 'example.com:8080', 'for=192.0.2.60;proto=http;host="example.com:8080"'],
    ['an IPv6 literal host is quoted', '192.0.2.60', 'http', '[::1]:80', 'for=192.0.2.60;proto=http;host="[::1]:80"'],
    ['quotes and backslashes are escaped', '192.0.2.60', 'http', 'a"b\\c', 'for=192.0.2.60;proto=http;host="a\\"b\\\\c"'],
  ])('%s', (_name, address, proto, host, expected) => {
    expect(forwardedElement(address, proto, host)).toBe(expected);
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
      'rid',
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
    ['the pod sent none', raw('a', '1'), [['a', '1'], ['server', 'switchyard'], ['x-request-id', 'rid']]],
    ['the pod sent its own', raw('Server', 'nginx/1.27', 'a', '1'), [['Server', 'nginx/1.27'], ['a', '1'], ['x-request-id', 'rid']]],
    ['in any case', raw('SERVER', 'pod'), [['SERVER', 'pod'], ['x-request-id', 'rid']]],
    ['a name of the same length is not it', raw('Serval', 'x'), [['Serval', 'x'], ['server', 'switchyard'], ['x-request-id', 'rid']]],
  ])('Server: %s', (_name, headers, expected) => {
    expect(pairs(clientResponseHeaders(headers, 'rid'))).toEqual(expected);
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
    expect(pairs(clientResponseHeaders(headers, 'rid'))).toEqual([...expected, ['server', 'switchyard'], ['x-request-id', 'rid']]);
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
    ['the first X-Request-Id of two, any case', ['X-REQUEST-ID', 'a1', 'x-request-id', 'b2'], { clientRequestId: 'a1' }],
    ['no X-Request-Id', ['Content-Type', 'text/plain', 'X-Request-Ix', 'r'], { clientRequestId: undefined }],
    // CGI-style servers read `_` as `-`; here a lookalike is never the field it resembles.
    [
      'underscore lookalikes count as nothing',
      ['Transfer_Encoding', 'chunked', 'Content_Length', '5', 'X_Forwarded_For', '203.0.113.7', 'Connection_', 'x', 'Ho_t', 'a', 'Expec_', 'y', 'X_Request_Id', 'r'],
      { host: undefined, connection: undefined, forwardedFor: undefined, hasBody: false, expect: undefined, clientRequestId: undefined },
    ],
  ])('%s', (_name, raw, expected) => {
    expect(requestFields(raw)).toMatchObject(expected);
  });
});

describe('request id', () => {
  const longest = 'a'.repeat(MAX_REQUEST_ID_LENGTH);
  it.each([
    ['generated when missing', undefined, UUID],
    ['kept when valid', 'abc-123', 'abc-123'],
    ['kept: every visible ASCII character', '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~', '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~'],
    ['kept at the longest', longest, longest],
    ['replaced when too long', `${longest}a`, UUID],
    ['replaced when empty', '', UUID],
    ['replaced: a space', 'a b', UUID],
    ['replaced: a tab', 'a\tb', UUID],
    // Never reflected: the id is echoed to the client, the pod and the log.
    ['replaced: CR LF (header injection)', 'a\r\nSet-Cookie: x=1', UUID],
    ['replaced: NUL', 'a\u0000', UUID],
    ['replaced: DEL', 'a\u007f', UUID],
    ['replaced: obs-text (latin1)', 'caf\u00e9', UUID],
  ])('%s', (_name, sent, expected) => {
    const id = requestIdFor(sent);
    if (typeof expected === 'string') expect(id).toBe(expected);
    else expect(id).toMatch(expected);
  });

  it('gives each request a different id', () => {
    const ids = new Set(Array.from({ length: 100 }, () => requestIdFor(undefined)));
    expect(ids.size).toBe(100);
  });

  it.each([
    ['generated when missing', ['Host', 'h'], UUID],
    ['kept when valid', ['Host', 'h', 'X-Request-Id', 'client-42'], /^client-42$/],
    ['the first of two kept, the second dropped', ['Host', 'h', 'x-request-id', 'one', 'X-REQUEST-ID', 'two'], /^one$/],
    ['replaced when invalid', ['Host', 'h', 'X-Request-Id', 'a b'], UUID],
  ])('to the pod: exactly one X-Request-Id, %s', (_name, raw, expected) => {
    const req = fakeRequest(raw);
    const ids = named(pairs(upstreamRequestHeaders(req, HTTP)), 'x-request-id');
    expect(ids).toEqual([['x-request-id', req.requestId]]);
    expect(req.requestId).toMatch(expected);
  });

  it('passes traceparent and tracestate untouched, in order', () => {
    const trace = ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'TraceState', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', 'tracestate', 'x=1'];
    const out = pairs(upstreamRequestHeaders(fakeRequest(['Host', 'h', ...trace, 'Accept', '*/*']), TRUSTED_HTTP));
    expect(out.slice(0, 5)).toEqual(pairs(['Host', 'h', ...trace, 'Accept', '*/*']));
  });

  const raw = (...fields: string[]): Buffer[] => fields.map((f) => Buffer.from(f, 'latin1'));
  it.each([
    ['added when the pod sent none', raw('a', '1'), [['a', '1'], ['server', 'switchyard'], ['x-request-id', 'rid']]],
    ['the pod\'s own kept, in any case', raw('X-Request-ID', 'pod-7', 'server', 's'), [['X-Request-ID', 'pod-7'], ['server', 's']]],
    ['the exchange\'s when the pod\'s Connection names its own', raw('Connection', 'x-request-id', 'X-Request-Id', 'pod-7'), [['server', 'switchyard'], ['x-request-id', 'rid']]],
  ])('to the client: %s', (_name, headers, expected) => {
    expect(pairs(clientResponseHeaders(headers, 'rid'))).toEqual(expected);
  });

  it('trailers get no X-Request-Id', () => {
    expect(pairs(clientTrailerFields(raw('grpc-status', '0')))).toEqual([['grpc-status', '0']]);
  });
});
