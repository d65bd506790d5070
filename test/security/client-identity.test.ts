/**
 * Client identity (issue 14, item 7) and header names (item 5), through the real CLI: what a pod is
 * told about the client. Forwarding fields a client makes up are replaced unless its peer is a
 * trusted proxy; header names with `_` are dropped, refused or passed; Connection cannot strip Host
 * or Content-Length; and with --proxy-protocol the address in a v1/v2 header (on plaintext, TLS,
 * HTTP/1.1 and HTTP/2) is the client's, while a connection without one, or from a peer outside
 * --trusted-proxies, is closed with nothing written.
 */
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, rawRequest, type RawResponse } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { selfSigned } from '../unit/support/certs.ts';

afterEach(cleanupAll);

const HOST = 'id.example';

/** One echo pod behind an Ingress for id.example, with a TLS Secret so --listen-tls serves it too. */
async function proxy(args: readonly string[]): Promise<{ sy: RunningSwitchyard; pod: Pod }> {
  const [pod] = await startPods(['web-1']);
  const dir = await tempManifestDir();
  const pem = selfSigned([HOST]);
  const secret: Manifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: 'id-tls', namespace: 'shop' },
    data: { 'tls.crt': Buffer.from(pem.certPem).toString('base64'), 'tls.key': Buffer.from(pem.keyPem).toString('base64') },
  };
  const ing = ingress({ name: 'web', namespace: 'shop', rules: [{ host: HOST, paths: [{ path: '/', service: 'web' }] }] });
  // No redirect to https: the plaintext listener serves the same host.
  const withTls = {
    ...ing,
    metadata: { ...(ing['metadata'] as Record<string, unknown>), annotations: { 'switchyard.dev/ssl-redirect': 'false' } },
    spec: { ...(ing['spec'] as Record<string, unknown>), tls: [{ hosts: [HOST], secretName: 'id-tls' }] },
  };
  await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'shop', [pod!]), secret, withTls]);
  return { sy: await startSwitchyard({ manifests: dir, args }), pod: pod! };
}

/** The pod's echo of the request, from a raw response. */
function echoOf(res: RawResponse): EchoBody {
  expect(res.status, res.raw).toBe(200);
  return JSON.parse(/\r\ntransfer-encoding: chunked\r\n/i.test(res.raw) ? dechunk(res.body) : res.body) as EchoBody;
}

function dechunk(body: string): string {
  let out = '';
  for (let at = 0; ; ) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

const SPOOFED = 'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Port: 1\r\nForwarded: for=6.6.6.6;proto=https\r\n';
const request = (extra = ''): string => `GET /who HTTP/1.1\r\nHost: ${HOST}\r\n${extra}Connection: close\r\n\r\n`;

describe('forwarding fields without trusted proxies (the default)', () => {
  it('replaces X-Forwarded-For/-Proto/-Host/-Port and drops Forwarded; underscore names dropped; Connection cannot strip Host or Content-Length', async () => {
    const { sy } = await proxy([]);

    const h = echoOf(await rawRequest(sy.ingress, request(SPOOFED))).headers;
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(HOST);
    expect(h['x-forwarded-port']).toBe(String(sy.ingress.port));
    expect(h['forwarded']).toBeUndefined();

    // Dropped (drop is the default), and never taken for the field each resembles: the body is framed by Content-Length.
    const underscored = await rawRequest(sy.ingress, `POST /u HTTP/1.1\r\nHost: ${HOST}\r\nX_Forwarded_For: 6.6.6.6\r\nTransfer_Encoding: chunked\r\nx_custom: 1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`);
    const seen = echoOf(underscored);
    expect(seen.bodyBytes).toBe(5);
    expect(seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.includes('_'))).toEqual([]);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');

    const host = echoOf(await rawRequest(sy.ingress, request('Connection: Host\r\n'))).headers;
    expect(host['host']).toBe(HOST);
    const length = echoOf(await rawRequest(sy.ingress, `POST /l HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close, Content-Length\r\nContent-Length: 5\r\n\r\nhello`));
    expect(length.headers['content-length']).toBe('5');
    expect(length.bodyBytes).toBe(5);
  });

  it('over HTTP/2 too: the spoofed fields are replaced', async () => {
    const { sy } = await proxy([]);
    const session = h2connect(`http://127.0.0.1:${sy.ingress.port}`);
    defer(() => session.destroy());
    const h = (await h2get(session, { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6', x_forwarded_for: '6.6.6.6' })).headers;
    expect([h['x-forwarded-for'], h['forwarded'], h['x_forwarded_for']]).toEqual(['127.0.0.1', undefined, undefined]);
  });
});

describe('--trusted-proxies', () => {
  it('keeps and appends to the forwarding fields of a trusted peer; --headers-with-underscores allow passes underscore names', async () => {
    const { sy } = await proxy(['--trusted-proxies', '127.0.0.1/32', '--headers-with-underscores', 'allow']);
    const h = echoOf(await rawRequest(sy.ingress, request(`${SPOOFED}X_Custom: 1\r\n`))).headers;
    expect(h['x-forwarded-for']).toBe('6.6.6.6, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h['x-forwarded-host']).toBe('evil.example');
    expect(h['x-forwarded-port']).toBe('1');
    expect(h['forwarded']).toBe(`for=6.6.6.6;proto=https, for=127.0.0.1;proto=http;host=${HOST}`);
    expect(h['x_custom']).toBe('1');

    // The same proxy, a peer it does not trust (another loopback source address): replaced.
    const other = echoOf(await rawRequestFrom('127.0.0.9', sy.ingress, request(SPOOFED))).headers;
    expect([other['x-forwarded-for'], other['x-forwarded-proto'], other['forwarded']]).toEqual(['127.0.0.9', 'http', undefined]);
  });

  it('--headers-with-underscores reject answers 400 bad-header-name and the pod sees nothing', async () => {
    const { sy, pod } = await proxy(['--headers-with-underscores', 'reject']);
    const res = await rawRequest(sy.ingress, request('X_Forwarded_For: 6.6.6.6\r\n'));
    expect(res.status).toBe(400);
    expect(res.headers['x-switchyard-error']).toBe('bad-header-name');
    expect(pod.requests).toHaveLength(0);
    expect(echoOf(await rawRequest(sy.ingress, request('X-Custom: 1\r\n'))).headers['x-custom']).toBe('1');
  });
});

// --- PROXY protocol ------------------------------------------------------------------------------

const V1 = Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 40000 443\r\n', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** PROXY TCP6 2001:db8::7 → ::1, with an AWS-style TLV after the addresses. */
const V2 = Buffer.concat([
  V2_SIGNATURE,
  Buffer.from([0x21, 0x21, 0x00, 36 + 7]),
  Buffer.from('20010db8000000000000000000000007', 'hex'),
  Buffer.from('00000000000000000000000000000001', 'hex'),
  Buffer.from([0x9c, 0x40, 0x01, 0xbb]),
  Buffer.from([0xea, 0x00, 0x04, 0x01, 0x76, 0x70, 0x63]),
]);
const V2_LOCAL = Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);

interface Opened {
  readonly socket: Socket;
  /** When the server closed the connection: what it wrote before. Rejects after 5 s. */
  readonly closed: Promise<{ readonly bytes: number; readonly text: string }>;
}

/** Connects (from `localAddress` when given) and writes `first`; watches the connection from the start. */
function open(at: HostPort, first: Buffer, localAddress?: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: at.host, port: at.port, ...(localAddress ? { localAddress } : {}) }, () => {
      socket.off('error', reject);
      // A reset after the server closed is fine: what counts is what it wrote.
      socket.on('error', () => {});
      if (first.length > 0) socket.write(first);
      resolve({ socket, closed });
    });
    defer(() => socket.destroy());
    socket.once('error', reject);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<{ bytes: number; text: string }>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('not closed within 5 s')), 5000);
      socket.once('close', () => {
        clearTimeout(timer);
        const all = Buffer.concat(chunks);
        done({ bytes: all.length, text: all.toString('latin1') });
      });
    });
    closed.catch(() => {});
  });
}

/** An HTTP/1.1 request after a PROXY header, the header and the request in one write; over TLS when asked. */
async function proxiedRequest(at: HostPort, header: Buffer, tls: boolean, extra = ''): Promise<RawResponse> {
  const bytes = Buffer.from(request(extra), 'latin1');
  if (!tls) return rawRequest(at, Buffer.concat([header, bytes]));
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ socket: withHeader(at, header), servername: HOST, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', reject);
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      resolve({ raw: text, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), headers: {}, body: end < 0 ? '' : text.slice(end + 4) });
    });
  });
}

/** A raw request on a connection bound to `localAddress`. */
async function rawRequestFrom(localAddress: string, at: HostPort, text: string): Promise<RawResponse> {
  const raw = (await (await open(at, Buffer.from(text, 'latin1'), localAddress)).closed).text;
  return { raw, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]), headers: {}, body: raw.slice(raw.indexOf('\r\n\r\n') + 4) };
}

function h2get(session: ClientHttp2Session, headers: Record<string, string>): Promise<EchoBody> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/h2', ':authority': HOST, ...headers });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => resolve(JSON.parse(body) as EchoBody));
    stream.on('error', reject);
  });
}

describe('--proxy-protocol', () => {
  it('the PROXY header address is the client: v1 and v2, plaintext and TLS, HTTP/1.1 and HTTP/2', async () => {
    const { sy } = await proxy(['--proxy-protocol', 'true', '--trusted-proxies', '127.0.0.1/32', '--listen-tls', '127.0.0.1:0']);
    const tls = sy.tls!;
    for (const [name, at, secure] of [
      ['plaintext', sy.ingress, false],
      ['TLS', tls, true],
    ] as const) {
      const v1 = echoOf(await proxiedRequest(at, V1, secure, SPOOFED)).headers;
      // 203.0.113.7 is not a trusted proxy: what it says in X-Forwarded-* is replaced like anyone's.
      expect([v1['x-forwarded-for'], v1['x-forwarded-proto'], v1['forwarded']], `${name} v1`).toEqual(['203.0.113.7', secure ? 'https' : 'http', undefined]);
      expect(echoOf(await proxiedRequest(at, V2, secure)).headers['x-forwarded-for'], `${name} v2`).toBe('2001:db8::7');
      // LOCAL (the balancer's own health check): the connection's own address.
      expect(echoOf(await proxiedRequest(at, V2_LOCAL, secure)).headers['x-forwarded-for'], `${name} v2 LOCAL`).toBe('127.0.0.1');
    }

    // HTTP/2 with prior knowledge after the header, and HTTP/2 by ALPN after the header and the handshake.
    const plain = h2connect(`http://${HOST}`, { createConnection: () => withHeader(sy.ingress, V1) });
    defer(() => plain.destroy());
    expect((await h2get(plain, {})).headers['x-forwarded-for']).toBe('203.0.113.7');
    const secure = h2connect(`https://${HOST}`, {
      createConnection: () => tlsConnect({ socket: withHeader(tls, V2), servername: HOST, rejectUnauthorized: false, ALPNProtocols: ['h2'] }),
    });
    defer(() => secure.destroy());
    expect((await h2get(secure, {})).headers['x-forwarded-for']).toBe('2001:db8::7');
  });

  it('the same with the node:http server (--http1-server node): the bytes after the header reach it intact', async () => {
    const { sy } = await proxy(['--proxy-protocol', 'true', '--trusted-proxies', '127.0.0.1/32', '--listen-tls', '127.0.0.1:0', '--http1-server', 'node']);
    expect(echoOf(await proxiedRequest(sy.ingress, V1, false)).headers['x-forwarded-for']).toBe('203.0.113.7');
    expect(echoOf(await proxiedRequest(sy.tls!, V2, true)).headers['x-forwarded-for']).toBe('2001:db8::7');
  });

  it('closes, with nothing written, a connection without a valid header, one from a peer outside --trusted-proxies, and one that sends no header in time', async () => {
    const { sy, pod } = await proxy(['--proxy-protocol', 'true', '--trusted-proxies', '127.0.0.1/32', '--listen-tls', '127.0.0.1:0', '--client-header-timeout', '1s']);
    const tls = sy.tls!;
    // Opened together: the two that wait for the timeout wait side by side.
    const cases: [string, Promise<Opened>][] = [
      ['an HTTP request without a header', open(sy.ingress, Buffer.from(request(), 'latin1'))],
      ['a TLS ClientHello without a header', open(tls, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]))],
      ['a v1 header with a bad address', open(sy.ingress, Buffer.from(`PROXY TCP4 203.0.113.07 127.0.0.1 1 2\r\n${request()}`, 'latin1'))],
      ['a valid header from an untrusted peer', open(sy.ingress, Buffer.concat([V1, Buffer.from(request(), 'latin1')]), '127.0.0.9')],
      ['a valid header from an untrusted peer (TLS)', open(tls, V1, '127.0.0.9')],
      ['half a header, then nothing (timeout)', open(sy.ingress, V1.subarray(0, 10))],
      ['nothing at all (timeout)', open(tls, Buffer.alloc(0))],
    ];
    for (const [name, opening] of cases) expect((await (await opening).closed).bytes, name).toBe(0);
    expect(pod.requests).toHaveLength(0);
    // The listener still serves a proper connection afterwards.
    expect(echoOf(await proxiedRequest(sy.ingress, V1, false)).headers['x-forwarded-for']).toBe('203.0.113.7');
  });
});

/** A socket that has written `header` first: what a balancer speaking the PROXY protocol opens. */
function withHeader(at: HostPort, header: Buffer): Socket {
  const socket = netConnect({ host: at.host, port: at.port });
  socket.write(header);
  defer(() => socket.destroy());
  return socket;
}

describe('TLS listener', () => {
  it('closes a connection that never finishes its handshake once the header timeout passes', async () => {
    const { sy } = await proxy(['--listen-tls', '127.0.0.1:0', '--client-header-timeout', '1s']);
    const silent = await open(sy.tls!, Buffer.from([0x16, 0x03, 0x01]));
    expect((await silent.closed).bytes).toBe(0);
    // Plain requests are unaffected.
    expect((await get(sy.ingress, HOST, '/')).status).toBe(200);
  });
});
