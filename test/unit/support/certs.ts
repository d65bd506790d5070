/**
 * Test certificates made with the openssl CLI (RSA, ECDSA, chains, encrypted keys) and with our own
 * generator (any validity period, e.g. already expired). Each call works in its own temp dir, removed
 * before returning.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly certPem: string;
  readonly keyPem: string;
}

function inTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'swy-certs-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(args: readonly string[], dir: string): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

const KEY_ARGS = { rsa: ['-newkey', 'rsa:2048'], ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], rsa1024: ['-newkey', 'rsa:1024'] } as const;

/** A self-signed certificate for `names` (the first is the CN), valid `days` from now. */
export function selfSigned(names: readonly string[], key: keyof typeof KEY_ARGS = 'ec', days = 30): Pem {
  return inTemp((dir) => {
    const san = names.map((n) => `DNS:${n}`).join(',');
    openssl(['req', '-x509', ...KEY_ARGS[key], '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', String(days), '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`], dir);
    return { certPem: readFileSync(join(dir, 'c.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'k.pem'), 'utf8') };
  });
}

/** A leaf for `names` signed by a fresh CA: `certPem` is leaf then CA; `caPem` the CA alone. */
export function chained(names: readonly string[]): Pem & { readonly caPem: string } {
  return inTemp((dir) => {
    openssl(['req', '-x509', ...KEY_ARGS.ec, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Test CA'], dir);
    openssl(['req', '-new', ...KEY_ARGS.ec, '-nodes', '-keyout', 'k.pem', '-out', 'leaf.csr', '-subj', `/CN=${names[0]}`], dir);
    writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
    openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '30', '-extfile', 'ext.cnf'], dir);
    const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    return { certPem: readFileSync(join(dir, 'leaf.pem'), 'utf8') + caPem, keyPem: readFileSync(join(dir, 'k.pem'), 'utf8'), caPem };
  });
}

/** `keyPem` encrypted with AES-256 under the passphrase `x` (PKCS#8 `ENCRYPTED PRIVATE KEY`). */
export function encrypted(keyPem: string): string {
  return inTemp((dir) => {
    writeFileSync(join(dir, 'k.pem'), keyPem);
    openssl(['pkey', '-in', 'k.pem', '-aes256', '-passout', 'pass:x', '-out', 'e.pem'], dir);
    return readFileSync(join(dir, 'e.pem'), 'utf8');
  });
}

/** `keyPem` in the legacy PEM encryption (`Proc-Type: 4,ENCRYPTED`). */
export function encryptedLegacy(keyPem: string): string {
  return inTemp((dir) => {
    writeFileSync(join(dir, 'k.pem'), keyPem);
    openssl(['ec', '-in', 'k.pem', '-aes256', '-passout', 'pass:x', '-out', 'e.pem'], dir);
    return readFileSync(join(dir, 'e.pem'), 'utf8');
  });
}
