import { describe, expect, it } from 'vitest';
import { parseTarget, removeDotSegments } from '../../../src/dataplane/path.ts';

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
  ])('%j → path %j, pathAndQuery %j, host %j', (url, path, pathAndQuery, host) => {
    expect(parseTarget(url)).toEqual({ path, pathAndQuery, host });
  });

  it('a fragment is not part of the matched path', () => {
    expect(parseTarget('/a#frag')?.path).toBe('/a');
    expect(parseTarget('/a?x=1#frag')?.path).toBe('/a');
  });

  it.each([['*'], ['example.com:443'], ['ftp://example.com/'], ['a/b'], ['']])('%j is not origin- or absolute-form → undefined', (url) => {
    expect(parseTarget(url)).toBeUndefined();
  });
});

describe('removeDotSegments (RFC 3986 §5.2.4)', () => {
  it('the §5.2.4 walk-through: /a/b/c/./../../g → /a/g', () => {
    expect(removeDotSegments('/a/b/c/./../../g')).toBe('/a/g');
  });

  // §5.4 reference resolution examples (base http://a/b/c/d;p?q): the merged path of each reference, and its result.
  it.each([
    ['g', '/b/c/g', '/b/c/g'],
    ['./g', '/b/c/./g', '/b/c/g'],
    ['g/', '/b/c/g/', '/b/c/g/'],
    ['/g', '/g', '/g'],
    ['.', '/b/c/.', '/b/c/'],
    ['./', '/b/c/./', '/b/c/'],
    ['..', '/b/c/..', '/b/'],
    ['../', '/b/c/../', '/b/'],
    ['../g', '/b/c/../g', '/b/g'],
    ['../..', '/b/c/../..', '/'],
    ['../../', '/b/c/../../', '/'],
    ['../../g', '/b/c/../../g', '/g'],
    ['../../../g', '/b/c/../../../g', '/g'],
    ['../../../../g', '/b/c/../../../../g', '/g'],
    ['/./g', '/./g', '/g'],
    ['/../g', '/../g', '/g'],
    ['g.', '/b/c/g.', '/b/c/g.'],
    ['.g', '/b/c/.g', '/b/c/.g'],
    ['g..', '/b/c/g..', '/b/c/g..'],
    ['..g', '/b/c/..g', '/b/c/..g'],
    ['./../g', '/b/c/./../g', '/b/g'],
    ['./g/.', '/b/c/./g/.', '/b/c/g/'],
    ['g/./h', '/b/c/g/./h', '/b/c/g/h'],
    ['g/../h', '/b/c/g/../h', '/b/c/h'],
    ['g;x=1/./y', '/b/c/g;x=1/./y', '/b/c/g;x=1/y'],
    ['g;x=1/../y', '/b/c/g;x=1/../y', '/b/c/y'],
  ])('reference %j: %j → %j', (_ref, merged, expected) => {
    expect(removeDotSegments(merged)).toBe(expected);
  });

  it.each([
    ['/', '/'],
    ['/.', '/'],
    ['/..', '/'],
    ['/a//b', '/a//b'],
    ['/a/b/', '/a/b/'],
  ])('%j → %j', (input, expected) => {
    expect(removeDotSegments(input)).toBe(expected);
  });
});
