/**
 * Issue #14, must-fix 1 and item 5: request heads a proxy must refuse before routing. A duplicate Host
 * once reached undici, which refused to build the request; that refusal was recorded as the pod's
 * connect failure, and one request ejected two of four healthy pods. The same bytes now get 400, and
 * every pod stays in rotation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, getJson, rawRequest } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const CRLF = '\r\n';
const head = (...lines: string[]): string => lines.join(CRLF) + CRLF + CRLF;

/** Four pods behind a catch-all rule. */
async function fourPods(): Promise<{ sy: RunningSwitchyard; pods: Pod[] }> {
  const pods = await startPods(['web-1', 'web-2', 'web-3', 'web-4']);
  const dir = await tempManifestDir();
  await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'shop', pods), ingress({ name: 'web', namespace: 'shop', rules: [{ paths: [{ path: '/', service: 'web' }] }] })]);
  const sy = await startSwitchyard({ manifests: dir });
  return { sy, pods };
}

const forwarded = (pods: readonly Pod[]): number => pods.reduce((n, p) => n + p.requests.length, 0);

interface EndpointState {
  readonly key: string;
  readonly state: string;
}

describe('request heads refused before routing (RFC 9112 §3.2, §6.1)', () => {
  it('a duplicate Host is answered 400 and ejects no pod, however often it is sent', async () => {
    const { sy, pods } = await fourPods();
    for (let i = 0; i < 5; i++) {
      const res = await rawRequest(sy.ingress, head('GET / HTTP/1.1', 'Host: web.example', 'Host: other.example'));
      expect(res.status, res.raw).toBe(400);
      expect(res.headers['x-switchyard-error']).toBe('duplicate-host');
    }
    expect(forwarded(pods)).toBe(0);
    const { body } = await getJson<{ endpoints: EndpointState[] }>(sy.admin, '/api/v1/endpoints');
    expect(body.endpoints.map((e) => e.state)).toEqual(['ready', 'ready', 'ready', 'ready']);
    // Every pod still takes its turn.
    for (let i = 0; i < 8; i++) expect((await get(sy.ingress, 'web.example', '/')).status).toBe(200);
    expect(pods.map((p) => p.requests.length)).toEqual([2, 2, 2, 2]);
  });

  it.each([
    ['a Host with a space', head('GET / HTTP/1.1', 'Host: web .example')],
    ['a Host with userinfo', head('GET / HTTP/1.1', 'Host: admin@web.example')],
    ['a Host with a non-numeric port', head('GET / HTTP/1.1', 'Host: web.example:eighty')],
    ['an absolute-form target with userinfo', head('GET http://admin@web.example/ HTTP/1.1', 'Host: web.example')],
  ])('answers 400 invalid-host to %s and forwards nothing', async (_name, bytes) => {
    const { sy, pods } = await fourPods();
    const res = await rawRequest(sy.ingress, bytes);
    expect(res.status, res.raw).toBe(400);
    expect(res.headers['x-switchyard-error']).toBe('invalid-host');
    expect(forwarded(pods)).toBe(0);
  });

  it('an absolute-form target that disagrees with Host is routed by the target, whose authority the pod sees (RFC 9112 §3.2.2)', async () => {
    const { sy, pods } = await fourPods();
    const res = await rawRequest(sy.ingress, head('GET http://target.example/x HTTP/1.1', 'Host: header.example', 'Connection: close'));
    expect(res.status, res.raw).toBe(200);
    const seen = pods.flatMap((p) => p.requests);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.host).toBe('target.example');
  });

  it('answers 400 to Transfer-Encoding in an HTTP/1.0 request and closes (RFC 9112 §6.1)', async () => {
    const { sy, pods } = await fourPods();
    const res = await rawRequest(sy.ingress, head('POST / HTTP/1.0', 'Host: web.example', 'Transfer-Encoding: chunked') + '5\r\nhello\r\n0\r\n\r\n');
    expect(res.status, res.raw).toBe(400);
    expect(res.headers.connection).toBe('close');
    expect(forwarded(pods)).toBe(0);
  });

  it.each([
    ['gzip, chunked', ['Transfer-Encoding: gzip, chunked']],
    ['gzip then chunked in two fields', ['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked']],
  ])('answers 501 to the transfer coding %s and forwards nothing', async (_name, fields) => {
    const { sy, pods } = await fourPods();
    const res = await rawRequest(sy.ingress, head('POST / HTTP/1.1', 'Host: web.example', ...fields) + '5\r\nhello\r\n0\r\n\r\n');
    expect(res.status, res.raw).toBe(501);
    expect(res.headers['x-switchyard-error']).toBe('unsupported-transfer-coding');
    expect(forwarded(pods)).toBe(0);
  });
});
