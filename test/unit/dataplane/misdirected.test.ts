import { describe, expect, it } from 'vitest';
import { isMisdirected, listenerOf } from '../../../src/dataplane/misdirected.ts';
import type { GatewayPortView, ListenerHostIndex } from '../../../src/snapshot/types.ts';

// The listeners of the Gateway API suite's HTTPS misdirected-request test: one without a hostname (0),
// second-example.org (1), *.wildcard.org (2), fourth-example.wildcard.org (3).
const index: ListenerHostIndex = {
  exact: new Map([
    ['second-example.org', 1],
    ['fourth-example.wildcard.org', 3],
  ]),
  wildcards: new Map([['wildcard.org', 2]]),
  fallback: 0,
};
const port = { listenerHosts: index } as unknown as GatewayPortView;

describe('listenerOf', () => {
  it.each([
    ['second-example.org', 1],
    ['fourth-example.wildcard.org', 3],
    ['third-example.wildcard.org', 2],
    ['a.b.wildcard.org', 2],
    ['wildcard.org', 0], // a Gateway wildcard never covers the bare suffix
    ['example.org', 0],
  ])('%s → listener %i', (name, expected) => {
    expect(listenerOf(index, name)).toBe(expected);
  });

  it('is -1 for a name no listener selects when none lacks a hostname', () => {
    expect(listenerOf({ ...index, fallback: -1 }, 'example.org')).toBe(-1);
  });
});

describe('isMisdirected (the suite’s cases: SNI, Host, 421 or not)', () => {
  it.each([
    ['example.org', 'example.org', false],
    ['example.org', 'second-example.org', true],
    ['example.org', 'unknown-example.org', false],
    ['second-example.org', 'second-example.org', false],
    ['second-example.org', 'example.org', true],
    ['second-example.org', 'unknown-example.org', true],
    ['third-example.wildcard.org', 'third-example.wildcard.org', false],
    ['third-example.wildcard.org', 'fith-example.wildcard.org', false],
    ['third-example.wildcard.org', 'fourth-example.wildcard.org', true],
    ['third-example.wildcard.org', 'second-example.org', true],
    ['fourth-example.wildcard.org', 'fith-example.wildcard.org', true],
    ['unknown-example.org', 'example.org', false],
  ])('SNI %s, Host %s → %s', (sni, host, expected) => {
    expect(isMisdirected(port, host, sni)).toBe(expected);
  });

  it('does not check a plaintext port, a connection without SNI, or an SNI that selects no listener', () => {
    expect(isMisdirected({ listenerHosts: undefined } as unknown as GatewayPortView, 'second-example.org', 'example.org')).toBe(false);
    expect(isMisdirected(port, 'second-example.org', undefined)).toBe(false);
    expect(isMisdirected({ listenerHosts: { ...index, fallback: -1 } } as unknown as GatewayPortView, 'second-example.org', 'example.org')).toBe(false);
  });
});
