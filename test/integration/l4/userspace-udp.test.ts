/**
 * --proxy-mode userspace over UDP, end to end: flows (one per client address and port) spread over UDP
 * echo pods on 127.0.0.x, kept while active, forgotten after --udp-flow-timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { tempManifestDir, writeManifest, type Manifest } from '../../helpers/manifests.ts';
import { sumSamples } from '../../helpers/metrics.ts';
import { startSwitchyard, type RunningSwitchyard } from '../../helpers/switchyard.ts';
import { waitFor } from '../../helpers/wait.ts';
import { adminJson, freePort, nodePortService, podSlices, startUdpPod, udpClient } from './l4-fixtures.ts';

afterEach(cleanupAll);

async function start(docs: Manifest[], args: string[] = []): Promise<{ sy: RunningSwitchyard; dir: string }> {
  const dir = await tempManifestDir();
  await writeManifest(dir, 'l4.yaml', docs);
  const sy = await startSwitchyard({ manifests: dir, args: ['--proxy-mode', 'userspace', '--nodeport-addresses', '127.0.0.1/32', '--node-name', 'node-a', ...args] });
  return { sy, dir };
}

const podOf = (answer: string) => answer.split(':')[0];

describe('userspace service proxy: UDP', () => {
  it('spreads flows round-robin over the ready pods; a flow keeps its pod; an idle one is forgotten', async () => {
    const [a, b, c] = await Promise.all([startUdpPod('a', '127.0.0.2'), startUdpPod('b', '127.0.0.3'), startUdpPod('c', '127.0.0.4')]);
    const nodePort = await freePort();
    const { sy } = await start(
      [nodePortService('dns', [{ name: 'dns', port: 53, protocol: 'UDP', nodePort }]), ...podSlices('dns', 'dns', 'UDP', [{ pod: a }, { pod: b }, { pod: c, ready: false }])],
      ['--udp-flow-timeout', '300ms'],
    );
    const clients = await Promise.all([udpClient(), udpClient(), udpClient(), udpClient()]);
    const firsts: string[] = [];
    for (const client of clients) firsts.push((await client.ask(nodePort, 'q1'))!);
    expect(firsts).toEqual(['a:q1', 'b:q1', 'a:q1', 'b:q1']);
    // Within a flow, every datagram goes to the same pod.
    for (let i = 0; i < 3; i++) expect(podOf(await clients[0]!.ask(nodePort, `again${i}`))).toBe('a');
    expect(c.received).toBe(0);
    const view = await adminJson<{ flows: { open: number } }>(sy.admin, '/api/v1/l4');
    expect(view.flows.open).toBe(4);
    // Idle past the flow timeout: forgotten, so the same client socket starts a new flow (the next pod).
    await waitFor(async () => (await adminJson<{ flows: { open: number } }>(sy.admin, '/api/v1/l4')).flows.open === 0, { what: 'the flows to time out' });
    expect(podOf(await clients[0]!.ask(nodePort, 'later'))).toBe('a');
    expect(podOf(await clients[1]!.ask(nodePort, 'later'))).toBe('b');
    const metrics = await (await fetch(`http://127.0.0.1:${sy.admin.port}/metrics`)).text();
    expect(sumSamples(metrics, 'switchyard_l4_connections_total', { service: 'dns', protocol: 'UDP' })).toBe(6);
    expect(sumSamples(metrics, 'switchyard_l4_connections', { service: 'dns', protocol: 'UDP' })).toBe(2);
  });

  it('ends the flows of a removed endpoint at once: the next datagram reaches a live pod', async () => {
    const [a, b] = await Promise.all([startUdpPod('a', '127.0.0.2'), startUdpPod('b', '127.0.0.3')]);
    const nodePort = await freePort();
    const svc = nodePortService('dns', [{ name: 'dns', port: 53, protocol: 'UDP', nodePort }]);
    const { sy, dir } = await start([svc, ...podSlices('dns', 'dns', 'UDP', [{ pod: a }, { pod: b }])]);
    const [one, two] = await Promise.all([udpClient(), udpClient()]);
    expect(podOf(await one.ask(nodePort, 'x'))).toBe('a');
    expect(podOf(await two.ask(nodePort, 'x'))).toBe('b');
    await writeManifest(dir, 'l4.yaml', [svc, ...podSlices('dns', 'dns', 'UDP', [{ pod: a }])]);
    await waitFor(async () => (await adminJson<{ flows: { open: number } }>(sy.admin, '/api/v1/l4')).flows.open === 1, { what: 'the flow to b to end' });
    expect(podOf(await two.ask(nodePort, 'y'))).toBe('a');
    expect(podOf(await one.ask(nodePort, 'y'))).toBe('a');
  });

  it('sessionAffinity ClientIP: every flow of one client address goes to one pod', async () => {
    const [a, b] = await Promise.all([startUdpPod('a', '127.0.0.2'), startUdpPod('b', '127.0.0.3')]);
    const nodePort = await freePort();
    await start([nodePortService('dns', [{ name: 'dns', port: 53, protocol: 'UDP', nodePort }], { sessionAffinity: 'ClientIP' }), ...podSlices('dns', 'dns', 'UDP', [{ pod: a }, { pod: b }])]);
    const clients = await Promise.all([udpClient(), udpClient(), udpClient()]);
    const pods = new Set<string | undefined>();
    for (const client of clients) pods.add(podOf(await client.ask(nodePort, 'x')));
    expect([...pods]).toEqual(['a']);
  });

  it('drops datagrams for a Service without an endpoint (no answer, no crash)', async () => {
    const nodePort = await freePort();
    const { sy } = await start([nodePortService('dns', [{ name: 'dns', port: 53, protocol: 'UDP', nodePort }])]);
    const client = await udpClient();
    await expect(client.ask(nodePort, 'x', 300)).rejects.toThrow(/timed out/);
    await sleep(50);
    expect(sy.child.exitCode).toBeNull();
  });
});
