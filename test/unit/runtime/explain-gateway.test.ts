/** `explain` reads a request's method, headers and query for routes with conditions (HTTPRoute matches), as the data plane does. */
import { describe, expect, it } from 'vitest';
import { RoundRobin } from '../../../src/dataplane/balancer.ts';
import { EndpointHealth } from '../../../src/health/endpoint-health.ts';
import { createRootLogger } from '../../../src/log.ts';
import { explain } from '../../../src/runtime/explain.ts';
import { parseExplainInput } from '../../../src/runtime/explain-request.ts';
import type { Snapshot } from '../../../src/snapshot/types.ts';
import { gateway, gatewayClass, httpRoute, listener, rule } from '../support/gateway.ts';
import { backend, compileObjects, ingress, service } from '../support/k8s.ts';

const snapshot: Snapshot = {
  ...compileObjects([
    gatewayClass(),
    gateway('gw', [listener('web', { port: 8080 })]),
    service('stable', [{ port: 80 }]),
    service('canary', [{ port: 80 }]),
    ingress('i', { rules: [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('stable', 80) }] }] }),
    httpRoute('r', { hostnames: ['shop.example.com'], rules: [rule('canary', [{ headers: [{ name: 'x-canary', value: 'yes' }], queryParams: [{ name: 'v', value: '2' }] }]), rule('stable')] }),
  ]),
  version: 1,
  createdAt: '',
};

function backendFor(url: string, headers: string[]): string | null {
  const parsed = parseExplainInput({ url, headers }, { mergeSlashes: true, escapedSlashes: 'keep' });
  if (!parsed.ok) throw new Error(parsed.error.message);
  const health = new EndpointHealth({ log: createRootLogger('silent') });
  health.observe(snapshot);
  return explain(parsed.request, { snapshot, health, balancer: new RoundRobin(), live: false, workers: 1, tlsListener: false }).route?.backend ?? null;
}

describe('explain with HTTPRoute conditions', () => {
  it.each([
    ['http://shop.example.com:8080/x?v=2', ['X-Canary: yes'], 'default/canary:80'],
    ['http://shop.example.com:8080/x?v=1', ['X-Canary: yes'], 'default/stable:80'],
    ['http://shop.example.com:8080/x?v=2', [], 'default/stable:80'],
    // Another port is the Ingress listener's: its routes only.
    ['http://shop.example.com/x?v=2', ['X-Canary: yes'], 'default/stable:80'],
  ])('%s %j → %s', (url, headers, want) => expect(backendFor(url, headers)).toBe(want));
});
