import { describe, expect, it } from 'vitest';
import { RoundRobin } from '../../../src/dataplane/balancer.ts';
import type { Backend } from '../../../src/snapshot/types.ts';
import { backendOf } from './backend-fixtures.ts';

const picks = (rr: RoundRobin, b: Backend, n: number) => Array.from({ length: n }, () => rr.pick(b)?.key ?? 'none');

describe('RoundRobin', () => {
  it.each([
    ['one endpoint', ['127.0.0.2'], 4, ['127.0.0.2:8080', '127.0.0.2:8080', '127.0.0.2:8080', '127.0.0.2:8080']],
    ['two endpoints', ['127.0.0.2', '127.0.0.3'], 5, ['127.0.0.2:8080', '127.0.0.3:8080', '127.0.0.2:8080', '127.0.0.3:8080', '127.0.0.2:8080']],
    [
      'three endpoints',
      ['127.0.0.2', '127.0.0.3', '127.0.0.4'],
      7,
      ['127.0.0.2:8080', '127.0.0.3:8080', '127.0.0.4:8080', '127.0.0.2:8080', '127.0.0.3:8080', '127.0.0.4:8080', '127.0.0.2:8080'],
    ],
  ])('exact pick sequence over %s', (_name, addresses, n, expected) => {
    expect(picks(new RoundRobin(), backendOf('default/web:80', addresses), n)).toEqual(expected);
  });

  it('skips endpoints that are not ready', () => {
    const b = backendOf('default/web:80', ['127.0.0.2', '127.0.0.4'], { notReady: ['127.0.0.3'] });
    expect(picks(new RoundRobin(), b, 4)).toEqual(['127.0.0.2:8080', '127.0.0.4:8080', '127.0.0.2:8080', '127.0.0.4:8080']);
  });

  it.each([
    [0, 3],
    [1, 3],
    [2, 3],
    [10, 3],
    [11, 3],
    [100, 7],
    [1000, 6],
    [5, 8],
  ])('fairness: %i requests over %i endpoints → each ⌊N/k⌋ or ⌈N/k⌉', (n, k) => {
    const addresses = Array.from({ length: k }, (_, i) => `10.0.0.${i + 1}`);
    const counts = new Map<string, number>(addresses.map((a) => [`${a}:8080`, 0]));
    for (const key of picks(new RoundRobin(), backendOf('default/web:80', addresses), n)) counts.set(key, counts.get(key)! + 1);
    expect(counts.size).toBe(k);
    const values = [...counts.values()];
    expect(values.reduce((a, b) => a + b, 0)).toBe(n);
    for (const v of values) expect([Math.floor(n / k), Math.ceil(n / k)]).toContain(v);
    // The first N mod k endpoints (in order) get the extra request.
    expect(values).toEqual(addresses.map((_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0)));
  });

  it('zero ready endpoints → undefined, and the cursor is untouched', () => {
    const rr = new RoundRobin();
    const some = backendOf('default/web:80', ['127.0.0.2', '127.0.0.3']);
    expect(picks(rr, some, 1)).toEqual(['127.0.0.2:8080']);
    const none = backendOf('default/web:80', [], { notReady: ['127.0.0.2', '127.0.0.3'] });
    expect(rr.pick(none)).toBeUndefined();
    expect(rr.pick(backendOf('default/empty:80', []))).toBeUndefined();
    expect(picks(rr, some, 1)).toEqual(['127.0.0.3:8080']);
  });

  it('the cursor survives a snapshot change (a new Backend object with the same key)', () => {
    const rr = new RoundRobin();
    const before = backendOf('default/web:80', ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    expect(picks(rr, before, 2)).toEqual(['127.0.0.2:8080', '127.0.0.3:8080']);
    const same = backendOf('default/web:80', ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    expect(same).not.toBe(before);
    expect(picks(rr, same, 2)).toEqual(['127.0.0.4:8080', '127.0.0.2:8080']);
  });

  it('after the endpoint set changes, the cursor continues modulo the new size', () => {
    const rr = new RoundRobin();
    expect(picks(rr, backendOf('default/web:80', ['127.0.0.2', '127.0.0.3', '127.0.0.4']), 2)).toEqual(['127.0.0.2:8080', '127.0.0.3:8080']);
    // cursor 2 over 2 endpoints → index 0
    expect(picks(rr, backendOf('default/web:80', ['127.0.0.2', '127.0.0.5']), 3)).toEqual(['127.0.0.2:8080', '127.0.0.5:8080', '127.0.0.2:8080']);
  });

  it('keeps one cursor per backend', () => {
    const rr = new RoundRobin();
    const a = backendOf('default/a:80', ['10.0.0.1', '10.0.0.2']);
    const b = backendOf('default/b:80', ['10.0.1.1', '10.0.1.2', '10.0.1.3']);
    const seq = [rr.pick(a), rr.pick(b), rr.pick(b), rr.pick(a), rr.pick(b), rr.pick(a)].map((e) => e!.key);
    expect(seq).toEqual(['10.0.0.1:8080', '10.0.1.1:8080', '10.0.1.2:8080', '10.0.0.2:8080', '10.0.1.3:8080', '10.0.0.1:8080']);
  });

  it('retain forgets cursors of backends that no longer exist, keeps the others', () => {
    const rr = new RoundRobin();
    const a = backendOf('default/a:80', ['10.0.0.1', '10.0.0.2']);
    const b = backendOf('default/b:80', ['10.0.1.1', '10.0.1.2']);
    rr.pick(a);
    rr.pick(b);
    rr.retain(new Set(['default/a:80']));
    expect(rr.pick(a)!.key).toBe('10.0.0.2:8080');
    expect(rr.pick(b)!.key).toBe('10.0.1.1:8080');
    rr.retain(new Map([['default/b:80', 1]]));
    expect(rr.pick(a)!.key).toBe('10.0.0.1:8080');
  });
});
