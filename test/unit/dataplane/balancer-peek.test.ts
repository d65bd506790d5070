/** RoundRobin#peek: what pick() would return next, with the cursor left where it was. */
import { describe, expect, it } from 'vitest';
import { RoundRobin, type Availability } from '../../../src/dataplane/balancer.ts';
import type { Backend, EndpointView } from '../../../src/snapshot/types.ts';

function ep(address: string): EndpointView {
  return { key: `${address}:8080`, address, port: 8080, ready: true, serving: true, terminating: false, hostname: undefined, nodeName: undefined, targetRef: undefined };
}

function backendOf(addresses: readonly string[]): Backend {
  const all = addresses.map(ep);
  return {
    key: 'default/web:80',
    namespace: 'default',
    service: 'web',
    port: 80,
    portName: 'http',
    protocol: 'TCP',
    ready: all,
    all,
    rotation: all,
    terminatingFallback: false,
    policy: { retries: 2, retryBudgetPercent: 20, connectTimeoutMs: undefined, responseTimeoutMs: undefined, idleTimeoutMs: undefined, outlier: undefined, healthCheck: undefined },
    upstream: { protocol: 'http1', caPem: undefined },
  };
}

const down = (...keys: string[]): Availability => ({ available: (key) => !keys.includes(key) });
const three = backendOf(['10.0.0.1', '10.0.0.2', '10.0.0.3']);

describe('RoundRobin#peek', () => {
  it('tells the next pick and leaves the cursor alone: peek, pick, peek, pick …', () => {
    const rr = new RoundRobin();
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const peeked = rr.peek(three).endpoint?.key;
      expect(rr.peek(three).endpoint?.key).toBe(peeked);
      const picked = rr.pick(three)?.key;
      expect(picked).toBe(peeked);
      seen.push(picked!);
    }
    expect(seen).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.1:8080']);
  });

  it.each([
    ['a fresh balancer starts at the first', 0, undefined, '10.0.0.1:8080', false],
    ['after two picks, the third', 2, undefined, '10.0.0.3:8080', false],
    ['skips an unavailable endpoint', 0, down('10.0.0.1:8080'), '10.0.0.2:8080', false],
    ['panic: every endpoint unavailable, the first in turn', 1, down('10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080'), '10.0.0.2:8080', true],
  ] as const)('%s', (_name, picked, health, key, panic) => {
    const rr = new RoundRobin();
    for (let i = 0; i < picked; i++) rr.pick(three);
    const peeked = rr.peek(three, health);
    expect(peeked.endpoint?.key).toBe(key);
    expect(peeked.panic).toBe(panic);
    // pick() agrees, and reports the same panic.
    expect(rr.pick(three, health)?.key).toBe(key);
    expect(rr.panicked).toBe(panic);
  });

  it('says none for an empty rotation', () => {
    expect(new RoundRobin().peek(backendOf([]))).toEqual({ endpoint: undefined, panic: false });
  });
});
