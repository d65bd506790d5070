/** `explain` of weighted routes, conditions and affinity, from the same snapshot, matcher and weighted choice the data plane uses. */
import { describe, expect, it } from 'vitest';
import { RoundRobin } from '../../../src/dataplane/balancer.ts';
import { WeightedChoice } from '../../../src/dataplane/weighted.ts';
import { EndpointHealth } from '../../../src/health/endpoint-health.ts';
import { createRootLogger } from '../../../src/log.ts';
import { explain } from '../../../src/runtime/explain.ts';
import { formatExplanation } from '../../../src/runtime/explain-format.ts';
import { parseExplainInput } from '../../../src/runtime/explain-request.ts';
import type { Snapshot } from '../../../src/snapshot/types.ts';
import { gateway, gatewayClass, httpRoute, listener } from '../support/gateway.ts';
import { compileObjects, service, slice } from '../support/k8s.ts';

const snapshot: Snapshot = {
  ...compileObjects([
    gatewayClass(),
    gateway('gw', [listener('web', { port: 8080 })]),
    service('stable', [{ port: 80 }]),
    slice('stable-1', 'stable', [{ ip: '10.0.0.1' }], [{ port: 8080 }]),
    service('sticky', [{ port: 80 }], { spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } } }),
    slice('sticky-1', 'sticky', [{ ip: '10.0.0.2' }], [{ port: 8080 }]),
    httpRoute('split', {
      hostnames: ['split.example'],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/' }, method: 'POST', headers: [{ name: 'x-user', value: 'beta' }] }], backendRefs: [{ name: 'sticky', port: 80 }] },
        { backendRefs: [{ name: 'stable', port: 80, weight: 3 }, { name: 'missing', port: 80, weight: 1 }] },
      ],
    }),
    httpRoute('off', { hostnames: ['off.example'], rules: [{ backendRefs: [{ name: 'stable', port: 80, weight: 0 }] }] }),
    httpRoute('cookie', { hostnames: ['cookie.example'], rules: [{ backendRefs: [{ name: 'sticky', port: 80 }], sessionPersistence: { sessionName: 'sid', type: 'Cookie' } }] }),
  ]),
  version: 1,
  createdAt: '',
};

function explainUrl(url: string, options: { headers?: string[]; method?: string; weighted?: WeightedChoice } = {}) {
  const parsed = parseExplainInput({ url, headers: options.headers ?? [], ...(options.method ? { method: options.method } : {}) }, { mergeSlashes: true, escapedSlashes: 'keep' });
  if (!parsed.ok) throw new Error(parsed.error.message);
  const health = new EndpointHealth({ log: createRootLogger('silent') });
  health.observe(snapshot);
  return explain(parsed.request, { snapshot, health, balancer: new RoundRobin(), live: options.weighted !== undefined, workers: 1, tlsListener: false, ...(options.weighted ? { weighted: options.weighted } : {}) });
}

describe('explain: weighted routes', () => {
  it('offline: the first pick (position 0) of 3/1, the weights with shares, the route kind and name', () => {
    const x = explainUrl('http://split.example:8080/');
    expect(x).toMatchObject({ outcome: 'forward', status: null, backend: { key: 'default/stable:80' }, route: { kind: 'HTTPRoute', name: 'default/split', conditions: null } });
    expect(x.weighting).toMatchObject({ position: 0, period: 4 });
    expect(x.weighting!.backends.map((b) => [b.service, b.weight, b.share, b.next, b.problem])).toEqual([
      ['default/stable:80', 3, 75, true, null],
      ['default/missing:80', 1, 25, false, 'unknown-service'],
    ]);
    expect(x.summary).toBe('forwarded to default/stable:80 (10.0.0.1:8080) by HTTPRoute default/split, its weighted pick for the next request');
  });

  it('live: the next pick is where the data plane’s counter is; an unresolved share is a 500, with the diagnostic', () => {
    const choice = new WeightedChoice();
    const route = snapshot.gatewayPorts!.get(8080)!.routes.list.find((r) => r.weighted !== undefined && r.ingress === 'default/split')!;
    // Smooth 3/1: stable, stable, missing, stable.
    choice.pick(route.weighted!, route.weightKey);
    choice.pick(route.weighted!, route.weightKey);
    const x = explainUrl('http://split.example:8080/', { weighted: choice });
    expect(x).toMatchObject({ outcome: 'backend-invalid', status: 500, matched: true, weighting: { position: 2 } });
    expect(x.summary).toContain('the next request falls to default/missing:80 (weight 1), which does not resolve (unknown-service)');
    expect(x.hints.some((h) => h.startsWith('HTTPROUTE_BACKEND_UNRESOLVED:'))).toBe(true);
    expect(formatExplanation(x)).toContain('default/missing:80  weight 1 (25 %)  does not resolve (unknown-service): answered 500  <- next');
  });

  it('a rule with no backendRef of weight above 0 is a 500', () => {
    expect(explainUrl('http://off.example:8080/')).toMatchObject({ outcome: 'backend-invalid', status: 500, weighting: { position: null } });
  });
});

describe('explain: conditions and affinity', () => {
  it('lists each condition with whether the request meets it, and the losing rule with the one that failed', () => {
    const won = explainUrl('http://split.example:8080/', { method: 'POST', headers: ['X-User: beta'] });
    expect(won).toMatchObject({ backend: { key: 'default/sticky:80' }, route: { conditions: { satisfied: true } } });
    expect(won.route!.conditions!.list.map((c) => [c.on, c.satisfied])).toEqual([['method', true], ['header', true]]);
    expect(won.affinity).toEqual(['ClientIP affinity: Service default/sticky keeps a client address on one pod for 600 s while it stays ready, across worker threads']);

    const lost = explainUrl('http://split.example:8080/', { method: 'GET', headers: ['X-User: beta'] });
    expect(lost.backend?.key).toBe('default/stable:80');
    const loser = lost.losers.find((l) => l.rule.includes('when method POST'));
    expect(loser?.reason).toBe('the path matches, but method POST does not hold for this request');
    expect(formatExplanation(lost)).toContain('[HTTPRoute default/split]');
  });

  it('cookie affinity is a note: no cookie yet, the pick decides and the response sets it', () => {
    const x = explainUrl('http://cookie.example:8080/');
    expect(x.affinity[0]).toMatch(/^cookie affinity: cookie sid \(path \/, a session cookie\); the request carries no cookie naming a pod/);
  });
});
