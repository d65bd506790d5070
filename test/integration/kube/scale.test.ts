/**
 * Initial sync of 1,000 Services, each with one EndpointSlice of 3 endpoints, through the real client
 * against the fake API server (default page size, so each kind takes two list pages). The time is
 * reported, not asserted: it depends on the machine.
 */
import { afterEach, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait.ts';
import { makeSource, slice, startApi, svc } from './harness.ts';

afterEach(cleanupAll);

const SERVICES = 1000;

it(`syncs ${SERVICES} Services × 3 endpoints and reports the time`, async () => {
  const h = await startApi();
  for (let i = 0; i < SERVICES; i++) {
    const ns = `team-${i % 10}`;
    h.api.upsert('services', svc(ns, `svc-${i}`));
    const b = (i >> 8) & 0xff;
    const c = i & 0xff;
    h.api.upsert('endpointslices', slice(ns, `svc-${i}`, [`10.${b}.${c}.1`, `10.${b}.${c}.2`, `10.${b}.${c}.3`]));
  }
  const t = makeSource(h);
  const started = performance.now();
  await t.source.start();
  const syncMs = performance.now() - started;

  const records = t.latest();
  expect(records.filter((r) => r.kind === 'Service')).toHaveLength(SERVICES);
  const slices = records.filter((r) => r.kind === 'EndpointSlice');
  expect(slices).toHaveLength(SERVICES);
  expect(slices.reduce((n, s) => n + (s.kind === 'EndpointSlice' ? s.group.addresses.length : 0), 0)).toBe(SERVICES * 3);
  expect(t.updates).toHaveLength(1);

  // One change after the big sync still arrives quickly.
  await waitFor(() => h.api.watchCount() === 5);
  const changed = performance.now();
  h.api.upsert('endpointslices', slice('team-0', 'svc-0', ['10.0.0.1']));
  await waitFor(() => t.updates.length === 2, { timeoutMs: 1000, what: 'the change' });
  const eventMs = performance.now() - changed;

  const status = t.source.status();
  console.log(
    `kube initial sync: ${SERVICES} Services + ${SERVICES} EndpointSlices (${SERVICES * 3} endpoints) in ${syncMs.toFixed(0)} ms ` +
      `(source's own measure ${status.syncDurationMs} ms; lists: ${status.resources.map((r) => `${r.kind}=${r.lists}`).join(' ')}); ` +
      `one event after it reached onUpdate in ${eventMs.toFixed(1)} ms`,
  );
});
