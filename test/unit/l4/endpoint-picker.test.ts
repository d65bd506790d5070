import { describe, expect, it } from 'vitest';
import { EndpointPicker } from '../../../src/l4/endpoint-picker.ts';
import type { Backend, EndpointView } from '../../../src/snapshot/types.ts';

function ep(ip: string): EndpointView {
  return { key: `${ip}:9000`, address: ip, port: 9000, ready: true, serving: true, terminating: false, hostname: undefined, nodeName: undefined, targetRef: undefined };
}

function backend(ips: string[], key = 'shop/web:80'): Backend {
  const rotation = ips.map(ep);
  return { key, rotation, ready: rotation, all: rotation, terminatingFallback: false } as unknown as Backend;
}

const ABC = backend(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
const short = (e: EndpointView | undefined) => e?.address.slice(-1) ?? '-';

describe('EndpointPicker', () => {
  it('round-robins without affinity, whatever the client', () => {
    const p = new EndpointPicker();
    expect(['c1', 'c1', 'c2', 'c1'].map((c) => short(p.pick(ABC, c, undefined)))).toEqual(['1', '2', '3', '1']);
  });

  it('skips endpoints health has ejected', () => {
    const p = new EndpointPicker({ health: { available: (k) => k !== '10.0.0.2:9000' } });
    expect([1, 2, 3].map(() => short(p.pick(ABC, 'c', undefined)))).toEqual(['1', '3', '1']);
  });

  it('skips endpoints already tried; none left: undefined', () => {
    const p = new EndpointPicker();
    expect(short(p.pick(ABC, 'c', undefined, ['10.0.0.1:9000']))).toBe('2');
    expect(p.pick(ABC, 'c', undefined, ['10.0.0.1:9000', '10.0.0.2:9000', '10.0.0.3:9000'])).toBeUndefined();
    expect(p.pick(backend([]), 'c', undefined)).toBeUndefined();
  });

  it('ClientIP affinity: a client keeps its endpoint; others still rotate', () => {
    const p = new EndpointPicker();
    const seq = ['a', 'b', 'a', 'c', 'b', 'a'].map((c) => short(p.pick(ABC, c, 10)));
    expect(seq).toEqual(['1', '2', '1', '3', '2', '1']);
  });

  it('ClientIP affinity runs out after its timeout since the last use', () => {
    let now = 1_000_000;
    const p = new EndpointPicker({ now: () => now });
    expect(short(p.pick(ABC, 'a', 10))).toBe('1');
    now += 9_000;
    expect(short(p.pick(ABC, 'a', 10))).toBe('1'); // refreshed here
    now += 9_000;
    expect(short(p.pick(ABC, 'a', 10))).toBe('1');
    now += 10_000;
    expect(short(p.pick(ABC, 'a', 10))).toBe('2');
  });

  it('ClientIP affinity moves on when its endpoint left the rotation, was ejected or failed', () => {
    let ejected = '';
    const p = new EndpointPicker({ health: { available: (k) => k !== ejected } });
    expect(short(p.pick(ABC, 'a', 10))).toBe('1');
    expect(short(p.pick(backend(['10.0.0.2', '10.0.0.3']), 'a', 10))).not.toBe('1');
    const q = new EndpointPicker({ health: { available: (k) => k !== ejected } });
    expect(short(q.pick(ABC, 'a', 10))).toBe('1');
    ejected = '10.0.0.1:9000';
    expect(short(q.pick(ABC, 'a', 10))).toBe('2');
    expect(short(q.pick(ABC, 'a', 10, ['10.0.0.2:9000']))).toBe('3');
    ejected = '';
    expect(short(q.pick(ABC, 'a', 10))).toBe('3'); // the affinity followed the last pick
  });

  it('sweep forgets timed-out affinities and those of backends gone', () => {
    let now = 0;
    const p = new EndpointPicker({ now: () => now });
    p.pick(ABC, 'a', 10);
    p.pick(backend(['10.0.0.9'], 'shop/other:80'), 'a', 100);
    expect(p.affinities()).toBe(2);
    now = 20_000;
    p.sweep();
    expect(p.affinities()).toBe(1);
    p.sweep(new Set(['shop/web:80']));
    expect(p.affinities()).toBe(0);
  });
});
