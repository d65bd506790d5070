import { describe, expect, it } from 'vitest';
import { editHeaders, rewritePath, rewriteTarget } from '../../../src/dataplane/route-filters.ts';

describe('editHeaders (RequestHeaderModifier / ResponseHeaderModifier)', () => {
  const fields = ['Host', 'shop.example', 'X-Keep', '1', 'X-Remove', 'a', 'x-set', 'old', 'X-Add', 'first'];
  it('removes, replaces (case-insensitively) and appends, as the spec examples do', () => {
    expect(editHeaders(fields, { remove: ['x-remove'], set: ['x-set', 'new'], add: ['x-add', 'second'] })).toEqual([
      'Host', 'shop.example', 'X-Keep', '1', 'X-Add', 'first', 'x-set', 'new', 'x-add', 'second',
    ]);
  });
  it('sets a field that was absent, and leaves the input list as it was', () => {
    const before = [...fields];
    expect(editHeaders(fields, { remove: [], set: ['host', 'rewritten.example'], add: [] })).toEqual(['X-Keep', '1', 'X-Remove', 'a', 'x-set', 'old', 'X-Add', 'first', 'host', 'rewritten.example']);
    expect(fields).toEqual(before);
  });
});

describe('rewritePath (URLRewrite / RequestRedirect path, the spec’s ReplacePrefixMatch table)', () => {
  it.each([
    ['/foo', '/foo', 'ReplaceFullPath', '/xyz', '/xyz'],
    ['/foo/bar', '/foo', 'ReplacePrefixMatch', '/xyz', '/xyz/bar'],
    ['/foo', '/foo', 'ReplacePrefixMatch', '/xyz', '/xyz'],
    ['/foo/', '/foo', 'ReplacePrefixMatch', '/xyz', '/xyz/'],
    ['/foo/bar', '/foo/', 'ReplacePrefixMatch', '/xyz/', '/xyz/bar'],
    ['/foo/bar', '/foo', 'ReplacePrefixMatch', '/', '/bar'],
    ['/foo', '/foo', 'ReplacePrefixMatch', '/', '/'],
    ['/foo/', '/foo', 'ReplacePrefixMatch', '/', '/'],
    ['/bar', '/', 'ReplacePrefixMatch', '/foo', '/foo/bar'],
  ] as const)('%s under prefix %s, %s %s → %s', (path, prefix, type, value, want) => {
    expect(rewritePath(path, prefix, { type, value })).toBe(want);
  });

  it('keeps the query of the target', () => {
    expect(rewriteTarget('/foo/bar?x=1&y', '/foo/bar', '/foo', { type: 'ReplacePrefixMatch', value: '/v2' })).toBe('/v2/bar?x=1&y');
    expect(rewriteTarget('/foo/bar?x=1', '/foo/bar', '/foo', undefined)).toBe('/foo/bar?x=1');
  });
});
