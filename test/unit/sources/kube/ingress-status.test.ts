import { describe, expect, it } from 'vitest';
import { observedLoadBalancer } from '../../../../src/sources/kube-ingress-status.ts';

describe('observedLoadBalancer', () => {
  it.each([
    ['no status', {}, []],
    ['an empty loadBalancer', { status: { loadBalancer: {} } }, []],
    ['an IP', { status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } }, [{ ip: '203.0.113.7' }]],
    ['a hostname with ports', { status: { loadBalancer: { ingress: [{ hostname: 'lb.example', ports: [{ port: 443 }] }] } } }, [{ hostname: 'lb.example' }]],
    ['several', { status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', hostname: '' }] } } }, [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]],
    ['garbage', { status: { loadBalancer: { ingress: 'x' } } }, []],
  ])('%s', (_name, raw, expected) => {
    expect(observedLoadBalancer(raw)).toEqual(expected);
  });
});
