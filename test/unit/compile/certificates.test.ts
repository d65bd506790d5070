/**
 * Ingress `tls:` entries and Secrets → the TLS table (compile/certificates.ts through compile()), and the
 * HTTPS-redirect rule of the routes. Certificates are real: openssl CLI and our own generator.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dnsNames, normalizeTlsHost } from '../../../src/compile/certificates.ts';
import { compile, type CompileOptions } from '../../../src/compile/compile.ts';
import { generateSelfSigned } from '../../../src/runtime/self-signed.ts';
import type { Diagnostic } from '../../../src/snapshot/types.ts';
import { chained, encrypted, encryptedLegacy, selfSigned, type Pem } from '../support/certs.ts';
import { DEFAULT_OPTIONS, service, storeView, type Obj } from '../support/k8s.ts';

/** Set once the openssl certificates exist: they are valid from the second they were made. */
let NOW = 0;
const DAY = 86_400_000;

interface IngressSpec {
  readonly hosts?: readonly string[];
  readonly tls?: readonly { hosts?: readonly string[]; secretName?: string }[];
  readonly namespace?: string;
  readonly created?: string;
  readonly annotations?: Record<string, string>;
  readonly ingressClassName?: string;
}

function ing(name: string, spec: IngressSpec): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: spec.namespace ?? 'shop',
      ...(spec.created ? { creationTimestamp: spec.created } : {}),
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    },
    spec: {
      ...(spec.ingressClassName ? { ingressClassName: spec.ingressClassName } : {}),
      ...(spec.tls ? { tls: spec.tls } : {}),
      rules: (spec.hosts ?? []).map((h) => ({
        ...(h === '' ? {} : { host: h }),
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] },
      })),
    },
  };
}

function secret(name: string, data: { crt?: string; key?: string }, opts: { namespace?: string; type?: string; stringData?: boolean } = {}): Obj {
  const entries: Record<string, string> = {};
  if (data.crt !== undefined) entries['tls.crt'] = opts.stringData ? data.crt : Buffer.from(data.crt).toString('base64');
  if (data.key !== undefined) entries['tls.key'] = opts.stringData ? data.key : Buffer.from(data.key).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: opts.namespace ?? 'shop' },
    type: opts.type ?? 'kubernetes.io/tls',
    [opts.stringData ? 'stringData' : 'data']: entries,
  };
}

const tlsSecret = (name: string, pem: Pem, opts: { namespace?: string; stringData?: boolean } = {}) => secret(name, { crt: pem.certPem, key: pem.keyPem }, opts);

const SERVICES: Obj[] = [service('web', [{ port: 80 }], { namespace: 'shop' }), service('web', [{ port: 80 }], { namespace: 'other' })];

let A: Pem; // ECDSA, a.example.com
let B: Pem; // RSA, b.example.com
let WILD: Pem; // ECDSA, *.example.com
let CHAIN: Pem & { caPem: string };
let DEFAULT: Pem;
let GENERATED: Pem;
let SMALL: Pem; // RSA 1024: OpenSSL refuses it
let EXPIRED: Pem;
let FUTURE: Pem;

beforeAll(() => {
  A = selfSigned(['a.example.com']);
  B = selfSigned(['b.example.com'], 'rsa');
  WILD = selfSigned(['*.example.com']);
  CHAIN = chained(['c.example.com']);
  DEFAULT = selfSigned(['default.example.com']);
  SMALL = selfSigned(['small.example.com'], 'rsa1024');
  NOW = Date.now();
  GENERATED = generateSelfSigned({ now: NOW });
  EXPIRED = generateSelfSigned({ commonName: 'old.example.com', notBefore: new Date(NOW - 30 * DAY), notAfter: new Date(NOW - DAY) });
  FUTURE = generateSelfSigned({ commonName: 'future.example.com', notBefore: new Date(NOW + DAY), notAfter: new Date(NOW + 30 * DAY) });
}, 60_000);

function run(objs: readonly Obj[], options: Partial<CompileOptions> = {}) {
  return compile(storeView([...SERVICES, ...objs]), { ...DEFAULT_OPTIONS, generatedCertificate: GENERATED, now: NOW, ...options });
}

const tlsDiags = (ds: readonly Diagnostic[]) => ds.filter((d) => d.code.startsWith('TLS_') || d.code.startsWith('ANNOTATION_')).map((d) => `${d.severity} ${d.code} ${d.kind} ${d.namespace}/${d.name}`);

describe('normalizeTlsHost', () => {
  it.each([
    ['a.example.com', 'a.example.com'],
    ['A.Example.COM', 'a.example.com'],
    ['a.example.com.', 'a.example.com'],
    ['*.example.com', '*.example.com'],
    ['*.Example.com.', '*.example.com'],
    ['*', undefined],
    ['*.', undefined],
    ['a.*.com', undefined],
    ['*.*.example.com', undefined],
    ['foo*.example.com', undefined],
    ['', undefined],
    ['a b.com', undefined],
    ['a.com:443', undefined],
  ])('%j → %j', (input, out) => expect(normalizeTlsHost(input)).toBe(out));
});

describe('dnsNames (Node subjectAltName text)', () => {
  it.each([
    [undefined, []],
    ['DNS:a.example.com', ['a.example.com']],
    ['DNS:a.example.com, DNS:*.b.example.com, IP Address:127.0.0.1', ['a.example.com', '*.b.example.com']],
    ['DNS:"a,b.example.com", DNS:c.example.com', ['a,b.example.com', 'c.example.com']],
    ['email:x@example.com, URI:https://x', []],
  ])('%j → %j', (san, names) => expect(dnsNames(san)).toEqual(names));
});

describe('compileCertificates: certificates chosen by host', () => {
  it('maps an exact host to its Secret, with the certificate parsed once', () => {
    const out = run([ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }] }), tlsSecret('a-tls', A)]);
    expect(tlsDiags(out.diagnostics)).toEqual([]);
    expect([...out.tls.hosts]).toEqual([['a.example.com', 'shop/a-tls']]);
    expect(out.tls.defaultKey).toBe('');
    expect([...out.tls.certificates.keys()].sort()).toEqual(['', 'shop/a-tls']);
    const cert = out.tls.certificates.get('shop/a-tls')!;
    expect(cert.certPem).toContain('-----BEGIN CERTIFICATE-----');
    expect(cert.keyPem).toBe(A.keyPem);
    expect(cert.info).toMatchObject({ subject: 'CN=a.example.com', issuer: 'CN=a.example.com', sans: ['a.example.com'] });
    expect(Date.parse(cert.info.notAfter) - Date.now()).toBeGreaterThan(29 * DAY);
    expect(cert.info.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(out.tls.uses).toEqual([
      { secret: '', hosts: [], ingresses: [], isDefault: true, info: out.tls.certificates.get('')!.info, error: undefined },
      { secret: 'shop/a-tls', hosts: ['a.example.com'], ingresses: ['shop/a'], isDefault: false, info: cert.info, error: undefined },
    ]);
    // A second compile of other objects reuses the parse (same info object).
    const again = run([ing('a', { hosts: ['a.example.com', 'x.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }] }), tlsSecret('a-tls', A)]);
    expect(again.tls.certificates.get('shop/a-tls')!.info).toBe(cert.info);
  });

  it('reads RSA and ECDSA keys, data and stringData, and keeps a chain leaf first', () => {
    const out = run([
      ing('x', {
        hosts: ['a.example.com', 'b.example.com', 'c.example.com'],
        tls: [
          { hosts: ['a.example.com'], secretName: 'a-tls' },
          { hosts: ['b.example.com'], secretName: 'b-tls' },
          { hosts: ['c.example.com'], secretName: 'c-tls' },
        ],
      }),
      tlsSecret('a-tls', A, { stringData: true }),
      tlsSecret('b-tls', B),
      tlsSecret('c-tls', CHAIN),
    ]);
    expect(tlsDiags(out.diagnostics)).toEqual([]);
    expect([...out.tls.hosts].sort()).toEqual([
      ['a.example.com', 'shop/a-tls'],
      ['b.example.com', 'shop/b-tls'],
      ['c.example.com', 'shop/c-tls'],
    ]);
    const chain = out.tls.certificates.get('shop/c-tls')!;
    expect(chain.certPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(chain.certPem.endsWith(CHAIN.caPem)).toBe(true);
    expect(chain.info).toMatchObject({ subject: 'CN=c.example.com', issuer: 'CN=Test CA', sans: ['c.example.com'] });
  });

  it('maps wildcards by suffix and normalises host case and trailing dots', () => {
    const out = run([
      ing('w', { hosts: ['*.example.com'], tls: [{ hosts: ['*.Example.com', 'A.EXAMPLE.com.'], secretName: 'wild' }] }),
      tlsSecret('wild', WILD),
    ]);
    expect([...out.tls.wildcards]).toEqual([['example.com', 'shop/wild']]);
    expect([...out.tls.hosts]).toEqual([['a.example.com', 'shop/wild']]);
    expect(out.tls.uses.find((u) => u.secret === 'shop/wild')!.hosts).toEqual(['*.example.com', 'a.example.com']);
  });

  it('reports an invalid tls host and ignores it', () => {
    const out = run([ing('w', { hosts: ['a.example.com'], tls: [{ hosts: ['*.*.example.com', 'a.example.com'], secretName: 'a-tls' }] }), tlsSecret('a-tls', A)]);
    expect(tlsDiags(out.diagnostics)).toEqual(['warning TLS_HOST_INVALID Ingress shop/w']);
    expect([...out.tls.hosts.keys()]).toEqual(['a.example.com']);
    expect(out.tls.wildcards.size).toBe(0);
  });

  it('covers the rule hosts of its own Ingress when a tls entry lists no hosts', () => {
    const out = run([ing('a', { hosts: ['a.example.com', '', '*.example.com'], tls: [{ secretName: 'wild' }] }), tlsSecret('wild', WILD)]);
    expect([...out.tls.hosts]).toEqual([['a.example.com', 'shop/wild']]);
    expect([...out.tls.wildcards]).toEqual([['example.com', 'shop/wild']]);
  });

  it('serves the default certificate for a tls entry without secretName, without a diagnostic', () => {
    const out = run([ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'] }] })]);
    expect(tlsDiags(out.diagnostics)).toEqual([]);
    expect([...out.tls.hosts]).toEqual([['a.example.com', '']]);
    expect(out.tls.uses.map((u) => u.secret)).toEqual(['']);
  });

  it('ignores tls entries of Ingresses of another class', () => {
    const out = run([ing('a', { ingressClassName: 'nginx', hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'nope' }] })]);
    expect(tlsDiags(out.diagnostics)).toEqual([]);
    expect(out.tls.hosts.size).toBe(0);
    expect(out.tls.uses.map((u) => u.secret)).toEqual(['']);
  });

  it('needs the Secret in the Ingress namespace', () => {
    const out = run([ing('a', { namespace: 'other', hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }] }), tlsSecret('a-tls', A)]);
    expect(tlsDiags(out.diagnostics)).toEqual(['error TLS_SECRET_MISSING Secret other/a-tls']);
    expect([...out.tls.hosts]).toEqual([['a.example.com', '']]);
  });
});

describe('compileCertificates: the default certificate', () => {
  it('is the generated one without --default-certificate', () => {
    const out = run([]);
    expect(out.tls.defaultKey).toBe('');
    expect(out.tls.certificates.get('')!.info.sans).toEqual(['switchyard.local', 'localhost']);
    expect(out.tls.uses).toEqual([{ secret: '', hosts: [], ingresses: [], isDefault: true, info: out.tls.certificates.get('')!.info, error: undefined }]);
  });

  it('is absent with neither a generated one nor a default Secret', () => {
    const out = run([], { generatedCertificate: undefined });
    expect(out.tls.certificates.size).toBe(0);
    expect(out.tls.uses).toEqual([]);
  });

  it('is the --default-certificate Secret when usable (also for hosts whose Secret is bad), and the generated one is not loaded', () => {
    const out = run(
      [
        ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'missing' }] }),
        tlsSecret('fallback', DEFAULT, { namespace: 'infra' }),
      ],
      { defaultCertificate: 'infra/fallback' },
    );
    expect(out.tls.defaultKey).toBe('infra/fallback');
    expect([...out.tls.certificates.keys()]).toEqual(['infra/fallback']);
    expect([...out.tls.hosts]).toEqual([['a.example.com', 'infra/fallback']]);
    expect(out.tls.uses.map((u) => [u.secret, u.isDefault, u.error === undefined])).toEqual([
      ['infra/fallback', true, true],
      ['shop/missing', false, false],
    ]);
  });

  it('is also listed with its hosts when an Ingress references it', () => {
    const out = run([ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }] }), tlsSecret('a-tls', A)], { defaultCertificate: 'shop/a-tls' });
    expect(out.tls.uses).toEqual([{ secret: 'shop/a-tls', hosts: ['a.example.com'], ingresses: ['shop/a'], isDefault: true, info: out.tls.certificates.get('shop/a-tls')!.info, error: undefined }]);
  });

  it.each([
    ['missing', () => [], 'TLS_SECRET_MISSING'],
    ['expired', () => [tlsSecret('fallback', EXPIRED, { namespace: 'infra' })], 'TLS_CERT_EXPIRED'],
    ['of the wrong type', () => [secret('fallback', { crt: 'x', key: 'y' }, { namespace: 'infra', type: 'Opaque' })], 'TLS_SECRET_INVALID'],
  ] as [string, () => Obj[], string][])('falls back to the generated one when the Secret is %s, with an error', (_name, objs, code) => {
    const out = run(objs(), { defaultCertificate: 'infra/fallback' });
    expect(out.tls.defaultKey).toBe('');
    expect(out.tls.certificates.has('')).toBe(true);
    expect(tlsDiags(out.diagnostics)).toEqual([`error ${code} Secret infra/fallback`]);
    expect(out.diagnostics.find((d) => d.code === code)!.message).toMatch(/^--default-certificate: .*serving the generated self-signed certificate instead$/);
    const use = out.tls.uses.find((u) => u.secret === 'infra/fallback')!;
    expect(use).toMatchObject({ isDefault: false, info: undefined });
    expect(use.error).toBeTruthy();
  });
});

describe('compileCertificates: a Secret that cannot be used is an error and its hosts get the default', () => {
  // [case, Secret object (named bad-tls in shop) or undefined, code, message fragment]
  const cases: [string, () => Obj | undefined, string, RegExp][] = [
    ['missing Secret', () => undefined, 'TLS_SECRET_MISSING', /Secret shop\/bad-tls does not exist/],
    ['wrong type', () => secret('bad-tls', { crt: A.certPem, key: A.keyPem }, { type: 'Opaque' }), 'TLS_SECRET_INVALID', /is of type Opaque, not kubernetes\.io\/tls/],
    ['no tls.crt', () => secret('bad-tls', { key: A.keyPem }), 'TLS_SECRET_INVALID', /has no tls\.crt/],
    ['no tls.key', () => secret('bad-tls', { crt: A.certPem }), 'TLS_SECRET_INVALID', /has no tls\.key/],
    ['empty tls.key', () => secret('bad-tls', { crt: A.certPem, key: '' }), 'TLS_SECRET_INVALID', /has no tls\.key/],
    ['tls.crt that is no PEM', () => secret('bad-tls', { crt: 'hello', key: A.keyPem }), 'TLS_SECRET_INVALID', /tls\.crt holds no PEM certificate/],
    [
      'tls.crt PEM that does not parse',
      () => secret('bad-tls', { crt: '-----BEGIN CERTIFICATE-----\nTUlJQm9n\n-----END CERTIFICATE-----\n', key: A.keyPem }),
      'TLS_SECRET_INVALID',
      /the certificate does not parse/,
    ],
    [
      'a chain certificate that does not parse',
      () => secret('bad-tls', { crt: `${A.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, key: A.keyPem }),
      'TLS_SECRET_INVALID',
      /chain certificate 2 does not parse/,
    ],
    ['tls.key that is no key', () => secret('bad-tls', { crt: A.certPem, key: 'not a key' }), 'TLS_SECRET_INVALID', /tls\.key is not a PEM private key/],
    ['tls.key that is a certificate', () => secret('bad-tls', { crt: A.certPem, key: A.certPem }), 'TLS_SECRET_INVALID', /tls\.key is not a PEM private key/],
    ['key of another certificate', () => secret('bad-tls', { crt: A.certPem, key: B.keyPem }), 'TLS_KEY_MISMATCH', /tls\.key does not match the certificate \(CN=a\.example\.com\)/],
    ['encrypted PKCS#8 key', () => secret('bad-tls', { crt: A.certPem, key: encrypted(A.keyPem) }), 'TLS_SECRET_INVALID', /tls\.key is encrypted/],
    ['encrypted legacy PEM key', () => secret('bad-tls', { crt: A.certPem, key: encryptedLegacy(A.keyPem) }), 'TLS_SECRET_INVALID', /tls\.key is encrypted/],
    ['expired certificate', () => tlsSecret('bad-tls', EXPIRED), 'TLS_CERT_EXPIRED', /the certificate \(O=Switchyard, CN=old\.example\.com\) expired at \d{4}-\d\d-\d\dT[\d:]+\.000Z/],
    ['RSA key OpenSSL refuses (1024 bits)', () => tlsSecret('bad-tls', SMALL), 'TLS_SECRET_INVALID', /OpenSSL cannot use this certificate and key \(.*key too small/],
  ];

  it.each(cases)('%s', (_name, make, code, message) => {
    const bad = make();
    const out = run([
      ing('a', { hosts: ['a.example.com', 'b.example.com'], tls: [{ hosts: ['a.example.com', '*.example.com'], secretName: 'bad-tls' }, { hosts: ['b.example.com'], secretName: 'b-tls' }] }),
      tlsSecret('b-tls', B),
      ...(bad ? [bad] : []),
    ]);
    expect(tlsDiags(out.diagnostics)).toEqual([`error ${code} Secret shop/bad-tls`]);
    const d = out.diagnostics.find((x) => x.code === code)!;
    expect(d.message).toMatch(message);
    expect(d.message).toMatch(/\(referenced by Ingress shop\/a\); hosts \*\.example\.com, a\.example\.com get the default certificate$/);
    // Hosts of the bad Secret get the default explicitly; the good Secret is unaffected.
    expect([...out.tls.hosts].sort()).toEqual([
      ['a.example.com', ''],
      ['b.example.com', 'shop/b-tls'],
    ]);
    expect([...out.tls.wildcards]).toEqual([['example.com', '']]);
    expect(out.tls.certificates.has('shop/bad-tls')).toBe(false);
    const use = out.tls.uses.find((u) => u.secret === 'shop/bad-tls')!;
    expect(use).toMatchObject({ hosts: ['*.example.com', 'a.example.com'], ingresses: ['shop/a'], isDefault: false, info: undefined });
    expect(use.error).toMatch(message);
  });

  it('warns about a certificate not valid yet and still serves it', () => {
    const out = run([ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'f' }] }), tlsSecret('f', FUTURE)]);
    expect(tlsDiags(out.diagnostics)).toEqual(['warning TLS_CERT_NOT_YET_VALID Secret shop/f']);
    expect(out.tls.hosts.get('a.example.com')).toBe('shop/f');
  });

  it('checks no validity period without a clock', () => {
    const out = run([ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'e' }] }), tlsSecret('e', EXPIRED)], { now: undefined });
    expect(tlsDiags(out.diagnostics)).toEqual([]);
    expect(out.tls.hosts.get('a.example.com')).toBe('shop/e');
  });

  it('reports a Secret referenced by several Ingresses once, naming them all', () => {
    const out = run([
      ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'gone' }] }),
      ing('b', { hosts: ['b.example.com'], tls: [{ hosts: ['b.example.com'], secretName: 'gone' }] }),
    ]);
    expect(tlsDiags(out.diagnostics)).toEqual(['error TLS_SECRET_MISSING Secret shop/gone']);
    expect(out.diagnostics.find((d) => d.code === 'TLS_SECRET_MISSING')!.message).toContain('(referenced by Ingress shop/a, Ingress shop/b); hosts a.example.com, b.example.com get');
  });
});

describe('compileCertificates: two Ingresses give one host different Secrets', () => {
  const twoSecrets = () => [tlsSecret('a-tls', A), tlsSecret('b-tls', B)];
  // [case, first Ingress, second Ingress, winning Secret, warned Ingress]
  const cases: [string, IngressSpec, IngressSpec, string, string][] = [
    ['older wins', { created: '2024-06-01T00:00:00Z', tls: [{ hosts: ['x.example.com'], secretName: 'a-tls' }] }, { created: '2024-01-01T00:00:00Z', tls: [{ hosts: ['x.example.com'], secretName: 'b-tls' }] }, 'shop/b-tls', 'shop/first'],
    ['same age: name order', { created: '2024-01-01T00:00:00Z', tls: [{ hosts: ['x.example.com'], secretName: 'a-tls' }] }, { created: '2024-01-01T00:00:00Z', tls: [{ hosts: ['x.example.com'], secretName: 'b-tls' }] }, 'shop/a-tls', 'shop/second'],
    ['dated before undated', { tls: [{ hosts: ['x.example.com'], secretName: 'a-tls' }] }, { created: '2030-01-01T00:00:00Z', tls: [{ hosts: ['x.example.com'], secretName: 'b-tls' }] }, 'shop/b-tls', 'shop/first'],
    ['an entry without a Secret also claims the host', { created: '2024-01-01T00:00:00Z', tls: [{ hosts: ['x.example.com'] }] }, { created: '2024-06-01T00:00:00Z', tls: [{ hosts: ['x.example.com'], secretName: 'b-tls' }] }, '', 'shop/second'],
  ];
  it.each(cases)('%s', (_name, first, second, winner, warned) => {
    const out = run([ing('first', { hosts: ['x.example.com'], ...first }), ing('second', { hosts: ['x.example.com'], ...second }), ...twoSecrets()]);
    expect(out.tls.hosts.get('x.example.com')).toBe(winner);
    expect(tlsDiags(out.diagnostics)).toEqual([`warning TLS_HOST_CONFLICT Ingress ${warned}`]);
    expect(out.diagnostics.find((d) => d.code === 'TLS_HOST_CONFLICT')!.message).toMatch(/^tls host x\.example\.com: .* ignored: Ingress shop\/\w+ is older and gives it /);
  });

  it('the same Secret from two Ingresses is no conflict', () => {
    const out = run([
      ing('first', { hosts: ['x.example.com'], tls: [{ hosts: ['x.example.com'], secretName: 'a-tls' }] }),
      ing('second', { hosts: ['x.example.com'], tls: [{ hosts: ['x.example.com'], secretName: 'a-tls' }] }),
      ...twoSecrets(),
    ]);
    expect(tlsDiags(out.diagnostics)).toEqual([]);
    expect(out.tls.uses.find((u) => u.secret === 'shop/a-tls')!.ingresses).toEqual(['shop/first', 'shop/second']);
  });

  it('a Secret that won no host is listed but not loaded', () => {
    const out = run([
      ing('first', { created: '2024-01-01T00:00:00Z', hosts: ['x.example.com'], tls: [{ hosts: ['x.example.com'], secretName: 'a-tls' }] }),
      ing('second', { created: '2024-06-01T00:00:00Z', hosts: ['x.example.com'], tls: [{ hosts: ['x.example.com'], secretName: 'b-tls' }] }),
      ...twoSecrets(),
    ]);
    expect(out.tls.certificates.has('shop/b-tls')).toBe(false);
    expect(out.tls.uses.find((u) => u.secret === 'shop/b-tls')).toMatchObject({ hosts: [], ingresses: ['shop/second'], error: undefined });
  });
});

describe('compile hash and certificates', () => {
  const objs = () => [ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }] }), tlsSecret('a-tls', A)];

  it('is the same for the same certificates, and changes when one is replaced or its host moves', () => {
    const base = run(objs()).hash;
    expect(run(objs()).hash).toBe(base);
    const renewed = selfSigned(['a.example.com']);
    expect(run([objs()[0]!, tlsSecret('a-tls', renewed)]).hash).not.toBe(base);
    expect(run([ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['b.example.com'], secretName: 'a-tls' }] }), tlsSecret('a-tls', A)]).hash).not.toBe(base);
    expect(run(objs(), { now: NOW + DAY }).hash).toBe(base);
  });

  it('changes when a certificate expires', () => {
    const o = [ing('a', { hosts: ['a.example.com'], tls: [{ hosts: ['a.example.com'], secretName: 'f' }] }), tlsSecret('f', FUTURE)];
    expect(run(o, { now: NOW + 2 * DAY }).hash).not.toBe(run(o, { now: NOW + 40 * DAY }).hash);
  });

  it('does not contain a private key anywhere but the certificates map', () => {
    const out = run(objs());
    const keyBody = A.keyPem.split('\n')[1]!;
    const { certificates: _c, ...rest } = out.tls;
    expect(JSON.stringify({ ...out, tls: rest, services: [...out.services], backends: [...out.backends] })).not.toContain(keyBody);
  });
});

describe('routes: redirectToHttps', () => {
  const tlsA = { hosts: ['a.example.com'], secretName: 'a-tls' };
  // [case, Ingresses, "host path → redirect" of each route]
  const cases: [string, Obj[], string[]][] = [
    ['a host with a tls entry', [ing('x', { hosts: ['a.example.com', 'b.example.com'], tls: [tlsA] })], ['a.example.com true', 'b.example.com false']],
    ['a tls entry of another Ingress counts', [ing('x', { hosts: ['b.example.com'], tls: [{ hosts: ['a.example.com'] }] }), ing('y', { hosts: ['a.example.com'] })], ['a.example.com true', 'b.example.com false']],
    ['ssl-redirect "false" on the route\'s own Ingress', [ing('x', { hosts: ['a.example.com'], tls: [tlsA], annotations: { 'switchyard.dev/ssl-redirect': 'false' } })], ['a.example.com false']],
    [
      'ssl-redirect "false" on another Ingress does not matter',
      [ing('x', { hosts: ['b.example.com'], tls: [tlsA], annotations: { 'switchyard.dev/ssl-redirect': 'false' } }), ing('y', { hosts: ['a.example.com'] })],
      ['a.example.com true', 'b.example.com false'],
    ],
    ['force-ssl-redirect without a tls entry', [ing('x', { hosts: ['a.example.com', ''], annotations: { 'switchyard.dev/force-ssl-redirect': 'true' } })], ['* true', 'a.example.com true']],
    ['force-ssl-redirect wins over ssl-redirect "false"', [ing('x', { hosts: ['a.example.com'], annotations: { 'switchyard.dev/force-ssl-redirect': 'true', 'switchyard.dev/ssl-redirect': 'false' } })], ['a.example.com true']],
    [
      'a wildcard tls entry covers one label only',
      [ing('x', { hosts: ['a.example.com', 'a.b.example.com', 'example.com', '*.example.com', '*.b.example.com'], tls: [{ hosts: ['*.example.com'] }] })],
      ['*.b.example.com false', '*.example.com true', 'a.b.example.com false', 'a.example.com true', 'example.com false'],
    ],
    ['an exact tls host does not cover a wildcard rule', [ing('x', { hosts: ['*.example.com'], tls: [{ hosts: ['a.example.com'] }] })], ['*.example.com false']],
    ['a rule without host is not redirected by tls entries', [ing('x', { hosts: ['', 'a.example.com'], tls: [tlsA] })], ['* false', 'a.example.com true']],
    ['tls entries of another class do not count', [ing('x', { ingressClassName: 'nginx', hosts: ['b.example.com'], tls: [tlsA] }), ing('y', { hosts: ['a.example.com'] })], ['a.example.com false']],
    ['case and trailing dots of tls hosts', [ing('x', { hosts: ['a.example.com'], tls: [{ hosts: ['A.Example.com.'] }] })], ['a.example.com true']],
  ];
  it.each(cases)('%s', (_name, ingresses, expected) => {
    const out = run([...ingresses, tlsSecret('a-tls', A)]);
    expect(out.routes.list.map((r) => `${r.host || '*'} ${r.redirectToHttps}`).sort()).toEqual(expected);
  });

  it.each([
    ['switchyard.dev/ssl-redirect', 'no', 'true'],
    ['switchyard.dev/force-ssl-redirect', 'yes', 'false'],
  ])('a bad %s value is a warning and the default applies', (key, value, fallback) => {
    const out = run([ing('x', { hosts: ['a.example.com'], tls: [tlsA], annotations: { [key]: value } }), tlsSecret('a-tls', A)]);
    expect(tlsDiags(out.diagnostics)).toEqual(['warning ANNOTATION_INVALID Ingress shop/x']);
    expect(out.diagnostics.find((d) => d.code === 'ANNOTATION_INVALID')!.message).toBe(`${key}: ${JSON.stringify(value)} is not "true" or "false"; using the default ${fallback}`);
    expect(out.routes.list[0]!.redirectToHttps).toBe(true);
  });

  it('accepts "True"/" false " and warns about unknown switchyard.dev annotations on an Ingress', () => {
    const out = run([
      ing('x', { hosts: ['a.example.com'], tls: [tlsA], annotations: { 'switchyard.dev/ssl-redirect': ' False ', 'switchyard.dev/retries': '3', 'other.io/x': 'y' } }),
      tlsSecret('a-tls', A),
    ]);
    expect(tlsDiags(out.diagnostics)).toEqual(['warning ANNOTATION_UNKNOWN Ingress shop/x']);
    expect(out.routes.list[0]!.redirectToHttps).toBe(false);
  });
});
