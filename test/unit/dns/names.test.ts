import { describe, expect, it } from 'vitest';
import { canonicalName, dashedIPv4, endpointHostname, isEncodableName, normalizeIP, reverseName } from '../../../src/dns/names.ts';

describe('canonicalName', () => {
  it.each([
    ['Web.Shop.SVC.Cluster.Local.', 'web.shop.svc.cluster.local'],
    ['web.shop', 'web.shop'],
    ['.', ''],
    ['', ''],
    // Only ASCII folds (RFC 4343): the Kelvin sign is not a `k`.
    ['\u212Aube', '\u212Aube'],
  ])('%j → %j', (input, expected) => {
    expect(canonicalName(input)).toBe(expected);
  });
});

describe('reverseName', () => {
  it.each([
    ['10.96.0.1', '1.0.96.10.in-addr.arpa'],
    ['2001:db8::1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'],
    ['2001:DB8:0:0:0:0:0:1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'],
    ['::1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa'],
    ['::ffff:10.0.0.1', '1.0.0.0.0.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa'],
    ['fe80::1:2:3:4:5:6', '6.0.0.0.5.0.0.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa'],
  ])('%s → %s', (ip, expected) => {
    expect(reverseName(ip)).toBe(expected);
  });

  it.each(['not-an-ip', '10.0.0', '256.1.1.1', 'fe80::1%eth0', ''])('%j is not an address', (ip) => {
    expect(reverseName(ip)).toBeUndefined();
  });
});

describe('normalizeIP', () => {
  it.each([
    ['10.0.0.1', 4, '10.0.0.1'],
    ['FD00:0:0:0::11', 6, 'fd00::11'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', 6, '2001:db8:0:1:1:1:1:1'],
    ['::', 6, '::'],
    ['1::', 6, '1::'],
  ])('%s → IPv%i %s', (ip, family, address) => {
    expect(normalizeIP(ip)).toEqual({ family, address });
  });
});

describe('endpointHostname (the spec _hostname_)', () => {
  it.each([
    ['10.0.0.1', 'db-0', 'db-0'],
    ['10.0.0.1', 'DB-0', 'db-0'],
    ['10.0.0.1', undefined, '10-0-0-1'],
    ['fd00::1:2', undefined, 'fd00--1-2'],
    ['FD00:0::1:2', undefined, 'fd00--1-2'],
    ['10.0.0.1', 'two.labels', '10-0-0-1'],
    ['10.0.0.1', '', '10-0-0-1'],
    ['10.0.0.1', 'x'.repeat(64), '10-0-0-1'],
  ])('%s with hostname %j → %s', (address, hostname, expected) => {
    expect(endpointHostname(address, hostname)).toBe(expected);
  });
});

describe('dashedIPv4 (pod names)', () => {
  it.each([
    ['10-1-2-3', '10.1.2.3'],
    ['0-0-0-0', '0.0.0.0'],
    ['255-255-255-255', '255.255.255.255'],
    ['256-1-1-1', undefined],
    ['01-1-1-1', undefined],
    ['1-1-1', undefined],
    ['1-1-1-1-1', undefined],
    ['a-b-c-d', undefined],
    ['1--1-1', undefined],
  ])('%s → %s', (label, expected) => {
    expect(dashedIPv4(label)).toBe(expected);
  });
});

describe('isEncodableName', () => {
  it.each([
    ['web.shop.svc.cluster.local', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['a..b', false],
    ['', false],
    ['sp ace.example', false],
    [`${'a'.repeat(60)}.`.repeat(5), false],
  ])('%j → %s', (name, expected) => {
    expect(isEncodableName(name)).toBe(expected);
  });
});
