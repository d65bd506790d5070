/** The worker copy of a snapshot: what the data plane reads stays (shared, same hash), the control plane's parts do not cross. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { withFailures } from '../../../src/runtime/gateway-port-status.ts';
import { CONTROL_PLANE_ONLY, sameForWorkers, workerSnapshot } from '../../../src/runtime/worker-snapshot.ts';
import type { Snapshot } from '../../../src/snapshot/types.ts';
import { gateway, gatewayClass, httpRoute, listener, rule } from '../support/gateway.ts';
import { compileObjects, service } from '../support/k8s.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const compiled = (routes: number, version = 1): Snapshot => ({
  ...compileObjects([
    gatewayClass(),
    gateway('gw', [listener('http', { port: 8081 })]),
    service('web', [{ name: 'http', port: 80 }]),
    ...Array.from({ length: routes }, (_, i) => httpRoute(`r${i}`, { hostnames: [`r${i}.example`], rules: [rule('web')] })),
    // A backend that does not exist: a diagnostic and a ResolvedRefs False in the route's status.
    httpRoute('broken', { hostnames: ['broken.example'], rules: [rule('gone')] }),
  ]),
  version,
  createdAt: '2026-12-05T00:00:00.000Z',
});

describe('workerSnapshot', () => {
  it('keeps what the data plane reads, by reference and with the compiled hash, and leaves the control plane\'s parts out', () => {
    const full = compiled(3);
    expect(full.diagnostics.length).toBeGreaterThan(0);
    expect(full.gatewayStatus?.routes.length).toBe(4);
    expect(full.gatewayListeners?.length).toBe(1);
    expect(full.l4.length).toBeGreaterThan(0);
    const copy = workerSnapshot(full);
    for (const key of ['hash', 'version', 'storeVersion', 'createdAt', 'clusterDomain', 'services', 'backends', 'registry', 'routes', 'tls', 'gatewayPorts'] as const) {
      expect(copy[key], key).toBe(full[key]);
    }
    expect(copy.diagnostics).toEqual([]);
    expect(copy.l4).toEqual([]);
    expect('gatewayStatus' in copy).toBe(false);
    expect('gatewayListeners' in copy).toBe(false);
    // Every field is accounted for: a new Snapshot field is either copied or listed as control-plane only.
    expect(Object.keys(full).filter((k) => !(k in copy) || (copy as unknown as Record<string, unknown>)[k] !== (full as unknown as Record<string, unknown>)[k]).sort()).toEqual([...CONTROL_PLANE_ONLY].sort());
    expect(serialize(copy).length).toBeLessThan(serialize(full).length);
  });

  it('a snapshot re-issued with Gateway port failures (same hash) is nothing new for the workers; a new compile is', () => {
    const full = compiled(2);
    const reissued = { ...withFailures(full, new Map([[8081, { port: 8081, code: 'EADDRINUSE', message: 'in use' }]]), '0.0.0.0'), version: 2 };
    expect(reissued.hash).toBe(full.hash);
    expect(reissued.diagnostics.length).toBeGreaterThan(full.diagnostics.length);
    expect(sameForWorkers(reissued, full)).toBe(true);
    expect(sameForWorkers(full, undefined)).toBe(false);
    const recompiled = compiled(2, 3);
    expect(recompiled.hash).toBe(full.hash);
    // Same content, but new objects: posting it is harmless, and skipping would need a deep comparison.
    expect(sameForWorkers(recompiled, full)).toBe(false);
    expect(sameForWorkers(compiled(3, 4), full)).toBe(false);
  });

  it('nothing the worker runs reads a control-plane-only field', () => {
    const files = [
      ...readdirSync(join(ROOT, 'src/dataplane'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join('src/dataplane', f)),
      'src/runtime/worker-main.ts',
      'src/runtime/data-plane.ts',
      'src/health/endpoint-health.ts',
    ];
    expect(files.length).toBeGreaterThan(10);
    const reads = new RegExp(`\\.(${CONTROL_PLANE_ONLY.join('|')})\\b`);
    for (const f of files) {
      const hits = readFileSync(join(ROOT, f), 'utf8').split('\n').filter((line) => reads.test(line) && !/^\s*(\*|\/\/)/.test(line));
      expect(hits, f).toEqual([]);
    }
  });
});
