import { describe, expect, it } from 'vitest';
import { DEFAULT_EDGE_POLICY, type EdgePolicy } from '../../../src/dataplane/edge-policy.ts';
import { isTrustedProxy } from '../../../src/dataplane/trusted-proxies.ts';

const trusting = (...trustedProxies: string[]): EdgePolicy => ({ ...DEFAULT_EDGE_POLICY, trustedProxies });

describe('isTrustedProxy', () => {
  it.each([
    ['no blocks (the default)', [], '127.0.0.1', false],
    ['no blocks, an empty address', [], '', false],
    ['inside a /8', ['10.0.0.0/8'], '10.255.0.1', true],
    ['just outside a /8', ['10.0.0.0/8'], '11.0.0.0', false],
    ['a /32 is one address', ['127.0.0.2/32'], '127.0.0.2', true],
    ['a /32 is only that address', ['127.0.0.2/32'], '127.0.0.1', false],
    ['an IPv4-mapped IPv6 peer against an IPv4 block', ['10.0.0.0/8'], '::ffff:10.0.0.1', true],
    ['an IPv4-mapped IPv6 peer outside the IPv4 block', ['10.0.0.0/8'], '::ffff:127.0.0.1', false],
    ['an IPv6 block', ['2001:db8::/32'], '2001:db8:1::7', true],
    ['outside an IPv6 block', ['2001:db8::/32'], '2001:db9::1', false],
    ['::/0 covers IPv4 peers too (as IPv4-mapped addresses)', ['::/0'], '192.0.2.1', true],
    ['an IPv4 peer against an IPv6 block that holds no mapped addresses', ['2001:db8::/32'], '192.0.2.1', false],
    ['/0 trusts every IPv4 peer', ['0.0.0.0/0'], '192.0.2.1', true],
    ['several blocks, the second matches', ['10.0.0.0/8', '192.168.0.0/16'], '192.168.3.4', true],
    ['an empty address (a socket already gone)', ['0.0.0.0/0'], '', false],
    ['not an address', ['0.0.0.0/0'], 'localhost', false],
  ])('%s', (_name, blocks, address, expected) => {
    const policy = trusting(...blocks);
    expect(isTrustedProxy(policy, address)).toBe(expected);
    // The second answer comes from the per-policy memory: it must be the same.
    expect(isTrustedProxy(policy, address)).toBe(expected);
  });

  it('answers per policy object, not from another policy built earlier', () => {
    expect(isTrustedProxy(trusting('10.0.0.0/8'), '10.0.0.1')).toBe(true);
    expect(isTrustedProxy(trusting('192.168.0.0/16'), '10.0.0.1')).toBe(false);
  });

  it('keeps answering right past its memory bound', () => {
    const policy = trusting('10.0.0.0/16');
    for (let i = 0; i < 3000; i++) {
      const address = `10.${(i >> 8) & 1}.${i & 255}.${i % 7}`;
      expect(isTrustedProxy(policy, address)).toBe(((i >> 8) & 1) === 0);
    }
  });
});
