/** An admin server over a given snapshot holder, with quiet defaults for everything else; closed after each test. */
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { createAdminServer, type AdminOptions } from '../../../src/admin/server.ts';
import { emptySnapshot } from '../../../src/compile/compile.ts';
import { EndpointHealth } from '../../../src/health/endpoint-health.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';

const apps: ReturnType<typeof createAdminServer>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

export function testAdmin(overrides: Partial<AdminOptions> = {}): ReturnType<typeof createAdminServer> {
  const app = createAdminServer({
    holder: new SnapshotHolder(emptySnapshot('cluster.local')),
    health: new EndpointHealth({ log: pino({ level: 'silent' }) }),
    draining: () => new Map(),
    ready: () => true,
    sources: () => [],
    workers: () => [],
    traffic: () => ({ inFlight: 0, tunnelsOpen: 0, tunnelsTotal: 0 }),
    dnsQueries: () => undefined,
    dataPlane: async () => [],
    dnsAnswer: () => ({ answers: [] }),
    startedAt: new Date().toISOString(),
    ...overrides,
  });
  apps.push(app);
  return app;
}
