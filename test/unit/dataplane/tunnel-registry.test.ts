import { afterEach, describe, expect, it } from 'vitest';
import { TrafficCounters } from '../../../src/dataplane/counters.ts';
import { TunnelRegistry, type TrackedTunnel } from '../../../src/dataplane/tunnel-registry.ts';
import type { Snapshot } from '../../../src/snapshot/types.ts';

/** A tunnel whose close() removes it from the registry, as the real one does once its sockets close. */
class FakeTunnel implements TrackedTunnel {
  active = false;
  closed = 0;
  readonly endpoint: string;
  readonly registry: TunnelRegistry;
  constructor(endpoint: string, registry: TunnelRegistry) {
    this.endpoint = endpoint;
    this.registry = registry;
  }
  close(): void {
    this.closed++;
    this.registry.remove(this);
  }
}

/** A snapshot with one backend holding `endpoints` (only what the registry reads). */
function snapshotWith(...endpoints: string[]): Snapshot {
  return { backends: new Map([['shop/web:80', { all: endpoints.map((key) => ({ key })) }]]) } as unknown as Snapshot;
}

const registries: TunnelRegistry[] = [];
afterEach(() => {
  for (const r of registries.splice(0)) r.closeAll();
});

function setup(options: { idle?: number; drain?: number } = {}) {
  let now = 1000;
  const counters = new TrafficCounters();
  // A sweep period far beyond the test: sweeps are called by hand with the fake clock.
  const registry = new TunnelRegistry({ counters, idleTimeoutMs: options.idle ?? 10_000, drainTimeoutMs: options.drain ?? 5_000, connectTimeoutMs: 1000, now: () => now, sweepMs: 3_600_000 });
  registries.push(registry);
  const open = (endpoint: string): FakeTunnel => {
    const t = new FakeTunnel(endpoint, registry);
    registry.add(t);
    return t;
  };
  return { registry, counters, open, at: (ms: number) => (now = ms), sweep: () => registry.sweep(now) };
}

describe('TunnelRegistry', () => {
  it('counts tunnels open and opened', () => {
    const { registry, counters, open } = setup();
    const a = open('10.0.0.1:80');
    open('10.0.0.2:80');
    expect([registry.size, counters.tunnelsOpen, counters.tunnelsTotal]).toEqual([2, 2, 2]);
    registry.remove(a);
    registry.remove(a); // twice: counted once
    expect([registry.size, counters.tunnelsOpen, counters.tunnelsTotal]).toEqual([1, 1, 2]);
    expect(counters.view()).toMatchObject({ tunnelsOpen: 1, tunnelsTotal: 2 });
  });

  it('closes a tunnel silent both ways for the idle timeout, and only that one', () => {
    const { open, at, sweep } = setup({ idle: 10_000 });
    const quiet = open('10.0.0.1:80');
    const busy = open('10.0.0.2:80');
    for (const t of [2000, 5000, 8000, 10_999]) {
      at(t);
      busy.active = true;
      sweep();
    }
    expect([quiet.closed, busy.closed]).toEqual([0, 0]);
    at(11_000); // 10 s after it opened, nothing moved
    busy.active = true;
    sweep();
    expect([quiet.closed, busy.closed]).toEqual([1, 0]);
    // The busy one goes quiet at 11 000 (the last sweep that saw activity); closed 10 s later.
    at(21_000 - 1);
    sweep();
    expect(busy.closed).toBe(0);
    at(21_000);
    sweep();
    expect(busy.closed).toBe(1);
  });

  it('leaves tunnels alone across reloads that keep their endpoint', () => {
    const { registry, open, at, sweep } = setup({ drain: 5000 });
    registry.retain(snapshotWith('10.0.0.1:80', '10.0.0.2:80'));
    const a = open('10.0.0.1:80');
    // Another endpoint leaves, one is added: nothing happens to a.
    registry.retain(snapshotWith('10.0.0.1:80', '10.0.0.3:80'));
    at(100_000 - 1);
    a.active = true;
    sweep();
    expect(a.closed).toBe(0);
  });

  it('closes the tunnels of a removed endpoint after the drain timeout, unless it comes back', () => {
    const { registry, open, at, sweep } = setup({ drain: 5000 });
    registry.retain(snapshotWith('10.0.0.1:80', '10.0.0.2:80'));
    const gone = open('10.0.0.1:80');
    const back = open('10.0.0.2:80');
    const stays = open('10.0.0.2:80');
    at(2000);
    registry.retain(snapshotWith()); // both endpoints removed at t=2000
    at(3000);
    registry.retain(snapshotWith('10.0.0.2:80')); // one comes back at t=3000
    for (const t of [4000, 6999]) {
      at(t);
      for (const x of [gone, back, stays]) x.active = true;
      sweep();
    }
    expect([gone.closed, back.closed, stays.closed]).toEqual([0, 0, 0]);
    at(7000);
    gone.active = true; // activity does not save it
    sweep();
    expect([gone.closed, back.closed, stays.closed]).toEqual([1, 0, 0]);
  });

  it('gives a tunnel opened to an endpoint already removed the drain timeout', () => {
    const { registry, open, at, sweep } = setup({ drain: 5000 });
    registry.retain(snapshotWith('10.0.0.2:80'));
    at(1000);
    const late = open('10.0.0.1:80');
    at(5999);
    late.active = true;
    sweep();
    expect(late.closed).toBe(0);
    at(6000);
    sweep();
    expect(late.closed).toBe(1);
  });

  it('drain: resolves at once without tunnels', async () => {
    const { registry } = setup();
    await expect(registry.drain(10_000)).resolves.toBe(0);
  });

  it('drain: resolves as soon as the last tunnel closes by itself', async () => {
    const { registry, open } = setup();
    const a = open('10.0.0.1:80');
    const drained = registry.drain(60_000);
    registry.remove(a);
    await expect(drained).resolves.toBe(0);
  });

  it('drain: closes what is left at the deadline (real timer), tunnels opened meanwhile included', async () => {
    const { registry, open } = setup();
    const a = open('10.0.0.1:80');
    const started = performance.now();
    const drained = registry.drain(150);
    const b = open('10.0.0.2:80');
    await expect(drained).resolves.toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect([a.closed, b.closed]).toEqual([1, 1]);
    expect(registry.size).toBe(0);
  });

  it('drain: a tunnel opened after the drain began closes by the same deadline in the sweep', () => {
    const { registry, open, at, sweep } = setup();
    void registry.drain(3_600_000 * 10).catch(() => undefined);
    at(2000);
    const t = open('10.0.0.1:80');
    expect(t.closed).toBe(0);
    at(1000 + 36_000_000);
    t.active = true;
    sweep();
    expect(t.closed).toBe(1);
  });
});
