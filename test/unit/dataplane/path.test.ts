import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_POLICY } from '../../../src/dataplane/edge-policy.ts';
import { parseTarget, PATH_REJECTED } from '../../../src/dataplane/path.ts';

describe('parseTarget', () => {
  // [request-target, path, pathAndQuery, host]
  it.each([
    ['/', '/', '/', undefined],
    ['/a/b', '/a/b', '/a/b', undefined],
    ['/a/b?x=1&y', '/a/b', '/a/b?x=1&y', undefined],
    ['/a/b?', '/a/b', '/a/b?', undefined],
    ['/?q', '/', '/?q', undefined],
    ['/a/b/', '/a/b/', '/a/b/', undefined],
    ['/a?next=/b/../c', '/a', '/a?next=/b/../c', undefined],
    ['/public/../admin', '/admin', '/admin', undefined],
    ['/public/../admin?x=1', '/admin', '/admin?x=1', undefined],
    ['/a/./b/../c?q=/../x', '/a/c', '/a/c?q=/../x', undefined],
    ['/../../etc/passwd', '/etc/passwd', '/etc/passwd', undefined],
    ['/a/..', '/', '/', undefined],
    ['/a/.', '/a/', '/a/', undefined],
    ['/.well-known/acme', '/.well-known/acme', '/.well-known/acme', undefined],
    ['/a/.b/..c', '/a/.b/..c', '/a/.b/..c', undefined],
    ['http://example.com/a?b=1', '/a', '/a?b=1', 'example.com'],
    ['http://Example.COM:8080/x/y', '/x/y', '/x/y', 'Example.COM:8080'],
    ['HTTPS://example.com', '/', '/', 'example.com'],
    ['http://example.com?x=1', '/', '/?x=1', 'example.com'],
    ['http://example.com/a/../b', '/b', '/b', 'example.com'],
    ['http://[::1]:8080/p', '/p', '/p', '[::1]:8080'],
    // Normalized before matching and forwarding (path-normalize.ts); the query is never touched.
    ['/%61dmin?x=%2e%2e/..&y=%zz', '/admin', '/admin?x=%2e%2e/..&y=%zz', undefined],
    ['//admin?a=//b', '/admin', '/admin?a=//b', undefined],
    ['/admin%2f?q', '/admin/', '/admin%2F?q', undefined],
    ['/x/..%2fadmin', '/admin', '/admin', undefined],
    ['/a%3fb?c', '/a%3Fb', '/a%3Fb?c', undefined],
    ['http://example.com/x/%2e%2e/admin?q=1', '/admin', '/admin?q=1', 'example.com'],
    ['http://example.com//admin', '/admin', '/admin', 'example.com'],
  ])('%j → path %j, pathAndQuery %j, host %j', (url, path, pathAndQuery, host) => {
    expect(parseTarget(url, DEFAULT_EDGE_POLICY)).toEqual({ path, pathAndQuery, host });
  });

  it('the policy defaults to the flags’ defaults', () => {
    expect(parseTarget('//a%2Fb')).toEqual({ path: '/a/b', pathAndQuery: '/a%2Fb', host: undefined });
  });

  it('follows --merge-slashes and --escaped-slashes', () => {
    expect(parseTarget('//admin?x', { mergeSlashes: false, escapedSlashes: 'keep' })).toEqual({ path: '//admin', pathAndQuery: '//admin?x', host: undefined });
    expect(parseTarget('/admin%2fx?x', { mergeSlashes: true, escapedSlashes: 'unescape' })).toEqual({ path: '/admin/x', pathAndQuery: '/admin/x?x', host: undefined });
    expect(parseTarget('/admin%2fx?x', { mergeSlashes: true, escapedSlashes: 'reject' })).toBe(PATH_REJECTED);
    // An escaped slash in the query is not in the path.
    expect(parseTarget('/admin?x=%2f', { mergeSlashes: true, escapedSlashes: 'reject' })).toEqual({ path: '/admin', pathAndQuery: '/admin?x=%2f', host: undefined });
  });

  it.each([['/%zz'], ['/%4'], ['/a%?q'], ['http://example.com/%g1']])('malformed escape in the path %j → PATH_REJECTED', (url) => {
    expect(parseTarget(url, DEFAULT_EDGE_POLICY)).toBe(PATH_REJECTED);
  });

  it('a fragment is not part of the matched path', () => {
    expect((parseTarget('/a#frag') as { path: string }).path).toBe('/a');
    expect((parseTarget('/a?x=1#frag') as { path: string }).path).toBe('/a');
  });

  it.each([['*'], ['example.com:443'], ['ftp://example.com/'], ['a/b'], ['']])('%j is not origin- or absolute-form → undefined', (url) => {
    expect(parseTarget(url)).toBeUndefined();
  });
});
