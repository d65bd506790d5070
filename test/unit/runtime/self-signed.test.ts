/** The generated default certificate: Node, OpenSSL and a real TLS handshake all accept it. */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../../src/runtime/self-signed.ts';

const DAY = 86_400_000;

describe('generateSelfSigned', () => {
  it('makes a one-year ECDSA P-256 certificate for switchyard.local and localhost that verifies with its own key', () => {
    const now = Date.now();
    const { certPem, keyPem } = generateSelfSigned({ now });
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(generateSelfSigned().certPem).publicKey)).toBe(false);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.subject).toBe('O=Switchyard\nCN=switchyard.local');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.subjectAltName).toBe('DNS:switchyard.local, DNS:localhost');
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.validFromDate.getTime()).toBe(Math.floor((now - 3_600_000) / 1000) * 1000);
    expect(cert.validToDate.getTime()).toBe(Math.floor((now + 365 * DAY) / 1000) * 1000);
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
  });

  it('takes names and any validity period, including an expired one and dates from 2050 (GeneralizedTime)', () => {
    const cases: [Date, Date][] = [
      [new Date('2020-01-01T00:00:00Z'), new Date('2020-02-01T12:34:56Z')],
      [new Date('2049-12-31T23:59:59Z'), new Date('2050-01-01T00:00:00Z')],
      [new Date('2030-05-06T07:08:09Z'), new Date('2130-05-06T07:08:09Z')],
    ];
    for (const [notBefore, notAfter] of cases) {
      const cert = new X509Certificate(generateSelfSigned({ commonName: 'x.test', dnsNames: ['x.test', '*.y.test'], notBefore, notAfter }).certPem);
      expect(cert.validFromDate.toISOString()).toBe(notBefore.toISOString());
      expect(cert.validToDate.toISOString()).toBe(notAfter.toISOString());
      expect(cert.subjectAltName).toBe('DNS:x.test, DNS:*.y.test');
      expect(cert.verify(cert.publicKey)).toBe(true);
    }
  });

  it('encodes long lengths (many names: a SAN of more than 255 bytes)', () => {
    const dnsNames = Array.from({ length: 40 }, (_, i) => `host-${i}.long-name.example.com`);
    const cert = new X509Certificate(generateSelfSigned({ dnsNames }).certPem);
    expect(cert.subjectAltName!.split(', ')).toHaveLength(40);
    expect(cert.verify(cert.publicKey)).toBe(true);
  });

  it('gives each certificate its own key and serial', () => {
    const a = new X509Certificate(generateSelfSigned().certPem);
    const b = new X509Certificate(generateSelfSigned().certPem);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.publicKey.export({ type: 'spki', format: 'der' }).equals(b.publicKey.export({ type: 'spki', format: 'der' }))).toBe(false);
  });

  it('is accepted by openssl x509 and openssl verify', () => {
    const { certPem } = generateSelfSigned();
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: certPem }).toString();
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(text).toContain('NIST CURVE: P-256');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication/);
    expect(text).toMatch(/X509v3 Subject Alternative Name:\s+DNS:switchyard.local, DNS:localhost/);
    // A self-signed leaf verifies against itself as the trust anchor.
    const dir = mkdtempSync(join(tmpdir(), 'swy-self-signed-'));
    try {
      writeFileSync(join(dir, 'c.pem'), certPem);
      expect(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'c.pem'), join(dir, 'c.pem')]).toString()).toContain(': OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is served in a TLS 1.3 handshake that a client trusting it verifies for localhost', async () => {
    const { certPem, keyPem } = generateSelfSigned();
    const server = createServer({ cert: certPem, key: keyPem }, (s) => s.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername: 'localhost', ca: certPem });
      await once(socket, 'secureConnect');
      expect(socket.authorized).toBe(true);
      expect(socket.getProtocol()).toBe('TLSv1.3');
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it('refuses a time it cannot encode', () => {
    expect(() => generateSelfSigned({ notBefore: new Date('1949-12-31T00:00:00Z') })).toThrow(RangeError);
  });

  it('is not confused by a key made elsewhere (sanity of the test above)', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(new X509Certificate(generateSelfSigned().certPem).checkPrivateKey(other)).toBe(false);
  });
});
