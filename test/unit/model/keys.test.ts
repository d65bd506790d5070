import { describe, expect, it } from 'vitest';
import { backendKey, endpointKey, serviceKey } from '../../../src/model/keys.ts';

describe('keys', () => {
  it.each([
    ['10.0.0.1', 8080, '10.0.0.1:8080'],
    ['::1', 80, '[::1]:80'],
    ['fd00::7', 8080, '[fd00::7]:8080'],
    ['web-0.web.default.svc', 80, 'web-0.web.default.svc:80'],
  ])('endpointKey(%j, %i) → %j', (address, port, key) => expect(endpointKey(address, port)).toBe(key));

  it('serviceKey and backendKey', () => {
    expect(serviceKey('shop', 'web')).toBe('shop/web');
    expect(backendKey('shop', 'web', 80)).toBe('shop/web:80');
  });
});
