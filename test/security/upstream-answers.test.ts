/**
 * Issue #14, item 6: odd but legal (or merely sloppy) answers from a pod. An interim 1xx is not the
 * response; a 204, a 304 or an answer to HEAD that carries a body still has its head delivered. None of
 * them is a 502, and none counts against the pod.
 */
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { getJson, rawRequest } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import type { Pod } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const CRLF = '\r\n';

/** A pod that answers every request head with `answer` (raw bytes), keeping the connection open. */
async function rawPod(answer: (request: string) => string): Promise<{ pod: Pod; heads: string[] }> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (length) buffered = buffered.slice(Number(length[1]));
        heads.push(head);
        socket.write(answer(head));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  defer(close);
  const port = (server.address() as { port: number }).port;
  const pod = { name: 'raw-1', host: '127.0.0.2', port, requests: [], connections: 0, server, close } as unknown as Pod;
  return { pod, heads };
}

async function behind(pod: Pod): Promise<RunningSwitchyard> {
  const dir = await tempManifestDir();
  await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'shop', [pod]), ingress({ name: 'web', namespace: 'shop', rules: [{ paths: [{ path: '/', service: 'web' }] }] })]);
  return startSwitchyard({ manifests: dir });
}

async function podState(sy: RunningSwitchyard): Promise<string | undefined> {
  const { body } = await getJson<{ endpoints: { state: string }[] }>(sy.admin, '/api/v1/endpoints');
  return body.endpoints[0]?.state;
}

const OK = `HTTP/1.1 200 OK${CRLF}Content-Length: 2${CRLF}${CRLF}ok`;

describe('interim answers from a pod', () => {
  it.each([
    ['100 Continue the client did not ask for', `HTTP/1.1 100 Continue${CRLF}${CRLF}`],
    ['102 Processing', `HTTP/1.1 102 Processing${CRLF}${CRLF}`],
    ['103 Early Hints', `HTTP/1.1 103 Early Hints${CRLF}Link: </style.css>; rel=preload${CRLF}${CRLF}`],
  ])('a %s is swallowed: the client gets the final 200, the pod stays ready', async (_name, interim) => {
    const { pod } = await rawPod(() => interim + OK);
    const sy = await behind(pod);
    const res = await rawRequest(sy.ingress, `GET / HTTP/1.1${CRLF}Host: web.example${CRLF}Connection: close${CRLF}${CRLF}`);
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toBe('ok');
    expect(res.raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(await podState(sy)).toBe('ready');
  });

  it('a 100 Continue after Expect: 100-continue: the client gets one 100 Continue, then the 200', async () => {
    const { pod, heads } = await rawPod(() => `HTTP/1.1 100 Continue${CRLF}${CRLF}` + OK);
    const sy = await behind(pod);
    const res = await rawRequest(sy.ingress, `POST / HTTP/1.1${CRLF}Host: web.example${CRLF}Expect: 100-continue${CRLF}Content-Length: 5${CRLF}Connection: close${CRLF}${CRLF}hello`);
    expect(res.raw).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(res.raw.match(/HTTP\/1\.1 100 /g)).toHaveLength(1);
    expect(heads).toHaveLength(1);
    expect(await podState(sy)).toBe('ready');
  });
});

describe('a body where none may be', () => {
  it.each([
    ['a 204 with a body', 'GET', `HTTP/1.1 204 No Content${CRLF}Content-Length: 5${CRLF}${CRLF}extra`, 204],
    ['a 304 with a body', 'GET', `HTTP/1.1 304 Not Modified${CRLF}Content-Length: 5${CRLF}${CRLF}extra`, 304],
    ['an answer to HEAD with a body', 'HEAD', `HTTP/1.1 200 OK${CRLF}Content-Length: 5${CRLF}${CRLF}extra`, 200],
  ])('%s: the head is delivered, the body discarded, the client connection kept, the pod ready', async (_name, method, answer, status) => {
    const { pod } = await rawPod(() => answer);
    const sy = await behind(pod);
    // Two requests on one connection: the second proves the first left the connection usable.
    const res = await rawRequest(sy.ingress, `${method} /1 HTTP/1.1${CRLF}Host: web.example${CRLF}${CRLF}${method} /2 HTTP/1.1${CRLF}Host: web.example${CRLF}Connection: close${CRLF}${CRLF}`);
    const statuses = [...res.raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses, res.raw).toEqual([status, status]);
    expect(res.raw).not.toContain('extra');
    expect(await podState(sy)).toBe('ready');
  });
});
