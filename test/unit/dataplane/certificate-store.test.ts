/**
 * The per-process certificate store, through real TLS handshakes on 127.0.0.1: which certificate each
 * server name gets, swaps, context reuse, the shared session-ticket key (resumption across two servers),
 * protocol versions and ciphers.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, TLS12_CIPHERS, TLS_CIPHERS, TLS_CONTEXT_OPTIONS } from '../../../src/dataplane/tls/certificate-store.ts';
import { generateSelfSigned } from '../../../src/runtime/self-signed.ts';
import type { TlsCertificate, TlsTable } from '../../../src/snapshot/types.ts';
import { cleanupAll, defer } from '../../helpers/cleanup.ts';
import { selfSigned, type Pem } from '../support/certs.ts';

afterEach(cleanupAll);

let A: Pem; // a.example.com (ECDSA)
let A2: Pem; // a.example.com, renewed
let B: Pem; // b.example.com (RSA)
let WILD: Pem; // *.example.com
let DEF: Pem; // the generated default
let DEF2: Pem; // another default
let SMALL: Pem; // RSA 1024: OpenSSL refuses it

beforeAll(() => {
  A = selfSigned(['a.example.com']);
  A2 = selfSigned(['a.example.com']);
  B = selfSigned(['b.example.com'], 'rsa');
  WILD = selfSigned(['*.example.com']);
  DEF = generateSelfSigned();
  DEF2 = generateSelfSigned({ commonName: 'other-default.local' });
  SMALL = selfSigned(['a.example.com'], 'rsa1024');
}, 60_000);

const fp = (pem: Pem) => new X509Certificate(pem.certPem).fingerprint256;

function cert(secret: string, pem: Pem): TlsCertificate {
  const x = new X509Certificate(pem.certPem);
  return {
    secret,
    certPem: pem.certPem,
    keyPem: pem.keyPem,
    info: { subject: x.subject, issuer: x.issuer, sans: [], notBefore: x.validFromDate.toISOString(), notAfter: x.validToDate.toISOString(), fingerprint256: x.fingerprint256 },
  };
}

function table(certs: Record<string, Pem>, hosts: Record<string, string>, wildcards: Record<string, string> = {}, defaultKey = ''): TlsTable {
  return {
    certificates: new Map(Object.entries(certs).map(([k, p]) => [k, cert(k, p)])),
    hosts: new Map(Object.entries(hosts)),
    wildcards: new Map(Object.entries(wildcards)),
    defaultKey,
    uses: [],
  };
}

const BASE = () => table({ '': DEF, 'shop/a': A, 'shop/b': B, 'shop/wild': WILD }, { 'a.example.com': 'shop/a', 'b.example.com': 'shop/b' }, { 'example.com': 'shop/wild' });

/** A TLS server answering "ok" served by `store` (its default attached), with ALPN h2 and http/1.1. */
async function serve(store: CertificateStore): Promise<{ server: Server; port: number }> {
  const server = createServer({ ...store.serverOptions(), ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => {
    socket.on('error', () => {});
    socket.end('ok');
  });
  store.attach(server);
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  defer(() => new Promise((resolve) => server.close(resolve)));
  return { server, port: (server.address() as AddressInfo).port };
}

interface Handshake {
  readonly fingerprint: string;
  readonly protocol: string | null;
  readonly cipher: string;
  readonly alpn: string | false | null;
  readonly reused: boolean;
  readonly session: Buffer | undefined;
}

/** One handshake; resolves with what the client saw once the server's "ok" (and any session ticket) arrived. */
async function handshake(port: number, options: ConnectionOptions = {}): Promise<Handshake> {
  const socket: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  defer(() => socket.destroy());
  let session: Buffer | undefined;
  socket.on('session', (s: Buffer) => (session = s));
  await once(socket, 'secureConnect');
  const result = {
    fingerprint: socket.getPeerCertificate().fingerprint256,
    protocol: socket.getProtocol(),
    cipher: socket.getCipher().standardName,
    alpn: socket.alpnProtocol,
    reused: socket.isSessionReused(),
  };
  socket.resume();
  await once(socket, 'end');
  return { ...result, session: session ?? socket.getSession() };
}

async function fails(port: number, options: ConnectionOptions): Promise<Error> {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  defer(() => socket.destroy());
  const [err] = (await once(socket, 'error')) as [Error];
  return err;
}

describe('CertificateStore.select', () => {
  // [server name, expected certificate]
  const cases: [string | undefined, () => Pem][] = [
    ['a.example.com', () => A],
    ['A.Example.COM', () => A],
    ['a.example.com.', () => A],
    ['b.example.com', () => B],
    ['c.example.com', () => WILD],
    ['C.EXAMPLE.com.', () => WILD],
    ['x.c.example.com', () => DEF],
    ['example.com', () => DEF],
    ['.example.com', () => DEF],
    ['unknown.test', () => DEF],
    ['', () => DEF],
    [undefined, () => DEF],
  ];
  it.each(cases)('%j → its certificate', (name, expected) => {
    const store = new CertificateStore();
    store.update(BASE());
    const byName = new Map([[store.select('a.example.com'), A], [store.select('b.example.com'), B], [store.select('c.example.com'), WILD], [store.select(undefined), DEF]]);
    expect(byName.size).toBe(4);
    expect(byName.get(store.select(name))).toBe(expected());
  });

  it('has nothing to offer without any certificate, and a host whose certificate is absent falls to the default', () => {
    const store = new CertificateStore();
    expect(store.select('a.example.com')).toBeUndefined();
    store.update(table({ '': DEF }, { 'a.example.com': 'shop/gone' }));
    expect(store.select('a.example.com')).toBe(store.select(undefined));
  });

  it('reports a certificate OpenSSL refuses and serves its hosts the default', () => {
    const errors: string[] = [];
    const store = new CertificateStore({ onError: (secret) => errors.push(secret) });
    store.update(table({ '': DEF, 'shop/a': SMALL }, { 'a.example.com': 'shop/a' }));
    expect(errors).toEqual(['shop/a']);
    expect(store.loaded()).toEqual(['']);
    expect(store.select('a.example.com')).toBe(store.select(undefined));
  });

  it('keeps the context of an unchanged certificate across updates and makes a new one when it changes', () => {
    const store = new CertificateStore();
    store.update(BASE());
    const a = store.select('a.example.com');
    const def = store.select(undefined);
    store.update(table({ '': DEF, 'shop/a': A, 'shop/new': B }, { 'a.example.com': 'shop/a', 'n.example.com': 'shop/new' }));
    expect(store.select('a.example.com')).toBe(a);
    expect(store.select(undefined)).toBe(def);
    expect(store.loaded().sort()).toEqual(['', 'shop/a', 'shop/new']);
    store.update(table({ '': DEF, 'shop/a': A2 }, { 'a.example.com': 'shop/a' }));
    expect(store.select('a.example.com')).not.toBe(a);
    expect(store.select(undefined)).toBe(def);
  });

  it('refuses a session-ticket key that is not 48 bytes', () => {
    expect(() => new CertificateStore({ ticketKeys: randomBytes(32) })).toThrow(RangeError);
    expect(() => new CertificateStore().setTicketKeys(randomBytes(49))).toThrow(RangeError);
  });
});

describe('CertificateStore over real handshakes', () => {
  it('serves each server name its certificate, and clients without SNI the default', async () => {
    const store = new CertificateStore();
    store.update(BASE());
    const { port } = await serve(store);
    const cases: [string | undefined, Pem][] = [
      ['a.example.com', A],
      ['b.example.com', B],
      ['c.example.com', WILD],
      ['x.c.example.com', DEF],
      ['unknown.test', DEF],
      [undefined, DEF], // connecting to an IP address sends no SNI
    ];
    for (const [servername, expected] of cases) {
      const h = await handshake(port, servername === undefined ? {} : { servername });
      expect(h.fingerprint, String(servername)).toBe(fp(expected));
    }
  });

  it('applies an update to new handshakes without closing open connections, the default included', async () => {
    const store = new CertificateStore();
    store.update(BASE());
    const { server, port } = await serve(store);
    // An open connection that the server has not answered yet.
    const held = connect({ host: '127.0.0.1', port, servername: 'a.example.com', rejectUnauthorized: false });
    defer(() => held.destroy());
    await once(held, 'secureConnect');
    expect(held.getPeerCertificate().fingerprint256).toBe(fp(A));

    store.update(table({ '': DEF2, 'shop/a': A2 }, { 'a.example.com': 'shop/a' }));
    expect((await handshake(port, { servername: 'a.example.com' })).fingerprint).toBe(fp(A2));
    expect((await handshake(port)).fingerprint).toBe(fp(DEF2));
    expect((await handshake(port, { servername: 'b.example.com' })).fingerprint).toBe(fp(DEF2));
    expect(held.destroyed).toBe(false);
    held.resume();
    await once(held, 'end');

    // A second server attached later gets the current default as well.
    const later = await serve(store);
    expect((await handshake(later.port)).fingerprint).toBe(fp(DEF2));
    expect(server.listening).toBe(true);
  });

  it('speaks TLS 1.3 and 1.2 (ECDHE with AEAD only), and refuses TLS 1.1 and CBC-only clients', async () => {
    const store = new CertificateStore();
    store.update(BASE());
    const { port } = await serve(store);
    const t13 = await handshake(port, { servername: 'a.example.com' });
    expect(t13.protocol).toBe('TLSv1.3');
    const ecdsa12 = await handshake(port, { servername: 'a.example.com', maxVersion: 'TLSv1.2' });
    expect(ecdsa12).toMatchObject({ protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256' });
    const rsa12 = await handshake(port, { servername: 'b.example.com', maxVersion: 'TLSv1.2' });
    expect(rsa12).toMatchObject({ protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' });
    const chacha = await handshake(port, { servername: 'b.example.com', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-CHACHA20-POLY1305' });
    expect(chacha.cipher).toBe('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256');
    // Both the server's own context (no SNI) and SNI contexts refuse the old.
    for (const servername of [undefined, 'a.example.com']) {
      const sni = servername ? { servername } : {};
      expect((await fails(port, { ...sni, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })).message).toMatch(/version|protocol/i);
      expect((await fails(port, { ...sni, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256' })).message).toMatch(/handshake failure|no shared cipher|alert/i);
    }
  });

  it('negotiates ALPN on a certificate chosen by SNI', async () => {
    const store = new CertificateStore();
    store.update(BASE());
    const { port } = await serve(store);
    expect((await handshake(port, { servername: 'a.example.com', ALPNProtocols: ['h2', 'http/1.1'] })).alpn).toBe('h2');
    expect((await handshake(port, { servername: 'c.example.com', ALPNProtocols: ['http/1.1'] })).alpn).toBe('http/1.1');
    expect((await handshake(port, { ALPNProtocols: ['h2'] })).alpn).toBe('h2');
  });

  it('documents its cipher lists as constants', () => {
    expect(TLS_CIPHERS.startsWith('TLS_AES_128_GCM_SHA256:')).toBe(true);
    for (const c of TLS12_CIPHERS.split(':')) expect(c).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    expect(TLS_CONTEXT_OPTIONS).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', honorCipherOrder: true, ecdhCurve: 'X25519:P-256:P-384' });
  });
});

describe('session resumption with a shared ticket key', () => {
  // Two servers stand for two worker processes: each its own store, fed the same table and key.
  async function pair(keyA: Buffer, keyB: Buffer) {
    const one = new CertificateStore({ ticketKeys: keyA });
    const two = new CertificateStore({ ticketKeys: keyB });
    one.update(BASE());
    two.update(BASE());
    return { one, two, portOne: (await serve(one)).port, portTwo: (await serve(two)).port };
  }

  // [protocol cap, server name]
  const cases: [string, 'TLSv1.3' | 'TLSv1.2', string | undefined][] = [
    ['TLS 1.3, SNI context', 'TLSv1.3', 'a.example.com'],
    ['TLS 1.3, wildcard context', 'TLSv1.3', 'c.example.com'],
    ['TLS 1.3, no SNI (the server context)', 'TLSv1.3', undefined],
    ['TLS 1.2, SNI context', 'TLSv1.2', 'b.example.com'],
    ['TLS 1.2, no SNI', 'TLSv1.2', undefined],
  ];

  it.each(cases)('resumes on the other server: %s', async (_name, maxVersion, servername) => {
    const key = randomBytes(48);
    const { portOne, portTwo } = await pair(key, Buffer.from(key));
    const sni = servername ? { servername } : {};
    const first = await handshake(portOne, { ...sni, maxVersion });
    expect(first.reused).toBe(false);
    expect(first.session).toBeDefined();
    const second = await handshake(portTwo, { ...sni, maxVersion, session: first.session! });
    expect(second.reused).toBe(true);
    expect(second.protocol).toBe(maxVersion);
  });

  it.each(cases)('does not resume on a server with another key: %s', async (_name, maxVersion, servername) => {
    const { portOne, portTwo } = await pair(randomBytes(48), randomBytes(48));
    const sni = servername ? { servername } : {};
    const first = await handshake(portOne, { ...sni, maxVersion });
    const second = await handshake(portTwo, { ...sni, maxVersion, session: first.session! });
    expect(second.reused).toBe(false);
  });

  it('a new key set on every context (rotation) ends resumption of older tickets and resumes new ones', async () => {
    const key = randomBytes(48);
    const { one, two, portOne, portTwo } = await pair(key, Buffer.from(key));
    const old = await handshake(portOne, { servername: 'a.example.com' });
    const next = randomBytes(48);
    one.setTicketKeys(next);
    two.setTicketKeys(Buffer.from(next));
    expect((await handshake(portTwo, { servername: 'a.example.com', session: old.session! })).reused).toBe(false);
    const fresh = await handshake(portOne, { servername: 'a.example.com' });
    expect((await handshake(portTwo, { servername: 'a.example.com', session: fresh.session! })).reused).toBe(true);
    // Contexts made after the rotation carry the new key too.
    one.update(table({ '': DEF, 'shop/a': A2 }, { 'a.example.com': 'shop/a' }));
    two.update(table({ '': DEF, 'shop/a': A2 }, { 'a.example.com': 'shop/a' }));
    const renewed = await handshake(portOne, { servername: 'a.example.com' });
    expect(renewed.fingerprint).toBe(fp(A2));
    expect((await handshake(portTwo, { servername: 'a.example.com', session: renewed.session! })).reused).toBe(true);
  });
});

describe('CertificateStore.sniCallback', () => {
  const ask = (store: CertificateStore, name: string) =>
    new Promise<unknown>((resolve, reject) => store.sniCallback(name, (err, ctx) => (err ? reject(err) : resolve(ctx))));

  it('hands out the default context only while no server is attached; after attach() the handshake keeps the server context', async () => {
    const store = new CertificateStore();
    store.update(BASE());
    const defaultContext = store.select(undefined);
    expect(defaultContext).toBeDefined();
    expect(await ask(store, 'nobody.example.org')).toBe(defaultContext);
    await serve(store);
    expect(await ask(store, 'nobody.example.org')).toBeUndefined();
    // Names with their own certificate still switch to it.
    expect(await ask(store, 'a.example.com')).toBe(store.select('a.example.com'));
    expect(await ask(store, 'x.example.com')).toBe(store.select('x.example.com'));
    expect(store.select('a.example.com')).not.toBe(defaultContext);
  });
});
