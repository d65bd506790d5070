import { describe, expect, it } from 'vitest';
import { compareRoundTrip } from '../../gateway-conformance/compare.ts';
import { evaluate, NotParsed, type Plain } from '../../gateway-conformance/go-eval.ts';
import { GoParser, GoSyntaxError, tokenize } from '../../gateway-conformance/go-literal.ts';
import { toExpectedCase } from '../../gateway-conformance/expected.ts';
import type { RoundTrip } from '../../gateway-conformance/round-trip.ts';

const scope = { lookup: (name: string): Plain | undefined => ({ ns: 'infra', 'confsuite.InfraBackendServiceNameV1': 'infra-backend-v1' } as Record<string, Plain>)[name] };
const value = (src: string): Plain => evaluate(new GoParser(tokenize(src)).parseExpr(), scope);

describe('Go literal subset', () => {
  it.each([
    ['"a\\tb"', 'a\tb'],
    ['`raw "x"`', 'raw "x"'],
    ['"a" + "b"', 'ab'],
    ['42', 42],
    ['ns', 'infra'],
    ['v1.Namespace(ns)', 'infra'],
    ['[]int{301, 302}', [301, 302]],
    ['map[string]string{"X-A": "1", "b": "2",}', { 'X-A': '1', b: '2' }],
    ['&http.ExpectedRequest{Request: http.Request{Path: "/p"}, AbsentHeaders: []string{"X"}}', { Request: { Path: '/p' }, AbsentHeaders: ['X'] }],
    ['[]http.ExpectedResponse{{Backend: confsuite.InfraBackendServiceNameV1}, {Namespace: ns}}', [{ Backend: 'infra-backend-v1' }, { Namespace: 'infra' }]],
    ['http.Request{ // comment\n Path: "/x", /* c */ UnfollowRedirect: true}', { Path: '/x', UnfollowRedirect: true }],
  ])('%s', (src, want) => {
    expect(value(src)).toEqual(want);
  });

  it('refuses what it cannot read', () => {
    expect(() => value('fmt.Sprintf("/%d", i)')).toThrow(NotParsed);
    expect(() => value('unknownVar')).toThrow(NotParsed);
    expect(() => value('testCases[i]')).toThrow(NotParsed);
    expect(() => tokenize('"unterminated')).toThrow(GoSyntaxError);
  });

  it('applies the suite defaults to a row and refuses unknown fields', () => {
    const row = toExpectedCase({ Request: { Path: '/' }, Response: { StatusCode: 302 } }, 0);
    expect(row.request.method).toBe('GET');
    expect(row.response.statusCodes).toEqual([302]);
    expect(row.name).toBe("0 request to '/' should receive one of [302]");
    expect(toExpectedCase({ Request: { Path: '/' } }, 1).response.statusCodes).toEqual([200]);
    expect(() => toExpectedCase({ Request: { Path: '/', SNI: 'x' } }, 0)).toThrow(NotParsed);
  });
});

describe('compareRoundTrip (the suite rules)', () => {
  const rt = (status: number, extra: Partial<RoundTrip['response']> = {}, pod = 'infra-backend-v1-abc', path = '/'): RoundTrip => ({
    sent: { method: 'GET', host: '127.0.0.1', target: path, headers: {} },
    captured: { path, host: '127.0.0.1', method: 'GET', headers: { 'X-A': ['1', '2'] }, httpPort: '3000', namespace: 'infra', pod },
    response: { statusCode: status, headers: {}, redirect: undefined, body: '', ...extra },
  });
  const ctx = { originalPort: (p: string) => (p === '41234' ? '80' : p) };
  const row = (v: Record<string, Plain>) => toExpectedCase(v, 0);

  it('checks status, backend prefix, namespace and joined request headers', () => {
    const e = row({ Request: { Path: '/' }, Backend: 'infra-backend-v1', Namespace: 'infra', ExpectedRequest: { Request: { Path: '/', Headers: { 'x-a': '1,2' } } } });
    expect(compareRoundTrip(e, rt(200), ctx)).toBeUndefined();
    expect(compareRoundTrip(e, rt(200, {}, 'infra-backend-v2-x'), ctx)).toMatch(/pod name to start with infra-backend-v1/);
    expect(compareRoundTrip(e, rt(404), ctx)).toMatch(/one of \[200\], got 404/);
  });

  it('a timeout status matches any expected timeout status', () => {
    expect(compareRoundTrip(row({ Request: { Path: '/' }, Response: { StatusCode: 504 } }), rt(408), ctx)).toBeUndefined();
  });

  it('reads redirect ports back to the suite\'s and applies its defaults', () => {
    const e = row({ Request: { Path: '/r', UnfollowRedirect: true }, Response: { StatusCode: 302 }, RedirectRequest: { Host: 'example.org' } });
    const redirect = (port: string) => rt(302, { redirect: { scheme: 'http', host: 'example.org', port, path: '/r' } }, '', '/r');
    expect(compareRoundTrip(e, redirect('41234'), ctx)).toBeUndefined();
    expect(compareRoundTrip(e, redirect('8080'), ctx)).toMatch(/port to be 80 or not set/);
  });
});
