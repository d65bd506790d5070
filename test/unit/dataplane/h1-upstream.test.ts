/**
 * The llhttp upstream client's pieces that need no socket: the Node internal it stands on (fails loudly
 * when a Node moves it), its request-head refusals against undici's own (the same inputs, the same
 * error codes), and the Keep-Alive hint.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parserBinding } from '../../../src/dataplane/llhttp.ts';
import { requestHead } from '../../../src/dataplane/h1-upstream/request-head.ts';
import { ResponseParser, responseParserAvailable, HEAD_BODY } from '../../../src/dataplane/h1-upstream/response-parser.ts';
import { keepAliveHint } from '../../../src/dataplane/h1-upstream/timers.ts';

/** undici's Request: what its Client builds from dispatch options (and refuses). */
const UndiciRequest = createRequire(import.meta.url)('undici/lib/core/request.js') as new (origin: string, options: object, handler: object) => object;
const HANDLER = { onConnect() {}, onHeaders() {}, onData() {}, onComplete() {}, onError() {} };

describe('the Node internal the llhttp upstream client reaches into (_http_common.HTTPParser, DEP0199)', () => {
  it('is there, with a RESPONSE mode and the callback slots; when this fails, --upstream-client llhttp falls back to undici', () => {
    expect(responseParserAvailable).toBe(true);
    expect(typeof parserBinding?.RESPONSE).toBe('number');
    expect(typeof parserBinding?.kOnHeadersComplete).toBe('number');
  });

  it('parses a response with it: status, raw header strings, body, trailers', () => {
    const seen: unknown[] = [];
    const parser = new ResponseParser(
      {
        onHead: (minor, status, fields, upgrade, keepAlive) => (seen.push(['head', minor, status, fields, upgrade, keepAlive]), HEAD_BODY),
        onBody: (chunk) => void seen.push(['body', chunk.toString()]),
        onComplete: (trailers) => void seen.push(['done', trailers]),
      },
      0,
    );
    const ret = parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 2\r\n\r\n'));
    parser.close();
    expect(typeof ret).toBe('number');
    expect(seen).toEqual([
      ['head', 1, 200, ['X-A', '1', 'Transfer-Encoding', 'chunked'], false, true],
      ['body', 'hi'],
      ['done', ['X-T', '2']],
    ]);
  });
});

describe('request heads: refused where undici refuses, with its codes', () => {
  const H = (...fields: string[]): string[] => fields;
  it.each([
    ['two Host fields', '/', 'GET', H('host', 'a', 'host', 'b')],
    ['an invalid Content-Length', '/', 'POST', H('content-length', '1x')],
    ['two Content-Lengths', '/', 'POST', H('content-length', '1', 'content-length', '1')],
    ['Transfer-Encoding', '/', 'POST', H('transfer-encoding', 'chunked')],
    ['Keep-Alive', '/', 'GET', H('keep-alive', 'timeout=5')],
    ['Upgrade', '/', 'GET', H('upgrade', 'websocket')],
    ['Expect', '/', 'POST', H('expect', '100-continue')],
    ['a CR in a value', '/', 'GET', H('x-a', 'a\rb')],
    ['a space in a name', '/', 'GET', H('x a', 'b')],
    ['an invalid Connection token', '/', 'GET', H('connection', 'a b')],
    ['a path without a slash', 'x', 'GET', H()],
    ['a space in the path', '/a b', 'GET', H()],
    ['an invalid method', '/', 'G T', H()],
  ])('%s', (_name, path, method, headers) => {
    let undiciCode: unknown;
    try {
      new UndiciRequest('http://127.0.0.1:1', { method, path, headers }, HANDLER);
    } catch (err) {
      undiciCode = (err as { code?: unknown }).code;
    }
    let ours: unknown;
    try {
      requestHead({ method, path, headers }, '127.0.0.1:1', true);
    } catch (err) {
      ours = (err as { code?: unknown }).code;
    }
    expect(undiciCode, 'undici refuses it').toBeDefined();
    expect(ours).toBe(undiciCode);
  });

  it('writes the head as undici does: host first, then connection, then the fields in order', () => {
    expect(requestHead({ method: 'GET', path: '/a?b', headers: ['X-One', '1', 'Host', 'web.example', 'content-length', '0', 'connection', 'keep-alive'] }, '10.0.0.1:80', true)).toEqual({
      head: 'GET /a?b HTTP/1.1\r\nhost: web.example\r\nconnection: keep-alive\r\nX-One: 1\r\n',
      contentLength: 0,
      close: false,
    });
    expect(requestHead({ method: 'HEAD', path: '/', headers: [] }, '10.0.0.1:80', false).head).toBe('HEAD / HTTP/1.1\r\nhost: 10.0.0.1:80\r\nconnection: close\r\n');
    expect(requestHead({ method: 'GET', path: '/', headers: ['Connection', 'close'] }, 'h', true)).toMatchObject({ close: true, head: 'GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n' });
  });
});

describe('keepAliveHint (undici: timeout=N s minus 2 s, at most 600 s)', () => {
  it.each([
    ['timeout=5', 3000],
    ['timeout=5, max=100', 3000],
    ['max=100, timeout=30', 28_000],
    ['timeout=2', 0],
    ['timeout=1', -1000],
    ['timeout=100000', 600_000],
    ['max=100', undefined],
  ])('%s → %s', (value, ms) => {
    expect(keepAliveHint(value)).toBe(ms);
  });
});
