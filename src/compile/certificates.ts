/**
 * Ingress `tls:` entries and their Secrets → the TLS table the data plane chooses certificates from by SNI.
 * Pure (no I/O, no clock: the time comes in `now`), never throws: a Secret that cannot be used is an
 * error diagnostic and the hosts it was meant for get the default certificate.
 *
 * - Served Ingresses only, oldest first (compareByAge): the first `tls:` entry to name a host wins it;
 *   a later entry giving the same host another Secret is ignored with a warning (TLS_HOST_CONFLICT).
 * - A `tls:` entry without `hosts` covers the hosts of its own Ingress's rules (the API says "defaults to
 *   the wildcard host setting of the controller"; these are the hosts the Ingress routes). Without
 *   `secretName` its hosts are served the default certificate.
 * - Hosts are exact or `*.suffix` (one label), compared lower-case without a trailing dot.
 * - The Secret lives in the Ingress's namespace and must be `kubernetes.io/tls` with `tls.crt` (leaf first,
 *   then its chain) and an unencrypted `tls.key` that matches the leaf, every certificate of it within its
 *   validity period at `now` (not yet valid is only a warning: clocks drift).
 * - Default certificate: the --default-certificate Secret when usable, else the generated one (key '').
 */
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { serviceKey } from '../model/keys.ts';
import type { IngressRec, SecretRec } from '../model/records.ts';
import type { CertificateInfo, CertificateUse, Diagnostic, Severity, TlsCertificate, TlsTable } from '../snapshot/types.ts';

/** A certificate chain and its private key, PEM. */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateOptions {
  /** `namespace/name` of the --default-certificate Secret; undefined: the generated certificate is the default. */
  readonly defaultCertificate: string | undefined;
  /** The self-signed certificate made at start-up; undefined: none (then unmatched SNI has no certificate). */
  readonly generatedCertificate: PemPair | undefined;
  /** Clock for expiry checks, ms since the epoch; undefined: validity periods are not checked. */
  readonly now: number | undefined;
}

export interface CompiledCertificates {
  readonly tls: TlsTable;
  /** Secret key → digest of its chain and key: feeds the snapshot hash without the key itself. */
  readonly fingerprints: ReadonlyMap<string, string>;
  readonly diagnostics: Diagnostic[];
}

/** Hosts that `tls:` entries of served Ingresses name (whatever their Secret): what the HTTPS redirect looks at. */
export interface TlsHosts {
  readonly exact: ReadonlySet<string>;
  /** Suffixes of `*.suffix` entries. */
  readonly wildcards: ReadonlySet<string>;
}

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

/** Lower-case, no trailing dot; undefined for a name that is neither a host nor a one-label wildcard. */
export function normalizeTlsHost(host: string): string | undefined {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === '' || /[\s/:@]/.test(h)) return undefined;
  const star = h.indexOf('*');
  if (star < 0) return h;
  return star === 0 && h.startsWith('*.') && h.length > 2 && !h.includes('*', 1) ? h : undefined;
}

/** The hosts a `tls:` entry covers: its own, else its Ingress's rule hosts. Not normalised. */
function entryHosts(ing: IngressRec, hosts: readonly string[]): readonly string[] {
  if (hosts.length > 0) return hosts;
  const out: string[] = [];
  for (const rule of ing.rules) if (rule.host !== undefined && rule.host !== '') out.push(rule.host);
  return out;
}

export function tlsHostsOf(served: readonly IngressRec[]): TlsHosts {
  const exact = new Set<string>();
  const wildcards = new Set<string>();
  for (const ing of served) {
    for (const t of ing.tls) {
      for (const raw of entryHosts(ing, t.hosts)) {
        const h = normalizeTlsHost(raw);
        if (h === undefined) continue;
        if (h.startsWith('*.')) wildcards.add(h.slice(2));
        else exact.add(h);
      }
    }
  }
  return { exact, wildcards };
}

/** Whether a route host (lower-case, `*.suffix` or exact, '' for any host) is covered by a `tls:` entry. */
export function coveredByTls(host: string, tls: TlsHosts): boolean {
  if (host === '') return false;
  if (host.startsWith('*.')) return tls.wildcards.has(host.slice(2));
  if (tls.exact.has(host)) return true;
  const dot = host.indexOf('.');
  return dot > 0 && tls.wildcards.has(host.slice(dot + 1));
}

interface Claim {
  /** `namespace/name`, or undefined for an entry without secretName. */
  readonly secret: string | undefined;
  readonly ingress: IngressRec;
}

interface UseBuilder {
  readonly hosts: Set<string>;
  readonly ingresses: Set<string>;
}

/**
 * `served`: the Ingresses the class serves, oldest first. `secrets`: the store's Secrets keyed
 * `Secret/namespace/name`.
 */
export function compileCertificates(served: readonly IngressRec[], secrets: ReadonlyMap<string, SecretRec>, options: CertificateOptions): CompiledCertificates {
  const diagnostics: Diagnostic[] = [];
  const claims = new Map<string, Claim>();
  const uses = new Map<string, UseBuilder>();

  for (const ing of served) {
    const ingKey = serviceKey(ing.meta.namespace, ing.meta.name);
    for (const t of ing.tls) {
      const secret = t.secretName ? serviceKey(ing.meta.namespace, t.secretName) : undefined;
      let use: UseBuilder | undefined;
      if (secret !== undefined) {
        use = uses.get(secret);
        if (!use) uses.set(secret, (use = { hosts: new Set(), ingresses: new Set() }));
        use.ingresses.add(ingKey);
      }
      for (const raw of entryHosts(ing, t.hosts)) {
        const host = normalizeTlsHost(raw);
        if (host === undefined) {
          diagnostics.push(ingressDiag('warning', 'TLS_HOST_INVALID', ing, `tls host ${JSON.stringify(raw)} ignored: not a host name nor a one-label wildcard (*.example.com)`));
          continue;
        }
        const existing = claims.get(host);
        if (existing) {
          if (existing.secret !== secret) {
            const theirs = existing.secret === undefined ? 'no Secret (the default certificate)' : `Secret ${existing.secret}`;
            const owner = existing.ingress === ing ? 'an earlier tls entry of this Ingress' : `Ingress ${serviceKey(existing.ingress.meta.namespace, existing.ingress.meta.name)} is older and`;
            diagnostics.push(ingressDiag('warning', 'TLS_HOST_CONFLICT', ing, `tls host ${host}: ${secret === undefined ? 'the default certificate' : `Secret ${secret}`} ignored: ${owner} gives it ${theirs}`));
          }
          continue;
        }
        claims.set(host, { secret, ingress: ing });
        use?.hosts.add(host);
      }
    }
  }

  const cache = nextGeneration();
  const certificates = new Map<string, TlsCertificate>();
  const fingerprints = new Map<string, string>();
  const errors = new Map<string, string>();

  // The default first: the hosts of unusable Secrets fall back to it.
  let defaultKey = '';
  const defaultRef = options.defaultCertificate;
  if (defaultRef !== undefined) {
    const checked = checkSecret(defaultRef, secrets.get(`Secret/${defaultRef}`), options.now, cache);
    if (checked.cert) {
      defaultKey = defaultRef;
      certificates.set(defaultRef, checked.cert);
      fingerprints.set(defaultRef, checked.fingerprint);
      if (checked.warning) diagnostics.push(secretDiag('warning', checked.warning.code, defaultRef, `--default-certificate: ${checked.warning.reason}`));
    } else {
      errors.set(defaultRef, checked.problem!.reason);
      diagnostics.push(secretDiag('error', checked.problem!.code, defaultRef, `--default-certificate: ${checked.problem!.reason}; serving the generated self-signed certificate instead`));
    }
  }
  if (defaultKey === '' && options.generatedCertificate) {
    const parsed = parsePems(options.generatedCertificate.certPem, options.generatedCertificate.keyPem, cache);
    if (parsed.ok) {
      certificates.set('', { secret: '', certPem: parsed.ok.certPem, keyPem: parsed.ok.keyPem, info: parsed.ok.info });
      fingerprints.set('', parsed.digest);
    }
  }

  for (const [secret, use] of [...uses].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (secret === defaultRef) continue; // checked above; reported once
    const checked = checkSecret(secret, secrets.get(`Secret/${secret}`), options.now, cache);
    const hostsNote = use.hosts.size > 0 ? `; hosts ${[...use.hosts].sort().join(', ')} get the default certificate` : '';
    if (checked.cert) {
      certificates.set(secret, checked.cert);
      fingerprints.set(secret, checked.fingerprint);
      if (checked.warning) diagnostics.push(secretDiag('warning', checked.warning.code, secret, checked.warning.reason));
    } else {
      errors.set(secret, checked.problem!.reason);
      const by = `referenced by Ingress ${[...use.ingresses].sort().join(', Ingress ')}`;
      diagnostics.push(secretDiag('error', checked.problem!.code, secret, `${checked.problem!.reason} (${by})${hostsNote}`));
    }
  }

  const hosts = new Map<string, string>();
  const wildcards = new Map<string, string>();
  for (const [host, claim] of claims) {
    const key = claim.secret !== undefined && certificates.has(claim.secret) ? claim.secret : defaultKey;
    if (host.startsWith('*.')) wildcards.set(host.slice(2), key);
    else hosts.set(host, key);
  }

  const useList: CertificateUse[] = [];
  if (defaultKey === '' && certificates.has('')) {
    useList.push({ secret: '', hosts: [], ingresses: [], isDefault: true, info: certificates.get('')!.info, error: undefined });
  }
  const secretsInUse = new Set([...uses.keys(), ...(defaultRef !== undefined ? [defaultRef] : [])]);
  for (const secret of [...secretsInUse].sort()) {
    const use = uses.get(secret);
    useList.push({
      secret,
      hosts: use ? [...use.hosts].sort() : [],
      ingresses: use ? [...use.ingresses].sort() : [],
      isDefault: secret === defaultKey,
      info: certificates.get(secret)?.info,
      error: errors.get(secret),
    });
  }
  // A Secret no host ended up with (all conflicts) is still checked and listed, but not loaded.
  for (const secret of [...certificates.keys()]) {
    if (secret !== defaultKey && !uses.get(secret)?.hosts.size) certificates.delete(secret);
  }
  for (const secret of [...fingerprints.keys()]) if (!certificates.has(secret)) fingerprints.delete(secret);

  return { tls: { certificates, hosts, wildcards, defaultKey, uses: useList }, fingerprints, diagnostics };
}

interface Problem {
  readonly code: string;
  readonly reason: string;
}

interface Checked {
  readonly cert: TlsCertificate | undefined;
  readonly fingerprint: string;
  readonly problem: Problem | undefined;
  readonly warning: Problem | undefined;
}

function checkSecret(ref: string, rec: SecretRec | undefined, now: number | undefined, cache: Generation): Checked {
  const fail = (code: string, reason: string): Checked => ({ cert: undefined, fingerprint: '', problem: { code, reason }, warning: undefined });
  if (!rec) return fail('TLS_SECRET_MISSING', `Secret ${ref} does not exist (or is not of type ${TLS_SECRET_TYPE})`);
  if (rec.type !== TLS_SECRET_TYPE) return fail('TLS_SECRET_INVALID', `Secret ${ref} is of type ${rec.type}, not ${TLS_SECRET_TYPE}`);
  const crt = rec.data['tls.crt'];
  const key = rec.data['tls.key'];
  if (crt === undefined || crt.trim() === '') return fail('TLS_SECRET_INVALID', `Secret ${ref} has no tls.crt`);
  if (key === undefined || key.trim() === '') return fail('TLS_SECRET_INVALID', `Secret ${ref} has no tls.key`);
  const parsed = parsePems(crt, key, cache);
  if (!parsed.ok) return fail(parsed.problem!.code, `Secret ${ref}: ${parsed.problem!.reason}`);
  let warning: Problem | undefined;
  if (now !== undefined) {
    for (const v of parsed.ok.validity) {
      if (v.notAfter < now) return fail('TLS_CERT_EXPIRED', `Secret ${ref}: ${v.label} (${v.subject}) expired at ${new Date(v.notAfter).toISOString()}`);
      if (v.notBefore > now && !warning) warning = { code: 'TLS_CERT_NOT_YET_VALID', reason: `Secret ${ref}: ${v.label} (${v.subject}) is not valid before ${new Date(v.notBefore).toISOString()}` };
    }
  }
  const { certPem, keyPem, info } = parsed.ok;
  return { cert: { secret: ref, certPem, keyPem, info }, fingerprint: parsed.digest, problem: undefined, warning };
}

interface Parsed {
  readonly digest: string;
  readonly ok: { readonly certPem: string; readonly keyPem: string; readonly info: CertificateInfo; readonly validity: readonly Validity[] } | undefined;
  readonly problem: Problem | undefined;
}

interface Validity {
  readonly label: string;
  readonly subject: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

/**
 * Parsing and checking a certificate costs about a millisecond, so results are kept by content digest
 * for one compile to the next: a change elsewhere never re-parses certificates, and entries no compile
 * used last time are dropped.
 */
interface Generation {
  get(digest: string): Parsed | undefined;
  keep(parsed: Parsed): void;
}

let previous = new Map<string, Parsed>();

function nextGeneration(): Generation {
  const old = previous;
  const current = new Map<string, Parsed>();
  previous = current;
  return {
    get: (digest) => current.get(digest) ?? old.get(digest),
    keep: (parsed) => void current.set(parsed.digest, parsed),
  };
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function parsePems(crt: string, key: string, cache: Generation): Parsed {
  const digest = createHash('sha256').update(crt).update('\0').update(key).digest('hex');
  const hit = cache.get(digest);
  if (hit) {
    cache.keep(hit);
    return hit;
  }
  const parsed = parseUncached(crt, key, digest);
  cache.keep(parsed);
  return parsed;
}

function parseUncached(crt: string, key: string, digest: string): Parsed {
  const fail = (code: string, reason: string): Parsed => ({ digest, ok: undefined, problem: { code, reason } });
  const blocks = crt.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) return fail('TLS_SECRET_INVALID', 'tls.crt holds no PEM certificate');
  const chain: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      chain.push(new X509Certificate(block));
    } catch (err) {
      return fail('TLS_SECRET_INVALID', `tls.crt: ${i === 0 ? 'the certificate' : `chain certificate ${i + 1}`} does not parse (${errorText(err)})`);
    }
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(key)) {
    return fail('TLS_SECRET_INVALID', 'tls.key is encrypted; a passphrase-protected key cannot be used');
  }
  let privateKey;
  try {
    privateKey = createPrivateKey({ key, format: 'pem' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MISSING_PASSPHRASE') return fail('TLS_SECRET_INVALID', 'tls.key is encrypted; a passphrase-protected key cannot be used');
    return fail('TLS_SECRET_INVALID', `tls.key is not a PEM private key (${errorText(err)})`);
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(privateKey)) return fail('TLS_KEY_MISMATCH', `tls.key does not match the certificate (${oneLine(leaf.subject)})`);
  const certPem = `${blocks.join('\n')}\n`;
  try {
    // What OpenSSL itself refuses (a key too small for its security level, an unsupported algorithm)
    // is found here rather than at the first handshake.
    createSecureContext({ cert: certPem, key, minVersion: 'TLSv1.2' });
  } catch (err) {
    return fail('TLS_SECRET_INVALID', `OpenSSL cannot use this certificate and key (${errorText(err)})`);
  }
  const info: CertificateInfo = {
    subject: oneLine(leaf.subject),
    issuer: oneLine(leaf.issuer),
    sans: dnsNames(leaf.subjectAltName),
    notBefore: leaf.validFromDate.toISOString(),
    notAfter: leaf.validToDate.toISOString(),
    fingerprint256: leaf.fingerprint256,
  };
  const validity = chain.map((c, i) => ({
    label: i === 0 ? 'the certificate' : `chain certificate ${i + 1}`,
    subject: oneLine(c.subject),
    notBefore: c.validFromDate.getTime(),
    notAfter: c.validToDate.getTime(),
  }));
  return { digest, ok: { certPem, keyPem: key, info, validity }, problem: undefined };
}

/** Node separates RDNs with newlines; one line reads better in JSON and messages. */
function oneLine(name: string): string {
  return name.split('\n').join(', ');
}

/** DNS entries of Node's subjectAltName text (`DNS:a, DNS:"b,c", IP Address:…`; values with specials are JSON-quoted). */
export function dnsNames(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const m of subjectAltName.matchAll(/(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    if (m[1] !== 'DNS') continue;
    const value = m[2]!;
    try {
      out.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
    } catch {
      out.push(value);
    }
  }
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function ingressDiag(severity: Severity, code: string, ing: IngressRec, message: string): Diagnostic {
  return { severity, code, kind: 'Ingress', namespace: ing.meta.namespace, name: ing.meta.name, message };
}

function secretDiag(severity: Severity, code: string, ref: string, message: string): Diagnostic {
  const slash = ref.indexOf('/');
  return { severity, code, kind: 'Secret', namespace: ref.slice(0, slash), name: ref.slice(slash + 1), message };
}

/** One Secret checked for a reference outside Ingress `tls:` entries: a usable certificate, or why not. */
export type SecretCheck =
  | { readonly cert: TlsCertificate; readonly fingerprint: string; readonly code?: undefined; readonly reason?: undefined }
  | { readonly cert: undefined; readonly fingerprint?: undefined; readonly code: string; readonly reason: string };

let othersPrevious = new Map<string, Parsed>();

/**
 * The checks above for Secrets referenced elsewhere (Gateway listeners' certificateRefs), with a parse
 * cache of their own: call once per compile; what the previous call parsed is reused, the rest dropped.
 */
export function tlsSecretChecker(now: number | undefined): (ref: string, rec: SecretRec | undefined) => SecretCheck {
  const old = othersPrevious;
  const current = new Map<string, Parsed>();
  othersPrevious = current;
  const cache: Generation = { get: (digest) => current.get(digest) ?? old.get(digest), keep: (parsed) => void current.set(parsed.digest, parsed) };
  return (ref, rec) => {
    const checked = checkSecret(ref, rec, now, cache);
    return checked.cert ? { cert: checked.cert, fingerprint: checked.fingerprint } : { cert: undefined, code: checked.problem!.code, reason: checked.problem!.reason };
  };
}
