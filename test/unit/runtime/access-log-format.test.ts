/**
 * The access log's line formats (runtime/access-log-format.ts): every JSON field from the exchange and
 * its trace, and nginx `combined` with nginx's escaping of what the client sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpExchange } from '../../../src/dataplane/exchange.ts';
import { ExchangeTrace, NO_ROUTE } from '../../../src/dataplane/exchange-trace.ts';
import { escapeNginx, formatCombinedLine, formatJsonLine, formatRefusedCombinedLine, formatRefusedJsonLine, headerValue } from '../../../src/runtime/access-log-format.ts';

/** 2026-12-04T22:37:07.123Z */
const WALL = Date.UTC(2026, 11, 4, 22, 37, 7, 123);

interface Fake {
  method?: string;
  url?: string;
  host?: string | undefined;
  rawHeaders?: string[];
  status?: number;
  headersSent?: boolean;
  protocol?: 'http/1.1' | 'h2';
  scheme?: 'http' | 'https';
  trace?: Partial<Omit<ExchangeTrace, 'startedAt' | 'remotePort'>>;
}

function exchange(f: Fake = {}): HttpExchange {
  const trace = Object.assign(new ExchangeTrace(51234), f.trace ?? {});
  return {
    method: f.method ?? 'GET',
    url: f.url ?? '/cart?id=7',
    host: 'host' in f ? f.host : 'shop.example',
    rawHeaders: f.rawHeaders ?? ['Host', 'shop.example', 'User-Agent', 'curl/8.5'],
    statusCode: f.status ?? 200,
    headersSent: f.headersSent ?? true,
    protocol: f.protocol ?? 'http/1.1',
    scheme: f.scheme ?? 'http',
    remoteAddress: '10.1.2.3',
    requestId: 'req-1',
    trace,
  } as unknown as HttpExchange;
}

const ROUTED = { route: { namespace: 'shop', ingress: 'web', service: 'cart' }, upstream: '10.0.0.5:8080', upstreamStatus: 200, upstreamMs: 1.23456, bytesIn: 12, bytesOut: 345 };

const json = (x: HttpExchange, finished = true, durationMs = 2.5) => {
  const line = formatJsonLine('ingress', x, finished, durationMs, WALL);
  expect(line.endsWith('\n')).toBe(true);
  expect(line.indexOf('\n')).toBe(line.length - 1);
  return JSON.parse(line) as Record<string, unknown>;
};

describe('access log JSON lines', () => {
  it('a routed request: every field, in the documented order', () => {
    const line = json(exchange({ trace: ROUTED }), true, 2.34567);
    expect(line).toEqual({
      time: '2026-12-04T22:37:07.123Z',
      listener: 'ingress',
      clientAddress: '10.1.2.3',
      clientPort: 51234,
      method: 'GET',
      scheme: 'http',
      host: 'shop.example',
      path: '/cart?id=7',
      protocol: 'http/1.1',
      status: 200,
      finished: true,
      bytesReceived: 12,
      bytesSent: 345,
      durationMs: 2.346,
      upstream: '10.0.0.5:8080',
      upstreamStatus: 200,
      upstreamMs: 1.235,
      retries: 0,
      namespace: 'shop',
      ingress: 'web',
      service: 'cart',
      error: '',
      requestId: 'req-1',
      userAgent: 'curl/8.5',
    });
    expect(Object.keys(line)[0]).toBe('time');
    expect(Object.keys(line).at(-1)).toBe('userAgent');
  });

  it.each([
    ['no route (404): empty labels, no upstream', exchange({ status: 404, trace: { route: NO_ROUTE, error: 'no-route' } }), { status: 404, namespace: '', ingress: '', service: '', upstream: '', upstreamStatus: 0, upstreamMs: null, error: 'no-route' }],
    ['a cut response: the status sent, not finished, the reason', exchange({ status: 200, trace: { ...ROUTED, error: 'upstream-protocol' } }), { status: 200, finished: false, error: 'upstream-protocol' }],
    ['nothing sent: status 0', exchange({ headersSent: false, status: 200 }), { status: 0 }],
    ['retries after a dead endpoint', exchange({ trace: { ...ROUTED, retries: 2 } }), { retries: 2, upstream: '10.0.0.5:8080' }],
    ['HTTP/2 over TLS', exchange({ protocol: 'h2', scheme: 'https', rawHeaders: ['user-agent', 'h2load'] }), { protocol: 'h2', scheme: 'https', userAgent: 'h2load' }],
    ['no Host, no User-Agent', exchange({ host: undefined, rawHeaders: [] }), { host: '', userAgent: '' }],
    ['User-Agent in any case; the first one', exchange({ rawHeaders: ['USER-AGENT', 'first', 'user-agent', 'second'] }), { userAgent: 'first' }],
  ])('%s', (_name, x, expected) => {
    const finished = !_name.startsWith('a cut');
    expect(json(x, finished)).toMatchObject(expected);
  });

  it('what a client sent cannot break out of its field', () => {
    const nasty = 'a"b\\c\nd\re\u0000f\u2028é😀';
    const line = json(exchange({ url: `/x?q=${nasty}`, rawHeaders: ['User-Agent', nasty], method: 'GE"T', host: `h${nasty}` }));
    expect(line['path']).toBe(`/x?q=${nasty}`);
    expect(line['userAgent']).toBe(nasty);
    expect(line['method']).toBe('GE"T');
    expect(line['host']).toBe(`h${nasty}`);
  });
});

describe('access log combined lines (nginx)', () => {
  let tz: string | undefined;
  beforeAll(() => {
    tz = process.env['TZ'];
    process.env['TZ'] = 'UTC';
  });
  afterAll(() => {
    if (tz === undefined) delete process.env['TZ'];
    else process.env['TZ'] = tz;
  });

  it.each([
    ['a routed request', exchange({ trace: ROUTED, rawHeaders: ['Referer', 'http://a.example/', 'User-Agent', 'curl/8.5'] }), '10.1.2.3 - - [04/Dec/2026:22:37:07 +0000] "GET /cart?id=7 HTTP/1.1" 200 345 "http://a.example/" "curl/8.5"\n'],
    ['no referer or agent: -', exchange({ rawHeaders: [] }), '10.1.2.3 - - [04/Dec/2026:22:37:07 +0000] "GET /cart?id=7 HTTP/1.1" 200 0 "-" "-"\n'],
    ['HTTP/2, a 404', exchange({ protocol: 'h2', status: 404, url: '/nope', rawHeaders: [] }), '10.1.2.3 - - [04/Dec/2026:22:37:07 +0000] "GET /nope HTTP/2.0" 404 0 "-" "-"\n'],
    ['nothing sent: 0', exchange({ headersSent: false, rawHeaders: [] }), '10.1.2.3 - - [04/Dec/2026:22:37:07 +0000] "GET /cart?id=7 HTTP/1.1" 0 0 "-" "-"\n'],
    [
      'a quote, a newline and non-ASCII bytes in path and agent (Latin-1 as HTTP/1.1 delivers them)',
      exchange({ url: '/a"b\nc\u00c3\u00a9', rawHeaders: ['User-Agent', 'x" "y\r\n\\\u007f'] }),
      '10.1.2.3 - - [04/Dec/2026:22:37:07 +0000] "GET /a\\x22b\\x0Ac\\xC3\\xA9 HTTP/1.1" 200 0 "-" "x\\x22 \\x22y\\x0D\\x0A\\x5C\\x7F"\n',
    ],
  ])('%s', (_name, x, expected) => {
    expect(formatCombinedLine('ingress', x, true, 1, WALL)).toBe(expected);
  });

  it.each([
    ['plain', 'curl/8.5', 'curl/8.5'],
    ['quote and backslash', 'a"\\', 'a\\x22\\x5C'],
    ['control bytes', '\u0000\t\u001f', '\\x00\\x09\\x1F'],
    ['a Latin-1 byte', '\u00ff', '\\xFF'],
    ['a char above 0xFF (never from the parsers, which give Latin-1): its UTF-8 bytes', 'é€😀', '\\xE9\\xE2\\x82\\xAC\\xF0\\x9F\\x98\\x80'],
  ])('escapeNginx: %s', (_name, input, expected) => {
    expect(escapeNginx(input)).toBe(expected);
  });

  it('a combined line matches the usual parsing regex, however the client quoted', () => {
    const line = formatCombinedLine('ingress', exchange({ url: '/a"b', rawHeaders: ['User-Agent', 'Mozilla/5.0 (X11; "quoted") \\"'] }), true, 1, WALL);
    const m = /^(\S+) - - \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d+) (\d+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"\n$/.exec(line);
    expect(m?.slice(1)).toEqual(['10.1.2.3', '04/Dec/2026:22:37:07 +0000', 'GET /a\\x22b HTTP/1.1', '200', '0', '-', 'Mozilla/5.0 (X11; \\x22quoted\\x22) \\x5C\\x22']);
  });
});

describe('headerValue', () => {
  it.each([
    [['User-Agent', 'a'], 'user-agent', 'a'],
    [['user-agent', 'b'], 'user-agent', 'b'],
    [['X-User-Agent', 'c', 'uSeR-aGeNt', 'd'], 'user-agent', 'd'],
    [['Host', 'x'], 'user-agent', undefined],
  ])('%j', (raw, name, expected) => {
    expect(headerValue(raw, name)).toBe(expected);
  });
});

describe('refused requests', () => {
  it('JSON: the same keys in the same order as an answered request, what the refusal leaves unknown empty', () => {
    const line = formatRefusedJsonLine('ingress', '203.0.113.7', 40001, 431, 'header-too-large', WALL);
    expect(line.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(Object.keys(JSON.parse(formatJsonLine('ingress', exchange(), true, 1, WALL)) as object));
    expect(parsed).toMatchObject({ time: '2026-12-04T22:37:07.123Z', clientAddress: '203.0.113.7', clientPort: 40001, status: 431, error: 'header-too-large', method: '', path: '', upstreamMs: null });
  });

  it('combined: the request line unknown, as nginx logs a 400 it could not parse', () => {
    expect(formatRefusedCombinedLine('ingress', '203.0.113.7', 40001, 400, 'bad-request', WALL)).toMatch(/^203\.0\.113\.7 - - \[\d{2}\/Dec\/2026:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "-" 400 0 "-" "-"\n$/);
  });
});
