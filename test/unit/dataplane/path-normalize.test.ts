import { describe, expect, it } from 'vitest';
import { isPlainPath, normalizePath, PATH_REJECTED, type PathPolicy } from '../../../src/dataplane/path-normalize.ts';

type Mode = PathPolicy['escapedSlashes'];
const MODES: readonly Mode[] = ['keep', 'reject', 'unescape'];
const policy = (escapedSlashes: Mode, mergeSlashes: boolean): PathPolicy => ({ escapedSlashes, mergeSlashes });
const DEFAULT = policy('keep', true);

/** [match, forward], or 'reject'. */
type Want = readonly [match: string, forward: string] | 'reject';
const result = (path: string, p: PathPolicy): Want => {
  const r = normalizePath(path, p);
  return r === PATH_REJECTED ? 'reject' : [r.match, r.forward];
};

describe('normalizePath: the probes of issue 14 (item 4), in every mode', () => {
  // probe → [keep, reject, unescape] with --merge-slashes true, then the same with false.
  const rows: readonly (readonly [probe: string, merged: readonly [Want, Want, Want], unmerged: readonly [Want, Want, Want]])[] = [
    ['//admin', [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']], [['//admin', '//admin'], ['//admin', '//admin'], ['//admin', '//admin']]],
    ['/%61dmin', [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']], [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']]],
    ['/admin%2f', [['/admin/', '/admin%2F'], 'reject', ['/admin/', '/admin/']], [['/admin/', '/admin%2F'], 'reject', ['/admin/', '/admin/']]],
    ['/x/%2e%2e/admin', [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']], [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']]],
    ['/x/.%2e/admin', [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']], [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']]],
    ['/x/..%2fadmin', [['/admin', '/admin'], 'reject', ['/admin', '/admin']], [['/admin', '/admin'], 'reject', ['/admin', '/admin']]],
    ['/%2e%2e/admin', [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']], [['/admin', '/admin'], ['/admin', '/admin'], ['/admin', '/admin']]],
  ];
  for (const [probe, merged, unmerged] of rows) {
    for (const [mergeSlashes, wants] of [[true, merged], [false, unmerged]] as const) {
      MODES.forEach((mode, i) => {
        it(`${probe} --escaped-slashes ${mode} --merge-slashes ${mergeSlashes} → ${JSON.stringify(wants[i])}`, () => {
          expect(result(probe, policy(mode, mergeSlashes))).toEqual(wants[i]);
        });
      });
    }
  }
});

describe('normalizePath: RFC 3986', () => {
  // §5.4 reference resolution examples (base http://a/b/c/d;p?q): the merged path of each reference and
  // its result after §5.2.4. None has adjacent slashes, so merging changes nothing.
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
  ])('§5.4 reference %j: %j → %j', (_ref, merged, expected) => {
    expect(result(merged, DEFAULT)).toEqual([expected, expected]);
    expect(result(merged, policy('keep', false))).toEqual([expected, expected]);
  });

  it('§5.2.4 walk-through: /a/b/c/./../../g → /a/g', () => {
    expect(result('/a/b/c/./../../g', DEFAULT)).toEqual(['/a/g', '/a/g']);
  });

  // §6.2.2: eXAMPLE://a/./b/../b/%63/%7bfoo%7d normalizes to example://a/b/c/%7Bfoo%7D.
  it('§6.2.2 example: /./b/../b/%63/%7bfoo%7d → /b/c/%7Bfoo%7D', () => {
    expect(result('/./b/../b/%63/%7bfoo%7d', DEFAULT)).toEqual(['/b/c/%7Bfoo%7D', '/b/c/%7Bfoo%7D']);
  });

  it.each([
    // §6.2.2.1 case: hex of escapes that stay is uppercased.
    ['/a%3fb', '/a%3Fb'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/%e2%82%AC', '/%E2%82%AC'],
    // §6.2.2.2 percent-encoding: unreserved ALPHA DIGIT - . _ ~ are decoded, nothing else.
    ['/%7Esmith', '/~smith'],
    ['/%41%5a%61%7A%30%39', '/AZaz09'],
    ['/a%2D%5f%2e%7e', '/a-_.~'],
    ['/%20%21%40%3A%25', '/%20%21%40%3A%25'],
    ['/%00', '/%00'],
    // Decoding is done once: %25 stays an escaped '%', so %2541 is not 'A'.
    ['/%2541', '/%2541'],
    ['/%252e%252e/admin', '/%252e%252e/admin'],
    // §6.2.2.3 path segments, encoded dots included.
    ['/a/%2E/b', '/a/b'],
    ['/a/%2e%2E/b', '/b'],
    ['/a/b/%2e', '/a/b/'],
    ['/a/b/%2e%2e', '/a/'],
    ['/%2e', '/'],
    ['/%2e%2e%2e/x', '/.../x'],
    ['/.well-known/acme', '/.well-known/acme'],
    ['/a/.b/..c', '/a/.b/..c'],
  ])('%j → %j', (input, expected) => {
    expect(result(input, DEFAULT)).toEqual([expected, expected]);
  });

  it.each([['/%zz'], ['/%4'], ['/a%'], ['/a%g0'], ['/a%0g'], ['/%%41'], ['/a/%2'], ['/%-1']])('malformed escape %j is refused in every mode', (input) => {
    for (const mode of MODES) for (const merge of [true, false]) expect(result(input, policy(mode, merge))).toBe('reject');
  });
});

describe('normalizePath: slashes', () => {
  it.each([
    ['/a//b', ['/a/b', '/a/b'], ['/a//b', '/a//b']],
    ['/a///b//', ['/a/b/', '/a/b/'], ['/a///b//', '/a///b//']],
    ['//', ['/', '/'], ['//', '//']],
    // nginx merges before resolving dots; without merging, RFC 3986 pops the empty segment.
    ['/a//../b', ['/b', '/b'], ['/a/b', '/a/b']],
    ['/a/.//b', ['/a/b', '/a/b'], ['/a//b', '/a//b']],
  ] as const)('%j: merged %j, unmerged %j', (input, merged, unmerged) => {
    expect(result(input, DEFAULT)).toEqual(merged);
    expect(result(input, policy('keep', false))).toEqual(unmerged);
  });

  // [input, keep, unescape] (merge on); reject refuses each.
  it.each([
    ['/admin%2Fx', ['/admin/x', '/admin%2Fx'], ['/admin/x', '/admin/x']],
    ['/admin%5cx', ['/admin/x', '/admin%5Cx'], ['/admin/x', '/admin\\x']],
    ['/files/a%2fb%2Fc', ['/files/a/b/c', '/files/a%2Fb%2Fc'], ['/files/a/b/c', '/files/a/b/c']],
    // Merging keeps the first separator's spelling; the path still starts with '/'.
    ['/%2Fadmin', ['/admin', '/admin'], ['/admin', '/admin']],
    ['/a%2F%2Fb', ['/a/b', '/a%2Fb'], ['/a/b', '/a/b']],
    ['/a/%2Fb', ['/a/b', '/a/b'], ['/a/b', '/a/b']],
    // A `..` next to an encoded separator is a dot segment: nothing a decoding pod would resolve survives.
    ['/x/..%5Cadmin', ['/admin', '/admin'], ['/admin', '/admin']],
    ['/x%2F..%2Fadmin', ['/admin', '/admin'], ['/admin', '/admin']],
    ['/admin/..%2F..%2Fpublic', ['/public', '/public'], ['/public', '/public']],
    ['/a/b%2F.%2Fc', ['/a/b/c', '/a/b%2Fc'], ['/a/b/c', '/a/b/c']],
    ['/a%2F..', ['/', '/'], ['/', '/']],
  ] as const)('%j: keep %j, unescape %j', (input, keep, unescape) => {
    expect(result(input, policy('keep', true))).toEqual(keep);
    expect(result(input, policy('unescape', true))).toEqual(unescape);
    expect(result(input, policy('reject', true))).toBe('reject');
  });

  it('without merging, kept escaped slashes stay where they are', () => {
    expect(result('/%2Fadmin', policy('keep', false))).toEqual(['//admin', '/%2Fadmin']);
    expect(result('/a%2F%2Fb', policy('keep', false))).toEqual(['/a//b', '/a%2F%2Fb']);
  });

  // A literal '\' is a separator to some servers (WHATWG URL): routed as '/', forwarded as sent, in every mode.
  it.each([
    ['/admin\\x', ['/admin/x', '/admin\\x']],
    ['/x/..\\admin', ['/admin', '/admin']],
    ['/x\\..\\..\\admin', ['/admin', '/admin']],
  ] as const)('literal backslash %j → %j', (input, want) => {
    for (const mode of MODES) expect(result(input, policy(mode, true))).toEqual(want);
  });
});

describe('isPlainPath (the fast path)', () => {
  it.each([['/'], ['/a/b'], ['/a.b/c.d'], ['/a-b_c~/x;y=1'], ['/a/b/'], ['/a.']])('%j needs no work', (p) => {
    expect(isPlainPath(p)).toBe(true);
  });
  it.each([['/a%20b'], ['/a//b'], ['//'], ['/a/./b'], ['/.well-known'], ['/a/..'], ['/a\\b'], ['/%61']])('%j takes the slow path', (p) => {
    expect(isPlainPath(p)).toBe(false);
  });

  it('a path the slow path leaves alone comes back unchanged', () => {
    expect(normalizePath('/.well-known/x', DEFAULT)).toEqual({ match: '/.well-known/x', forward: '/.well-known/x' });
  });
});
