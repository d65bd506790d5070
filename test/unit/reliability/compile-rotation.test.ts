/** compile/backends.ts: which endpoints are in the rotation, from the EndpointSlice conditions. */
import { describe, expect, it } from 'vitest';
import { compileServices } from '../../../src/compile/backends.ts';
import { address, service, slice, storeView } from './fixtures.ts';

type Cond = { ready?: boolean; serving?: boolean; terminating?: boolean };
const READY: Cond = { ready: true };
const NOT_READY: Cond = { ready: false };
const TERM_SERVING: Cond = { ready: false, serving: true, terminating: true };
const TERM_NOT_SERVING: Cond = { ready: false, serving: false, terminating: true };
/** Ready and terminating: Kubernetes 1.26+ with a pod whose readiness still passes during shutdown. */
const READY_TERMINATING: Cond = { ready: true, serving: true, terminating: true };

function compileWith(endpoints: [string, Cond][]) {
  const view = storeView([service('web'), slice('web-1', 'web', endpoints.map(([ip, c]) => address(ip, c)))]);
  const backend = compileServices(view, 'cluster.local').backends.get('shop/web:80')!;
  return { rotation: backend.rotation.map((e) => e.address), fallback: backend.terminatingFallback, ready: backend.ready.map((e) => e.address), all: backend.all.map((e) => e.address) };
}

describe('compile: rotation and the terminating fallback', () => {
  // [name, endpoints, rotation, terminatingFallback]
  const cases: [string, [string, Cond][], string[], boolean][] = [
    ['all ready', [['10.0.0.1', READY], ['10.0.0.2', READY]], ['10.0.0.1', '10.0.0.2'], false],
    ['conditions unset mean ready', [['10.0.0.1', {}]], ['10.0.0.1'], false],
    ['not-ready endpoints are left out', [['10.0.0.1', READY], ['10.0.0.2', NOT_READY]], ['10.0.0.1'], false],
    ['with a ready endpoint, serving+terminating ones are left out', [['10.0.0.1', TERM_SERVING], ['10.0.0.2', READY]], ['10.0.0.2'], false],
    ['none ready: the serving+terminating ones (fallback)', [['10.0.0.1', TERM_SERVING], ['10.0.0.2', TERM_SERVING], ['10.0.0.3', NOT_READY]], ['10.0.0.1', '10.0.0.2'], true],
    ['fallback never includes not-serving terminating endpoints', [['10.0.0.1', TERM_NOT_SERVING], ['10.0.0.2', TERM_SERVING]], ['10.0.0.2'], true],
    ['only not-serving terminating endpoints: empty rotation', [['10.0.0.1', TERM_NOT_SERVING], ['10.0.0.2', TERM_NOT_SERVING]], [], false],
    ['only not-ready (not terminating) endpoints: empty rotation', [['10.0.0.1', NOT_READY]], [], false],
    ['serving but not terminating is not a fallback', [['10.0.0.1', { ready: false, serving: true, terminating: false }]], [], false],
    ['ready and terminating counts as ready', [['10.0.0.1', READY_TERMINATING], ['10.0.0.2', NOT_READY]], ['10.0.0.1'], false],
    ['no endpoints', [], [], false],
    ['sorted by address', [['10.0.0.9', READY], ['10.0.0.10', READY], ['10.0.0.1', READY]], ['10.0.0.1', '10.0.0.10', '10.0.0.9'], false],
  ];
  it.each(cases)('%s', (_name, endpoints, rotation, fallback) => {
    const r = compileWith(endpoints);
    expect(r.rotation).toEqual(rotation);
    expect(r.fallback).toBe(fallback);
    expect(r.all).toHaveLength(endpoints.length);
  });

  it('the same endpoint in two slices is ready when either says so', () => {
    const view = storeView([service('web'), slice('web-1', 'web', [address('10.0.0.1', TERM_SERVING)]), slice('web-2', 'web', [address('10.0.0.1', READY)])]);
    const backend = compileServices(view, 'cluster.local').backends.get('shop/web:80')!;
    expect(backend.rotation.map((e) => [e.key, e.ready, e.terminating])).toEqual([['10.0.0.1:8080', true, false]]);
    expect(backend.terminatingFallback).toBe(false);
  });

  it('the Service policy rides on its backends', () => {
    const view = storeView([service('web', { 'switchyard.dev/retries': '0', 'switchyard.dev/outlier-detection': 'off' }), slice('web-1', 'web', [address('10.0.0.1')])]);
    const { backends, diagnostics } = compileServices(view, 'cluster.local');
    expect(backends.get('shop/web:80')!.policy).toMatchObject({ retries: 0, outlier: undefined });
    expect(diagnostics).toEqual([]);
  });

  it('bad annotations surface as diagnostics of the compiled services', () => {
    const view = storeView([service('web', { 'switchyard.dev/retries': 'x', 'switchyard.dev/nope': '1' }), slice('web-1', 'web', [address('10.0.0.1')])]);
    const { backends, diagnostics } = compileServices(view, 'cluster.local');
    expect(diagnostics.map((d) => [d.code, d.kind, d.name]).sort()).toEqual([['ANNOTATION_INVALID', 'Service', 'web'], ['ANNOTATION_UNKNOWN', 'Service', 'web']]);
    expect(backends.get('shop/web:80')!.policy.retries).toBe(2);
  });
});
