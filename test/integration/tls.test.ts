/**
 * TLS termination through the real CLI, with real clients: certificates from Ingress `tls:` Secrets
 * chosen by SNI (curl --resolve, openssl s_client, node:tls), the default certificate for unknown or no
 * SNI, bad Secrets as diagnostics, hot reload of a Secret without cutting open connections, redirects
 * from plain HTTP, TLS versions, and session resumption across worker processes.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, getJson } from '../helpers/http.ts';
import { ingress, serviceWithPods, tlsSecretOf, tempManifestDir, writeManifest, writeManifestAtomic, type Manifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody, type Pod } from '../helpers/pods.ts';
import { waitUntilWatching, type ConfigView } from '../helpers/reload.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';
import { chained, selfSigned, type Pem } from '../unit/support/certs.ts';

const run = promisify(execFile);

afterEach(cleanupAll);


function withTls(ing: Manifest, tls: readonly { hosts: readonly string[]; secretName: string }[], annotations: Record<string, string> = {}): Manifest {
  const spec = ing['spec'] as Record<string, unknown>;
  const metadata = ing['metadata'] as Record<string, unknown>;
  return { ...ing, metadata: { ...metadata, annotations }, spec: { ...spec, tls } };
}

interface Fixture {
  sy: RunningSwitchyard;
  tls: HostPort;
  dir: string;
  pods: Pod[];
  shop: Pem & { caPem: string };
  wildcard: Pem;
}

/**
 * Service shop/web with one pod; Ingress `shop` for shop.example (its own CA-signed Secret) and
 * *.apps.example (a self-signed wildcard Secret), both with tls entries; Ingress `plain` for
 * plain.example without one.
 */
async function fixture(args: readonly string[] = ['--workers', '1'], extra: readonly Manifest[] = []): Promise<Fixture> {
  const pods = await startPods(['web-1']);
  const dir = await tempManifestDir();
  const shop = chained(['shop.example']);
  const wildcard = selfSigned(['*.apps.example']);
  await writeManifest(dir, 'web.yaml', [
    ...serviceWithPods('web', 'shop', pods),
    tlsSecretOf('shop-tls', 'shop', shop),
    tlsSecretOf('apps-tls', 'shop', wildcard),
    withTls(
      ingress({
        name: 'shop',
        namespace: 'shop',
        rules: [
          { host: 'shop.example', paths: [{ path: '/', service: 'web' }] },
          { host: '*.apps.example', paths: [{ path: '/', service: 'web' }] },
        ],
      }),
      [
        { hosts: ['shop.example'], secretName: 'shop-tls' },
        { hosts: ['*.apps.example'], secretName: 'apps-tls' },
      ],
    ),
    ingress({ name: 'plain', namespace: 'shop', rules: [{ host: 'plain.example', paths: [{ path: '/', service: 'web' }] }] }),
    ...extra,
  ]);
  const sy = await startSwitchyard({ manifests: dir, args: ['--listen-tls', '127.0.0.1:0', ...args] });
  return { sy, tls: sy.tls!, dir, pods, shop, wildcard };
}

/** The certificate served for `servername` (undefined: no SNI), with the negotiated protocol and ALPN. */
function handshake(at: HostPort, servername: string | undefined, options: { alpn?: string[]; session?: Buffer; version?: 'TLSv1.2' | 'TLSv1.3' } = {}): Promise<{ cert: PeerCertificate; protocol: string | null; alpn: string | false | null; reused: boolean; session: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({
      host: at.host,
      port: at.port,
      rejectUnauthorized: false,
      ...(servername !== undefined ? { servername } : {}),
      ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
      ...(options.session ? { session: options.session } : {}),
      ...(options.version ? { minVersion: options.version, maxVersion: options.version } : {}),
    });
    let session: Buffer | undefined;
    socket.on('session', (s: Buffer) => (session = s));
    socket.once('secureConnect', () => {
      const result = { cert: socket.getPeerCertificate(), protocol: socket.getProtocol(), alpn: socket.alpnProtocol, reused: socket.isSessionReused() };
      // TLS 1.3 tickets arrive after the handshake: give them a moment before closing.
      setTimeout(() => {
        socket.end();
        resolve({ ...result, session });
      }, 50);
    });
    socket.once('error', reject);
  });
}

const fingerprintOf = (pem: string): string => new X509Certificate(pem.split(/(?<=-----END CERTIFICATE-----)/)[0]!).fingerprint256;

async function curl(args: readonly string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run('curl', ['-sS', '--max-time', '5', ...args], { encoding: 'utf8' });
    return { stdout, code: 0 };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { stdout: e.stdout ?? '', code: typeof e.code === 'number' ? e.code : -1 };
  }
}

async function sClient(at: HostPort, args: readonly string[]): Promise<string> {
  const child = run('openssl', ['s_client', '-connect', `${at.host}:${at.port}`, ...args], { encoding: 'utf8', timeout: 5000 });
  child.child.stdin?.end();
  try {
    const { stdout, stderr } = await child;
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return (e.stdout ?? '') + (e.stderr ?? '');
  }
}

describe('TLS termination', () => {
  it('serves each host its Ingress Secret by SNI (exact and one-label wildcard), verified by curl against the CA', async () => {
    const f = await fixture();
    const exact = await handshake(f.tls, 'shop.example');
    expect(exact.cert.fingerprint256).toBe(fingerprintOf(f.shop.certPem));
    const wild = await handshake(f.tls, 'a.apps.example');
    expect(wild.cert.fingerprint256).toBe(fingerprintOf(f.wildcard.certPem));
    // One label only: a.b.apps.example is not covered by *.apps.example.
    const deep = await handshake(f.tls, 'a.b.apps.example');
    expect(deep.cert.fingerprint256).not.toBe(fingerprintOf(f.wildcard.certPem));

    const dir = await tempManifestDir('swy-ca-');
    const caFile = await writeManifest(dir, 'ca.pem', f.shop.caPem);
    const res = await curl(['--cacert', caFile, '--resolve', `shop.example:${f.tls.port}:127.0.0.1`, '-D', '-', `https://shop.example:${f.tls.port}/hello?x=1`]);
    expect(res.code).toBe(0);
    const [head, body] = res.stdout.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/(1\.1|2) 200/);
    expect(head).toMatch(/^server: /im);
    const seen = JSON.parse(body!) as EchoBody;
    expect(seen.url).toBe('/hello?x=1');
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-forwarded-port']).toBe(String(f.tls.port));
    expect(seen.headers['host']).toBe(`shop.example:${f.tls.port}`);
  });

  it('gives an unknown SNI name and a client without SNI the generated default certificate (openssl s_client)', async () => {
    const f = await fixture();
    const unknown = await handshake(f.tls, 'nobody.example');
    const none = await handshake(f.tls, undefined);
    expect(unknown.cert.fingerprint256).toBe(none.cert.fingerprint256);
    expect(unknown.cert.fingerprint256).not.toBe(fingerprintOf(f.shop.certPem));
    const out = await sClient(f.tls, ['-noservername']);
    expect(out).toMatch(/BEGIN CERTIFICATE|Server certificate/);
    expect(out).not.toMatch(/CN ?= ?shop\.example/);
    const named = await sClient(f.tls, ['-servername', 'shop.example']);
    expect(named).toMatch(/CN ?= ?shop\.example/);
    // A warning says the default certificate is self-signed.
    expect(f.sy.logs.some((l) => l.level === 'warn' && /self-signed/i.test(l.msg))).toBe(true);
  });

  it('speaks TLS 1.2 and 1.3 only, and offers h2 and http/1.1 by ALPN', async () => {
    const f = await fixture();
    expect((await handshake(f.tls, 'shop.example')).protocol).toBe('TLSv1.3');
    expect(await sClient(f.tls, ['-servername', 'shop.example', '-tls1_2'])).toMatch(/Protocol *: TLSv1\.2|TLSv1\.2/);
    const old = await sClient(f.tls, ['-servername', 'shop.example', '-tls1_1']);
    // The summary names the protocol it tried; nothing was agreed: no certificate, no cipher.
    expect(old).toMatch(/no peer certificate available/);
    expect(old).toMatch(/Cipher is \(NONE\)|Cipher *: 0000/);
    expect((await handshake(f.tls, 'shop.example', { alpn: ['h2', 'http/1.1'] })).alpn).toBe('h2');
    expect((await handshake(f.tls, 'shop.example', { alpn: ['http/1.1'] })).alpn).toBe('http/1.1');
    const alpn = await sClient(f.tls, ['-servername', 'shop.example', '-alpn', 'h2']);
    expect(alpn).toMatch(/ALPN protocol: h2/);
  });

  it('a bad Secret is a diagnostic naming it, and its hosts get the default certificate; Switchyard keeps serving', async () => {
    const other = selfSigned(['bad.example']);
    const mismatched = { certPem: other.certPem, keyPem: selfSigned(['x.example']).keyPem };
    const f = await fixture(['--workers', '1'], [
      tlsSecretOf('bad-tls', 'shop', mismatched),
      withTls(ingress({ name: 'bad', namespace: 'shop', rules: [{ host: 'bad.example', paths: [{ path: '/', service: 'web' }] }] }), [{ hosts: ['bad.example'], secretName: 'bad-tls' }]),
      withTls(ingress({ name: 'missing', namespace: 'shop', rules: [{ host: 'missing.example', paths: [{ path: '/', service: 'web' }] }] }), [{ hosts: ['missing.example'], secretName: 'no-such-secret' }]),
    ]);
    const config = await getJson<ConfigView>(f.sy.admin, '/api/v1/config');
    const tlsDiagnostics = config.body.diagnostics.filter((d) => /TLS/.test(d.code));
    expect(tlsDiagnostics.some((d) => d.severity === 'error' && /shop\/bad-tls/.test(d.message) && /match/i.test(d.message))).toBe(true);
    expect(tlsDiagnostics.some((d) => /no-such-secret/.test(d.message))).toBe(true);
    const bad = await handshake(f.tls, 'bad.example');
    const fallback = await handshake(f.tls, 'nobody.example');
    expect(bad.cert.fingerprint256).toBe(fallback.cert.fingerprint256);
    expect((await handshake(f.tls, 'missing.example')).cert.fingerprint256).toBe(fallback.cert.fingerprint256);
    expect((await get(f.sy.ingress, 'plain.example', '/')).status).toBe(200);
    const certs = await getJson<{ certificates: { secret: string; error?: string | null; hosts: string[] }[] }>(f.sy.admin, '/api/v1/certificates');
    expect(certs.status).toBe(200);
    const entry = certs.body.certificates.find((c) => c.secret === 'shop/bad-tls');
    expect(entry?.error).toMatch(/match/i);
    expect(JSON.stringify(certs.body)).not.toMatch(/PRIVATE KEY/);
  });

  it.each([['1'], ['2']])('a Secret edit reaches new handshakes within 1 s without cutting an open connection (--workers %s)', async (workers) => {
    const f = await fixture(['--workers', workers]);
    await waitUntilWatching(f.sy, f.dir);
    const open = connect({ host: f.tls.host, port: f.tls.port, servername: 'shop.example', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    defer(() => void open.destroy());
    await new Promise<void>((resolve, reject) => open.once('secureConnect', resolve).once('error', reject));
    const replacement = selfSigned(['shop.example']);
    await writeManifestAtomic(f.dir, 'replacement.yaml', [tlsSecretOf('shop-tls-2', 'shop', replacement)]);
    // Point the Ingress at the new Secret: an Ingress edit and a Secret both count.
    const started = Date.now();
    await writeManifestAtomic(f.dir, 'web.yaml', [
      ...serviceWithPods('web', 'shop', f.pods),
      tlsSecretOf('shop-tls', 'shop', replacement),
      tlsSecretOf('apps-tls', 'shop', f.wildcard),
      withTls(ingress({ name: 'shop', namespace: 'shop', rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'web' }] }] }), [{ hosts: ['shop.example'], secretName: 'shop-tls' }]),
    ]);
    await waitFor(async () => (await handshake(f.tls, 'shop.example')).cert.fingerprint256 === fingerprintOf(replacement.certPem) || undefined, { timeoutMs: 1000, intervalMs: 20, what: 'the new certificate' });
    expect(Date.now() - started).toBeLessThan(1500);
    // Every worker: connections are dealt to them in turn.
    for (let i = 0; i < 4; i++) expect((await handshake(f.tls, 'shop.example')).cert.fingerprint256, `handshake ${i}`).toBe(fingerprintOf(replacement.certPem));
    // The connection opened before the edit still carries requests.
    const answer = await new Promise<string>((resolve, reject) => {
      let data = '';
      open.on('data', (c: Buffer) => {
        data += c.toString('latin1');
        if (data.includes('"pod"')) resolve(data);
      });
      open.once('error', reject);
      open.write('GET /after HTTP/1.1\r\nHost: shop.example\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });

  it('closes a plaintext client on the TLS port without harm', async () => {
    const f = await fixture();
    const closed = await new Promise<string>((resolve) => {
      const s = netConnect(f.tls.port, f.tls.host, () => s.write('GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n'));
      let data = '';
      s.on('data', (c: Buffer) => (data += c.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => resolve(data));
    });
    expect(closed).not.toMatch(/^HTTP\/1\.1 200/);
    expect((await handshake(f.tls, 'shop.example')).cert.fingerprint256).toBe(fingerprintOf(f.shop.certPem));
  });

  it('openssl s_client resumes a saved session (-sess_out, -sess_in)', async () => {
    const f = await fixture(['--workers', '2']);
    const dir = await tempManifestDir('swy-sess-');
    const file = `${dir}/session.pem`;
    expect(await sClient(f.tls, ['-servername', 'shop.example', '-tls1_2', '-sess_out', file])).toMatch(/^New, TLSv1\.2/m);
    for (let i = 0; i < 3; i++) expect(await sClient(f.tls, ['-servername', 'shop.example', '-tls1_2', '-sess_in', file])).toMatch(/^Reused, TLSv1\.2/m);
  });

  it('rotates the session-ticket key in every worker at once: sessions resume on both workers until the next rotation, then not', async () => {
    const f = await fixture(['--workers', '2', '--tls-ticket-rotation', '3s', '--log-level', 'debug']);
    const rotations = (): number => f.sy.logs.filter((l) => l.msg === 'TLS session-ticket key rotated').length;
    const seen = rotations();
    await waitFor(() => rotations() > seen || undefined, { timeoutMs: 5000, intervalMs: 20, what: 'a key rotation' });
    // Just after a rotation: three seconds before the next one.
    const first = await handshake(f.tls, 'shop.example', { version: 'TLSv1.2' });
    for (let i = 0; i < 4; i++) expect((await handshake(f.tls, 'shop.example', { session: first.session!, version: 'TLSv1.2' })).reused, `resumption ${i}`).toBe(true);
    const now = rotations();
    await waitFor(() => rotations() > now || undefined, { timeoutMs: 5000, intervalMs: 20, what: 'the next rotation' });
    // The old ticket is refused on every worker now (each would resume it with a stale key).
    for (let i = 0; i < 2; i++) expect((await handshake(f.tls, 'shop.example', { session: first.session!, version: 'TLSv1.2' })).reused, `after rotation ${i}`).toBe(false);
  });

  it('resumes sessions whichever worker the client lands on (shared ticket keys), TLS 1.3 and 1.2', async () => {
    const f = await fixture(['--workers', '2']);
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      const first = await new Promise<Buffer>((resolve, reject) => {
        const s = connect({ host: f.tls.host, port: f.tls.port, servername: 'shop.example', rejectUnauthorized: false, minVersion: version, maxVersion: version });
        s.once('session', (session: Buffer) => {
          s.end();
          resolve(session);
        });
        s.once('error', reject);
      });
      // Connections are dealt to the two workers in turn: six in a row land on both.
      for (let i = 0; i < 6; i++) {
        const again = await handshake(f.tls, 'shop.example', { session: first, version });
        expect(again.reused, `${version} resumption ${i}`).toBe(true);
      }
    }
  });
});

describe('HTTP to HTTPS', () => {
  it('redirects plain HTTP for hosts with a tls entry with 308 to the TLS port, keeping path and query', async () => {
    const f = await fixture();
    const res = await get(f.sy.ingress, `shop.example:${f.sy.ingress.port}`, '/cart?id=7');
    expect(res.status).toBe(308);
    expect(res.headers['location']).toBe(`https://shop.example:${f.tls.port}/cart?id=7`);
    expect(f.pods[0]!.requests).toHaveLength(0);
    expect((await get(f.sy.ingress, 'x.apps.example', '/')).status).toBe(308);
    // Not for hosts without one, nor for ACME HTTP-01 challenges.
    expect((await get(f.sy.ingress, 'plain.example', '/')).status).toBe(200);
    expect((await get(f.sy.ingress, 'shop.example', '/.well-known/acme-challenge/token-1')).status).toBe(200);
  });

  it('switchyard.dev/ssl-redirect "false" turns it off; force-ssl-redirect "true" turns it on without a tls entry', async () => {
    const f = await fixture(['--workers', '1'], [
      withTls(ingress({ name: 'keep-plain', namespace: 'shop', rules: [{ host: 'keep.example', paths: [{ path: '/', service: 'web' }] }] }), [{ hosts: ['keep.example'], secretName: 'shop-tls' }], {
        'switchyard.dev/ssl-redirect': 'false',
      }),
      withTls(ingress({ name: 'lb-tls', namespace: 'shop', rules: [{ host: 'lb.example', paths: [{ path: '/', service: 'web' }] }] }), [], { 'switchyard.dev/force-ssl-redirect': 'true' }),
    ]);
    expect((await get(f.sy.ingress, 'keep.example', '/')).status).toBe(200);
    const forced = await get(f.sy.ingress, 'lb.example', '/x');
    expect(forced.status).toBe(308);
    expect(forced.headers['location']).toBe(`https://lb.example:${f.tls.port}/x`);
  });

  it('never redirects without a TLS listener', async () => {
    const pods = await startPods(['web-1']);
    const dir = await tempManifestDir();
    await writeManifest(dir, 'web.yaml', [
      ...serviceWithPods('web', 'shop', pods),
      tlsSecretOf('shop-tls', 'shop', selfSigned(['shop.example'])),
      withTls(ingress({ name: 'shop', namespace: 'shop', rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'web' }] }] }), [{ hosts: ['shop.example'], secretName: 'shop-tls' }]),
    ]);
    const sy = await startSwitchyard({ manifests: dir });
    expect((await get(sy.ingress, 'shop.example', '/')).status).toBe(200);
  });
});
