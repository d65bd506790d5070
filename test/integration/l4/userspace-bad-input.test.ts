/**
 * The userspace service proxy with bad input and faults: invalid Service fields are diagnostics that skip
 * the port, a node port that cannot be bound is a logged error shown in the admin API, never a crash.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../../helpers/cleanup.ts';
import { tempManifestDir, writeManifest, type Manifest } from '../../helpers/manifests.ts';
import { startSwitchyard, type RunningSwitchyard } from '../../helpers/switchyard.ts';
import { adminJson, freePort, greeter, nodePortService, podSlices, startTcpPod } from './l4-fixtures.ts';

afterEach(cleanupAll);

async function start(docs: Manifest[]): Promise<RunningSwitchyard> {
  const dir = await tempManifestDir();
  await writeManifest(dir, 'l4.yaml', docs);
  return startSwitchyard({ manifests: dir, args: ['--proxy-mode', 'userspace', '--nodeport-addresses', '127.0.0.1/32'] });
}

interface Diagnostic {
  code: string;
  name: string;
  message: string;
}

describe('userspace service proxy: bad input and faults', () => {
  it('an invalid node port or clusterIP is a diagnostic naming the field; the rest is served', async () => {
    const pod = await startTcpPod('a', '127.0.0.2');
    const nodePort = await freePort();
    const sy = await start([
      nodePortService('mixed', [{ name: 'bad', port: 7000, nodePort: 70000 }, { name: 'tcp', port: 7001, nodePort }]),
      ...podSlices('mixed', 'tcp', 'TCP', [{ pod }]),
      { ...nodePortService('badip', [{ name: 'tcp', port: 7000, nodePort: 'x' }]), spec: { type: 'NodePort', clusterIP: '10.0.0.300', ports: [{ name: 'tcp', port: 7000 }] } },
    ]);
    expect(await greeter(nodePort)).toBe('a');
    const config = await adminJson<{ diagnostics: Diagnostic[] }>(sy.admin, '/api/v1/config');
    expect(config.diagnostics.filter((d) => d.code === 'SERVICE_FIELD_INVALID').map((d) => [d.name, d.message])).toEqual([
      ['badip', 'field spec.clusterIP: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff); the service proxy skips this Service'],
      ['mixed', 'field spec.ports[0].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive; the service proxy skips port 7000/TCP'],
    ]);
    const view = await adminJson<{ ports: { key: string }[] }>(sy.admin, '/api/v1/l4');
    expect(view.ports.map((p) => p.key)).toEqual(['l4/mixed:7001']);
  });

  it('a node port already in use is a logged error naming port and Service, shown in /api/v1/l4; other node ports work', async () => {
    const pod = await startTcpPod('a', '127.0.0.2');
    const taken = createServer();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    defer(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const takenPort = (taken.address() as { port: number }).port;
    const nodePort = await freePort();
    const sy = await start([
      nodePortService('busy', [{ name: 'tcp', port: 7000, nodePort: takenPort }]),
      ...podSlices('busy', 'tcp', 'TCP', [{ pod }]),
      nodePortService('fine', [{ name: 'tcp', port: 7000, nodePort }]),
      ...podSlices('fine', 'tcp', 'TCP', [{ pod }]),
    ]);
    const line = await sy.waitForLog((l) => l.level === 'error' && l['port'] === takenPort);
    expect(line.msg).toContain(`cannot listen on node port ${takenPort}/TCP at 127.0.0.1 for Service l4/busy port 7000: `);
    expect(line['code']).toBe('SWY_ERR_LISTEN_FAILED');
    expect(line['cause']).toBe('EADDRINUSE');
    expect(await greeter(nodePort)).toBe('a');
    const view = await adminJson<{ listeners: { port: number; state: string; error: { code: string } | null }[] }>(sy.admin, '/api/v1/l4');
    expect(view.listeners.find((l) => l.port === takenPort)).toMatchObject({ state: 'failed', error: { code: 'EADDRINUSE' } });
    // /api/v1/config says it too, beside the diagnostics.
    const config = await adminJson<{ serviceProxy: { mode: string; failedListeners: { port: number; state: string }[] } }>(sy.admin, '/api/v1/config');
    expect(config.serviceProxy.mode).toBe('userspace');
    expect(config.serviceProxy.failedListeners.map((l) => l.port)).toContain(takenPort);
    expect(sy.child.exitCode).toBeNull();
  });

  it('/api/v1/l4 says when the service proxy is off', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'l4.yaml', [nodePortService('x', [{ name: 'tcp', port: 7000, nodePort: 30080 }])]);
    const sy = await startSwitchyard({ manifests: dir });
    expect(await adminJson(sy.admin, '/api/v1/l4')).toEqual({ mode: 'off' });
  });
});
