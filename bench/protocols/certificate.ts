/**
 * The one certificate every TLS figure uses: ECDSA P-256, self-signed, made with the openssl command into
 * the bench's scratch directory. Switchyard reads it as a `kubernetes.io/tls` Secret, nginx as files, so
 * both sign handshakes with the same key.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface BenchCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 fingerprint as node:tls reports it (`AB:CD:…`): what the preflight expects from every TLS listener. */
  readonly fingerprint256: string;
  /** `prime256v1` (P-256), checked after generation. */
  readonly curve: string;
}

/** subjectAltName value for `hosts`: `DNS:a,DNS:b`. */
export function subjectAltName(hosts: readonly string[]): string {
  if (hosts.length === 0) throw new Error('a certificate needs at least one host');
  for (const h of hosts) if (!/^[a-z0-9*]([a-z0-9.-]*[a-z0-9])?$/i.test(h)) throw new Error(`not a DNS name: ${JSON.stringify(h)}`);
  return hosts.map((h) => `DNS:${h}`).join(',');
}

/**
 * Writes cert.pem and key.pem (PKCS#8) into `dir`, valid for two days from now for `hosts` (the first is
 * also the subject CN). Throws when openssl is missing or the result is not an ECDSA P-256 pair.
 */
export function makeCertificate(dir: string, hosts: readonly string[]): BenchCertificate {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${hosts[0]}`, '-addext', `subjectAltName=${subjectAltName(hosts)}`],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 },
  );
  const certPem = readFileSync(certFile, 'utf8');
  const keyPem = readFileSync(keyFile, 'utf8');
  const key = createPrivateKey(keyPem);
  const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') throw new Error(`openssl made a ${key.asymmetricKeyType} ${curve} key, not ECDSA P-256`);
  const x509 = new X509Certificate(certPem);
  if (!x509.checkPrivateKey(key)) throw new Error('openssl made a certificate that does not match its key');
  return { certFile, keyFile, certPem, keyPem, fingerprint256: x509.fingerprint256, curve };
}
