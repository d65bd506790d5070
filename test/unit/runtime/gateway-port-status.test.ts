/** Gateway ports the data planes could not bind → the snapshot's diagnostics and listener states, once per content hash. */
import { describe, expect, it } from 'vitest';
import { createRootLogger } from '../../../src/log.ts';
import { gatewayPortStatus } from '../../../src/runtime/gateway-port-status.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import type { Snapshot } from '../../../src/snapshot/types.ts';
import { gateway, gatewayClass, listener } from '../support/gateway.ts';
import { compileObjects } from '../support/k8s.ts';

const compiled = (ports: readonly number[], version = 1): Snapshot => ({
  ...compileObjects([gatewayClass(), gateway('gw', ports.map((port) => listener(`l${port}`, { port })))]),
  version,
  createdAt: '',
});

const busy = (port: number) => ({ port, code: 'EADDRINUSE', message: `listen EADDRINUSE: address already in use 127.0.0.1:${port}` });

describe('gatewayPortStatus', () => {
  it('re-issues the snapshot with a diagnostic and PortUnavailable for each listener of a port any data plane could not bind', () => {
    const holder = new SnapshotHolder(compiled([80, 81]));
    const report = gatewayPortStatus(holder, '127.0.0.1', createRootLogger('silent'));
    const first = holder.current();
    report(0, { hash: first.hash, failures: [] });
    expect(holder.current()).toBe(first);
    report(1, { hash: first.hash, failures: [busy(81)] });
    const now = holder.current();
    expect([now.hash, now.version]).toEqual([first.hash, first.version + 1]);
    expect(now.diagnostics.map((d) => `${d.severity} ${d.code} ${d.kind} ${d.namespace}/${d.name}: ${d.message}`)).toEqual([
      'error GATEWAY_LISTENER_PORT_UNAVAILABLE Gateway default/gw: listener l81: cannot listen on 127.0.0.1:81: EADDRINUSE (listen EADDRINUSE: address already in use 127.0.0.1:81); retried at the next configuration change (reason PortUnavailable)',
    ]);
    expect(now.gatewayListeners!.map((l) => [l.listener, l.accepted.reason, l.programmed.status])).toEqual([
      ['l80', 'Accepted', true],
      ['l81', 'PortUnavailable', false],
    ]);
    // The same outcome again (another worker, a repeated report) swaps nothing.
    report(0, { hash: first.hash, failures: [busy(81)] });
    expect(holder.current()).toBe(now);
    // A stale report (an older hash) is ignored; a new compile starts clean.
    const next = compiled([80, 82], 3);
    holder.swap(next);
    report(1, { hash: first.hash, failures: [busy(80)] });
    expect(holder.current()).toBe(next);
    report(0, { hash: next.hash, failures: [] });
    report(1, { hash: next.hash, failures: [] });
    expect(holder.current()).toBe(next);
  });
});
