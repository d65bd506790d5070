/**
 * --proxy-mode userspace over TCP, end to end: the real CLI with NodePort Services whose node ports are
 * free loopback ports, TCP echo pods on 127.0.0.x.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { tempManifestDir, writeManifest, type Manifest } from '../../helpers/manifests.ts';
import { unusedPort } from '../../helpers/pods.ts';
import { sumSamples } from '../../helpers/metrics.ts';
import { startSwitchyard, type RunningSwitchyard } from '../../helpers/switchyard.ts';
import { waitFor } from '../../helpers/wait.ts';
import { adminJson, freePort, greeter, nodePortService, podSlices, startTcpPod, tcpClient } from './l4-fixtures.ts';

afterEach(cleanupAll);

const USERSPACE = ['--proxy-mode', 'userspace', '--nodeport-addresses', '127.0.0.1/32', '--node-name', 'node-a'];

async function start(docs: Manifest[], args: string[] = []): Promise<{ sy: RunningSwitchyard; dir: string }> {
  const dir = await tempManifestDir();
  await writeManifest(dir, 'l4.yaml', docs);
  const sy = await startSwitchyard({ manifests: dir, args: [...USERSPACE, ...args] });
  return { sy, dir };
}

interface L4ViewJson {
  listeners: { protocol: string; port: number; state: string; service: string; error: { code: string } | null }[];
  ports: { key: string; endpoints: string[]; open: number }[];
  connections: { open: number; listed: { endpoint: string; drainingSince: string | null }[] };
}

describe('userspace service proxy: TCP', () => {
  it('spreads connections round-robin over the ready pods, and counts them', async () => {
    const [a, b, c] = await Promise.all([startTcpPod('a', '127.0.0.2'), startTcpPod('b', '127.0.0.3'), startTcpPod('c', '127.0.0.4')]);
    const nodePort = await freePort();
    const { sy } = await start([
      nodePortService('echo', [{ name: 'tcp', port: 7000, nodePort }]),
      ...podSlices('echo', 'tcp', 'TCP', [{ pod: a }, { pod: b }, { pod: c, ready: false }]),
    ]);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await greeter(nodePort));
    expect(seen).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    expect(c.received).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${sy.admin.port}/metrics`)).text();
    expect(sumSamples(metrics, 'switchyard_l4_connections_total', { namespace: 'l4', service: 'echo', port: '7000', protocol: 'TCP' })).toBe(6);
    const view = await adminJson<L4ViewJson>(sy.admin, '/api/v1/l4');
    expect(view.listeners).toEqual([{ protocol: 'TCP', address: '127.0.0.1', port: nodePort, service: 'l4/echo', servicePort: 7000, state: 'listening', error: null }]);
  });

  it('resets a connection at once when the Service has no endpoint', async () => {
    const nodePort = await freePort();
    await start([nodePortService('empty', [{ name: 'tcp', port: 7000, nodePort }])]);
    const c = tcpClient(nodePort);
    const { error } = await c.closed;
    expect(c.text()).toBe('');
    expect(error).toBe('ECONNRESET');
  });

  it('moves on to the next endpoint when one refuses, once per endpoint; all refusing closes the client', async () => {
    const live = await startTcpPod('live', '127.0.0.3');
    const dead = { name: 'dead', host: '127.0.0.2', port: await unusedPort('127.0.0.2') };
    const dead2 = { name: 'dead2', host: '127.0.0.4', port: await unusedPort('127.0.0.4') };
    const [nodePort, allDeadPort] = [await freePort(), await freePort()];
    const { sy } = await start([
      nodePortService('mixed', [{ name: 'tcp', port: 7000, nodePort }]),
      ...podSlices('mixed', 'tcp', 'TCP', [{ pod: dead }, { pod: live }]),
      nodePortService('gone', [{ name: 'tcp', port: 7000, nodePort: allDeadPort }]),
      ...podSlices('gone', 'tcp', 'TCP', [{ pod: dead }, { pod: dead2 }]),
    ]);
    for (let i = 0; i < 4; i++) expect(await greeter(nodePort)).toBe('live');
    const c = tcpClient(allDeadPort);
    const { error } = await c.closed;
    expect([c.text(), error]).toEqual(['', 'ECONNRESET']);
    const metrics = await (await fetch(`http://127.0.0.1:${sy.admin.port}/metrics`)).text();
    // mixed: the dead pod comes first in every connection's turn (the live one's pick moved the cursor
    // back onto it), so each of the 4 tried it once; gone: each dead pod once, then the client was reset.
    expect(sumSamples(metrics, 'switchyard_l4_connect_failures_total', { service: 'mixed' })).toBe(4);
    expect(sumSamples(metrics, 'switchyard_l4_connect_failures_total', { service: 'gone' })).toBe(2);
  });

  it('passes a half-close through both ways', async () => {
    const pod = await startTcpPod('a', '127.0.0.2');
    const nodePort = await freePort();
    await start([nodePortService('echo', [{ name: 'tcp', port: 7000, nodePort }]), ...podSlices('echo', 'tcp', 'TCP', [{ pod }])]);
    const c = tcpClient(nodePort);
    await c.waitFor('a\n');
    c.socket.end('ping\n'); // our FIN: the pod answers "bye" only once it sees it
    await c.waitFor('bye\n');
    const { error } = await c.closed;
    expect([c.text(), error]).toEqual(['a\nping\nbye\n', undefined]);
  });

  it('keeps connections to endpoints that stay; closes those of a removed endpoint after the drain timeout', async () => {
    const [a, b] = await Promise.all([startTcpPod('a', '127.0.0.2'), startTcpPod('b', '127.0.0.3')]);
    const nodePort = await freePort();
    const svc = nodePortService('echo', [{ name: 'tcp', port: 7000, nodePort }]);
    const { sy, dir } = await start([svc, ...podSlices('echo', 'tcp', 'TCP', [{ pod: a }, { pod: b }])], ['--drain-timeout', '2s']);
    const toA = tcpClient(nodePort);
    await toA.waitFor('a\n');
    const toB = tcpClient(nodePort);
    await toB.waitFor('b\n');
    await writeManifest(dir, 'l4.yaml', [svc, ...podSlices('echo', 'tcp', 'TCP', [{ pod: a }])]);
    const draining = await waitFor(async () => {
      const view = await adminJson<L4ViewJson>(sy.admin, '/api/v1/l4');
      return view.connections.listed.find((c) => c.endpoint === `127.0.0.3:${b.port}` && c.drainingSince !== null);
    });
    expect(draining).toBeDefined();
    // Still spliced during the drain timeout...
    toB.socket.write('draining\n');
    await toB.waitFor('draining\n');
    // ...then cut.
    const closed = await toB.closed;
    expect(closed.error).toBe('ECONNRESET');
    toA.socket.write('still-there\n');
    await toA.waitFor('still-there\n');
    expect(await greeter(nodePort)).toBe('a');
  });

  it('closes the listener of a node port that went away', async () => {
    const pod = await startTcpPod('a', '127.0.0.2');
    const nodePort = await freePort();
    const slices = podSlices('echo', 'tcp', 'TCP', [{ pod }]);
    const { sy, dir } = await start([nodePortService('echo', [{ name: 'tcp', port: 7000, nodePort }]), ...slices]);
    const open = tcpClient(nodePort);
    await open.waitFor('a\n');
    await writeManifest(dir, 'l4.yaml', [nodePortService('echo', [{ name: 'tcp', port: 7000 }]), ...slices]);
    await sy.waitForLog((l) => l.msg === 'node port closed' && l['port'] === nodePort);
    const { error } = await tcpClient(nodePort).closed;
    expect(error).toBe('ECONNREFUSED');
    // Its endpoint stayed: the connection made before outlives the listener.
    open.socket.write('after\n');
    await open.waitFor('after\n');
  });

  it('stops promptly with connections open, closing them', async () => {
    const pod = await startTcpPod('a', '127.0.0.2');
    const nodePort = await freePort();
    const { sy } = await start([nodePortService('echo', [{ name: 'tcp', port: 7000, nodePort }]), ...podSlices('echo', 'tcp', 'TCP', [{ pod }])]);
    const open = tcpClient(nodePort);
    await open.waitFor('a\n');
    expect(await sy.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await open.closed;
  });

  it('sessionAffinity ClientIP sends one client to one pod', async () => {
    const [a, b] = await Promise.all([startTcpPod('a', '127.0.0.2'), startTcpPod('b', '127.0.0.3')]);
    const nodePort = await freePort();
    await start([nodePortService('sticky', [{ name: 'tcp', port: 7000, nodePort }], { sessionAffinity: 'ClientIP' }), ...podSlices('sticky', 'tcp', 'TCP', [{ pod: a }, { pod: b }])]);
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) seen.add(await greeter(nodePort));
    expect([...seen]).toEqual(['a']);
  });

  it('externalTrafficPolicy Local keeps node-port traffic on this node\'s pods; internalTrafficPolicy Local does not', async () => {
    const [a, b] = await Promise.all([startTcpPod('a', '127.0.0.2'), startTcpPod('b', '127.0.0.3')]);
    const [localPort, clusterPort, nonePort] = [await freePort(), await freePort(), await freePort()];
    const eps = [{ pod: a, node: 'node-b' }, { pod: b, node: 'node-a' }];
    await start([
      nodePortService('ext-local', [{ name: 'tcp', port: 7000, nodePort: localPort }], { externalTrafficPolicy: 'Local' }),
      ...podSlices('ext-local', 'tcp', 'TCP', eps),
      nodePortService('int-local', [{ name: 'tcp', port: 7000, nodePort: clusterPort }], { internalTrafficPolicy: 'Local' }),
      ...podSlices('int-local', 'tcp', 'TCP', eps),
      nodePortService('elsewhere', [{ name: 'tcp', port: 7000, nodePort: nonePort }], { externalTrafficPolicy: 'Local' }),
      ...podSlices('elsewhere', 'tcp', 'TCP', [{ pod: a, node: 'node-b' }]),
    ]);
    const local: string[] = [];
    const cluster: string[] = [];
    for (let i = 0; i < 4; i++) {
      local.push(await greeter(localPort));
      cluster.push(await greeter(clusterPort));
    }
    expect(local).toEqual(['b', 'b', 'b', 'b']);
    expect(cluster).toEqual(['a', 'b', 'a', 'b']);
    const { error } = await tcpClient(nonePort).closed;
    expect(error).toBe('ECONNRESET');
  });
});
