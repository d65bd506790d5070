import { describe, expect, it } from 'vitest';
import { httpsLocation, skipsHttpsRedirect } from '../../../src/dataplane/https-redirect.ts';

describe('httpsLocation', () => {
  it.each([
    ['host without port, TLS on 443', 'shop.example.com', 443, '/cart?id=1', 'https://shop.example.com/cart?id=1'],
    ['the plain port is replaced by the TLS port', 'shop.example.com:8080', 8443, '/', 'https://shop.example.com:8443/'],
    ['port 443 is left out', 'shop.example.com:80', 443, '/a', 'https://shop.example.com/a'],
    ['IPv6 literal keeps its brackets', '[::1]:8080', 8443, '/x', 'https://[::1]:8443/x'],
    ['query kept as sent', 'a.example', 443, '/p?q=%2F&r', 'https://a.example/p?q=%2F&r'],
  ])('%s', (_name, host, port, pathAndQuery, expected) => {
    expect(httpsLocation(host, port, pathAndQuery)).toBe(expected);
  });

  it.each([
    ['no Host', undefined],
    ['empty Host', ''],
    ['userinfo', 'evil@a.example'],
    ['a slash that would move the path', 'a.example/evil'],
    ['an unclosed IPv6 literal', '[::1'],
    ['whitespace', 'a example'],
  ])('refuses %s', (_name, host) => {
    expect(httpsLocation(host, 443, '/')).toBeUndefined();
  });
});

describe('skipsHttpsRedirect', () => {
  it.each([
    ['/.well-known/acme-challenge/token123', true],
    ['/.well-known/acme-challenge/', true],
    ['/.well-known/acme-challengeX', false],
    ['/.well-known/security.txt', false],
    ['/', false],
  ])('%s → %s', (path, expected) => {
    expect(skipsHttpsRedirect(path)).toBe(expected);
  });
});
