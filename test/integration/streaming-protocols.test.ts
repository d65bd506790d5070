/**
 * Server-sent events reach the client as the pod writes them, over every client protocol: HTTP/1.1
 * plain and over TLS, HTTP/2 over TLS (ALPN) and h2c. The pod writes its next event only after the
 * client has received the previous one, so a proxy that buffers any of them makes the test time out.
 */
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EventEmitter, once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { withTimeout } from '../helpers/wait.ts';

afterEach(cleanupAll);

const EVENTS = 3;
const HOST = 'events.example';

/** One pod writing EVENTS events, each only once `next` is emitted; Switchyard with a TLS listener in front. */
async function eventsBehindSwitchyard(): Promise<{ sy: RunningSwitchyard; next: EventEmitter }> {
  const next = new EventEmitter();
  const [pod] = await startPods(['events-1'], {
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const send = (): void => {
        n++;
        res.write(`data: event ${n}\n\n`);
        if (n === EVENTS) res.end();
        else next.once('next', send);
      };
      send();
    },
  });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'events.yaml', [...serviceWithPods('events', 'shop', [pod!]), ingress({ name: 'events', namespace: 'shop', rules: [{ host: HOST, paths: [{ path: '/', service: 'events' }] }] })]);
  const sy = await startSwitchyard({ manifests: dir, args: ['--listen-tls', '127.0.0.1:0', '--workers', '1'] });
  return { sy, next };
}

/** Reads events from `chunks`, asking the pod for the next one after each: resolves with them in order. */
async function readEvents(chunks: AsyncIterable<Buffer | string>, next: EventEmitter): Promise<string[]> {
  const events: string[] = [];
  let text = '';
  for await (const chunk of chunks) {
    text += chunk.toString();
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      events.push(text.slice(0, end));
      text = text.slice(end + 2);
      next.emit('next');
    }
  }
  return events;
}

const EXPECTED = Array.from({ length: EVENTS }, (_, i) => `data: event ${i + 1}`);

describe('server-sent events are not buffered', () => {
  it('over HTTP/1.1, plain and TLS', async () => {
    const { sy, next } = await eventsBehindSwitchyard();
    const plain = httpRequest({ host: sy.ingress.host, port: sy.ingress.port, path: '/events', headers: { host: HOST } });
    plain.end();
    const [plainRes] = (await once(plain, 'response')) as [IncomingMessage];
    expect(plainRes.headers['content-type']).toBe('text/event-stream');
    expect(await withTimeout(readEvents(plainRes, next), 5000, 'events over HTTP/1.1')).toEqual(EXPECTED);

    const secure = httpsRequest({ host: sy.tls!.host, port: sy.tls!.port, path: '/events', servername: HOST, headers: { host: HOST }, rejectUnauthorized: false });
    secure.end();
    const [secureRes] = (await once(secure, 'response')) as [IncomingMessage];
    expect(await withTimeout(readEvents(secureRes, next), 5000, 'events over HTTP/1.1 and TLS')).toEqual(EXPECTED);
  });

  it('over HTTP/2, TLS (ALPN) and h2c', async () => {
    const { sy, next } = await eventsBehindSwitchyard();
    const sessions: [string, ClientHttp2Session][] = [
      ['h2', h2connect(`https://${HOST}:${sy.tls!.port}`, { host: sy.tls!.host, servername: HOST, rejectUnauthorized: false } as never)],
      ['h2c', h2connect(`http://${sy.ingress.host}:${sy.ingress.port}`)],
    ];
    for (const [name, session] of sessions) {
      defer(() => void session.destroy());
      const stream = session.request({ ':path': '/events', ':authority': HOST });
      stream.end();
      const [headers] = (await once(stream, 'response')) as [Record<string, string>];
      expect(headers[':status'], name).toBe(200);
      expect(await withTimeout(readEvents(stream, next), 5000, `events over ${name}`), name).toEqual(EXPECTED);
    }
  });
});
