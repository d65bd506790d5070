/**
 * Requests the HTTP parser must refuse, sent over a raw socket: ambiguous framing (request smuggling),
 * invalid header names and oversized heads. Each gets 400 (or 431) and never reaches a pod.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { rawRequest } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const MAX_HEADER_SIZE = 4096;

/** A pod behind a catch-all rule (every host, every path): anything the proxy forwards reaches it. */
async function catchAll(server: Http1Server): Promise<{ sy: RunningSwitchyard; pod: Pod }> {
  const [pod] = await startPods(['web-1'], { hosts: [2] });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'shop', [pod!]), ingress({ name: 'web', namespace: 'shop', rules: [{ paths: [{ path: '/', service: 'web' }] }] })]);
  const sy = await startSwitchyard({ manifests: dir, args: ['--max-header-size', String(MAX_HEADER_SIZE), '--http1-server', server] });
  return { sy, pod: pod! };
}

/** Every case runs against both HTTP/1.1 servers (--http1-server): Node's llhttp binding and the node:http fallback. */
const HTTP1_SERVERS = ['llhttp', 'node'] as const;
type Http1Server = (typeof HTTP1_SERVERS)[number];

const CRLF = '\r\n';
const head = (...lines: string[]): string => lines.join(CRLF) + CRLF + CRLF;

describe.each(HTTP1_SERVERS)('%s server', (server) => {
  describe('malformed requests', () => {
    it('forwards a well-formed request on the same setup (control)', async () => {
      const { sy, pod } = await catchAll(server);
      const res = await rawRequest(sy.ingress, head('POST /ok HTTP/1.1', 'Host: web.example', 'Content-Length: 5', 'X-Pad: ' + 'p'.repeat(2000), 'Connection: close') + 'hello');
      expect(res.status).toBe(200);
      expect(pod.requests).toHaveLength(1);
    });

    it.each([
      ['Content-Length and Transfer-Encoding (CL.TE smuggling)', head('POST /smuggle HTTP/1.1', 'Host: web.example', 'Content-Length: 13', 'Transfer-Encoding: chunked') + '0\r\n\r\nGET /admin HTTP/1.1\r\nHost: web.example\r\n\r\n'],
      ['Transfer-Encoding and Content-Length (TE.CL smuggling)', head('POST /smuggle HTTP/1.1', 'Host: web.example', 'Transfer-Encoding: chunked', 'Content-Length: 4') + '5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n'],
      ['two different Content-Length values', head('POST /smuggle HTTP/1.1', 'Host: web.example', 'Content-Length: 5', 'Content-Length: 6') + 'hello!'],
      ['an invalid header name (space inside)', head('GET / HTTP/1.1', 'Host: web.example', 'Bad Header: x', 'Connection: close')],
      ['an invalid header name (separator character)', head('GET / HTTP/1.1', 'Host: web.example', 'X(Y): x', 'Connection: close')],
    ])('answers 400 to %s and forwards nothing', async (_name, data) => {
      const { sy, pod } = await catchAll(server);
      const res = await rawRequest(sy.ingress, data);
      expect(res.status, res.raw).toBe(400);
      expect(res.headers['x-switchyard-error']).toBe('bad-request');
      expect(pod.requests).toHaveLength(0);
      expect(pod.connections).toBe(0);
    });

    it(`answers 431 to a request head larger than --max-header-size ${MAX_HEADER_SIZE} and forwards nothing`, async () => {
      const { sy, pod } = await catchAll(server);
      // Well under the default limit (16 KiB), over the configured one.
      const res = await rawRequest(sy.ingress, head('GET / HTTP/1.1', 'Host: web.example', 'X-Big: ' + 'b'.repeat(MAX_HEADER_SIZE * 2), 'Connection: close'));
      expect(res.status, res.raw.slice(0, 200)).toBe(431);
      expect(res.headers['x-switchyard-error']).toBe('header-too-large');
      expect(pod.requests).toHaveLength(0);
      expect(pod.connections).toBe(0);
    });
  });
});
