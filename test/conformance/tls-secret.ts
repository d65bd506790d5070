/**
 * Self-signed certificates for the "a self-signed TLS secret named X for the H hostname" step, made
 * with the openssl CLI the way the suite makes its own: RSA 2048, valid for a year, subject
 * `O=Acme Co, CN=default`, the hostnames as DNS (or IP) SANs, serverAuth, not a CA, and the key in
 * PKCS#1 (`RSA PRIVATE KEY`), then wrapped in a `kubernetes.io/tls` Secret.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SelfSigned {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A self-signed certificate for `hosts` (at least one). */
export async function selfSignedCertificate(hosts: readonly string[]): Promise<SelfSigned> {
  if (hosts.length === 0) throw new Error('a self-signed certificate needs at least one host for its SANs');
  for (const h of hosts) if (!/^[A-Za-z0-9.*:-]+$/.test(h)) throw new Error(`not a hostname or IP address: ${JSON.stringify(h)}`);
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const dir = await mkdtemp(join(tmpdir(), 'swy-conformance-tls-'));
  try {
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
    await run('openssl', ['genrsa', '-traditional', '-out', key, '2048'], { timeout: 30_000 });
    await run(
      'openssl',
      [
        'req', '-x509', '-new', '-key', key, '-out', cert, '-days', '365', '-sha256',
        '-subj', '/O=Acme Co/CN=default',
        '-addext', `subjectAltName=${san}`,
        '-addext', 'basicConstraints=critical,CA:FALSE',
        '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
        '-addext', 'extendedKeyUsage=serverAuth',
      ],
      { timeout: 30_000 },
    );
    return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A `kubernetes.io/tls` Secret as the API server stores it (`data` base64). */
export function tlsSecret(namespace: string, name: string, cert: SelfSigned): { metadata: { name: string; namespace: string }; type: string; data: Record<string, string> } {
  return {
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') },
  };
}
