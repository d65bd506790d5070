/**
 * A self-signed ECDSA P-256 certificate made with node:crypto alone: the default certificate served when
 * --default-certificate is not set (or not usable), as ingress-nginx serves its "Fake Certificate".
 *
 * node:crypto signs and parses X.509 but cannot build one, so this module carries the few DER encoders one
 * TBSCertificate (RFC 5280 §4.1) needs. The `selfsigned` package would do the same through @peculiar/x509,
 * pkijs and a dozen more packages.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** A certificate and its private key, both PEM. */
export interface GeneratedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface SelfSignedOptions {
  /** Subject and issuer CN; default `switchyard.local`. */
  readonly commonName?: string;
  /** subjectAltName DNS names; default `[commonName, 'localhost']`. */
  readonly dnsNames?: readonly string[];
  /** Default: one hour before `now`, so a client whose clock is a little behind still accepts it. */
  readonly notBefore?: Date;
  /** Default: 365 days after `now`. */
  readonly notAfter?: Date;
  /** Clock, ms since the epoch; default Date.now(). */
  readonly now?: number;
}

const DAY_MS = 86_400_000;

/** One year (default), ECDSA P-256 with SHA-256, CA:FALSE, serverAuth, SAN from `dnsNames`. */
export function generateSelfSigned(options: SelfSignedOptions = {}): GeneratedCertificate {
  const now = options.now ?? Date.now();
  const commonName = options.commonName ?? 'switchyard.local';
  const dnsNames = options.dnsNames ?? [commonName, 'localhost'];
  const notBefore = options.notBefore ?? new Date(now - 3_600_000);
  const notAfter = options.notAfter ?? new Date(now + 365 * DAY_MS);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and without a leading zero octet
  const name = seq(set(seq(oid('2.5.4.10'), tlv(UTF8_STRING, Buffer.from('Switchyard')))), set(seq(oid('2.5.4.3'), tlv(UTF8_STRING, Buffer.from(commonName)))));
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const extensions = seq(
    extension('2.5.29.19', true, seq()), // basicConstraints: CA:FALSE
    extension('2.5.29.15', true, tlv(BIT_STRING, Buffer.from([7, 0x80]))), // keyUsage: digitalSignature
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
    extension('2.5.29.17', false, seq(...dnsNames.map((n) => tlv(0x82, Buffer.from(n, 'ascii'))))), // subjectAltName: dNSName
  );
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // version v3
    integer(serial),
    ecdsaWithSha256,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value, as X.509 wants it
  const der = seq(tbs, ecdsaWithSha256, tlv(BIT_STRING, Buffer.concat([Buffer.from([0]), signature])));
  return { certPem: pem('CERTIFICATE', der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const BIT_STRING = 0x03;
const UTF8_STRING = 0x0c;

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  if (n < 0x80) return Buffer.concat([Buffer.from([tag, n]), content]);
  const length: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) length.unshift(rest & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | length.length, ...length]), content]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

function set(...parts: Buffer[]): Buffer {
  return tlv(0x31, Buffer.concat(parts));
}

/** A non-negative INTEGER from big-endian bytes. */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = bytes.subarray(start);
  return tlv(0x02, body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), Buffer.from([0x01, 0x01, 0xff]), tlv(0x04, value)) : seq(oid(id), tlv(0x04, value));
}

/** UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5); whole seconds, UTC. */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) throw new RangeError(`certificate time ${iso} cannot be encoded`);
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
