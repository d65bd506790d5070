/** CONNECT is refused (Switchyard is not a tunnel); an absolute-form target routes by its own host. */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { rawRequest } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

/** demo.localhost → demo pod; other.example → other pod. */
async function twoHosts(): Promise<{ sy: RunningSwitchyard; demo: Pod; other: Pod }> {
  const [demo] = await startPods(['demo-1'], { hosts: [2] });
  const [other] = await startPods(['other-1'], { hosts: [3] });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'all.yaml', [
    ...serviceWithPods('hello', 'demo', [demo!]),
    ...serviceWithPods('other', 'demo', [other!]),
    ingress({
      name: 'hello',
      namespace: 'demo',
      rules: [
        { host: 'demo.localhost', paths: [{ path: '/', service: 'hello' }] },
        { host: 'other.example', paths: [{ path: '/', service: 'other' }] },
      ],
    }),
  ]);
  return { sy: await startSwitchyard({ manifests: dir }), demo: demo!, other: other! };
}

describe('request targets', () => {
  it('answers CONNECT with 405 and opens no tunnel', async () => {
    const { sy, demo, other } = await twoHosts();
    const res = await rawRequest(sy.ingress, `CONNECT ${demo.host}:${demo.port} HTTP/1.1\r\nHost: ${demo.host}:${demo.port}\r\n\r\n`);
    expect(res.status, res.raw).toBe(405);
    expect(demo.connections + other.connections).toBe(0);
  });

  it('routes an absolute-form request target (GET http://demo.localhost/x) by the target host, not the Host header', async () => {
    const { sy, demo, other } = await twoHosts();
    const res = await rawRequest(sy.ingress, 'GET http://demo.localhost/x?y=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n');
    expect(res.status, res.raw).toBe(200);
    expect(res.headers['x-pod']).toBe('demo-1');
    expect(demo.requests.map((r) => r.url)).toEqual(['/x?y=1']); // origin-form upstream
    // RFC 9112 §3.2.2: the target's authority replaces the Host header on the way up.
    expect(demo.requests[0]!.headers['host']).toBe('demo.localhost');
    expect(demo.requests[0]!.headers['x-forwarded-host']).toBe('demo.localhost');
    expect(other.requests).toHaveLength(0);
    // And the origin-form request with the same Host header goes to the other pod (the control).
    const control = await rawRequest(sy.ingress, 'GET /x HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n');
    expect(control.headers['x-pod']).toBe('other-1');
    const body = control.body.includes('{') ? control.body.slice(control.body.indexOf('{'), control.body.lastIndexOf('}') + 1) : '';
    expect((JSON.parse(body) as EchoBody).pod).toBe('other-1');
  });
});
