/**
 * The TLS listener's certificates, one per process: a secure context per certificate of the snapshot's
 * TLS table, chosen by SNI (exact host, then one-label wildcard, then the default).
 *
 * - Contexts are made when a snapshot brings a certificate and kept across swaps while its chain and key
 *   stay the same: an unrelated change (an endpoint, another Secret) re-creates nothing. Parsing happened
 *   in compile; this only hands the PEM to OpenSSL.
 * - One session-ticket key for every context held (and every server attached): OpenSSL encrypts and
 *   decrypts tickets with the context the handshake started on, which is the server's; setting the key
 *   on the SNI contexts as well keeps resumption working whatever context a handshake ends on, and the
 *   same key in every worker thread lets a client resume on any of them.
 * - A client without SNI never reaches an SNICallback (Node calls it only with a server name), so the
 *   default certificate must also be the server's own context: attach() keeps it in step.
 */
import { createSecureContext, type SecureContext, type SecureContextOptions, type Server, type TlsOptions } from 'node:tls';
import type { TlsCertificate, TlsTable } from '../../snapshot/types.ts';

/** TLS 1.3 suites (OpenSSL's defaults, all AEAD). */
export const TLS13_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

/** TLS 1.2 ciphers: forward secrecy (ECDHE) with AEAD (AES-GCM, ChaCha20-Poly1305) only, ECDSA before RSA. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * The `ciphers` option: both lists in one string. Node takes the `TLS_*` names as the TLS 1.3 suites; a
 * list without any would make it cap the context at TLS 1.2.
 */
export const TLS_CIPHERS = `${TLS13_CIPHERSUITES}:${TLS12_CIPHERS}`;

/** Key exchange groups, preferred first. */
export const TLS_ECDH_CURVES = 'X25519:P-256:P-384';

/**
 * Options of every secure context the TLS listener uses: TLS 1.2 and 1.3 only, the cipher list above in
 * the server's order, and one session-id context so a session from any certificate's context resumes.
 */
export const TLS_CONTEXT_OPTIONS = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: TLS_CIPHERS,
  honorCipherOrder: true,
  ecdhCurve: TLS_ECDH_CURVES,
  sessionIdContext: 'switchyard',
} as const satisfies SecureContextOptions;

/** Bytes of a session-ticket key, as Node's setTicketKeys takes it. */
export const TICKET_KEY_LENGTH = 48;

export interface CertificateStoreOptions {
  /** Session-ticket key (48 bytes) for every context; default: each context's own random key. */
  readonly ticketKeys?: Buffer;
  /** Told when OpenSSL refuses a certificate compile accepted (its hosts then get the default); default: ignored. */
  readonly onError?: (secret: string, err: Error) => void;
}

interface Entry {
  readonly certPem: string;
  readonly keyPem: string;
  readonly context: SecureContext;
}

/** The part of Node's native context used here: what tls.Server.setTicketKeys itself calls. */
interface NativeContext {
  setTicketKeys(keys: Buffer): void;
}

type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

export class CertificateStore {
  #entries = new Map<string, Entry>();
  #hosts: ReadonlyMap<string, string> = new Map();
  #wildcards: ReadonlyMap<string, string> = new Map();
  #default: Entry | undefined;
  #ticketKeys: Buffer | undefined;
  readonly #servers = new Set<Server>();
  readonly #onError: ((secret: string, err: Error) => void) | undefined;

  constructor(options: CertificateStoreOptions = {}) {
    if (options.ticketKeys) this.#ticketKeys = checkTicketKeys(options.ticketKeys);
    this.#onError = options.onError;
  }

  /** Takes a snapshot's TLS table (call on every swap); contexts of unchanged certificates are kept. */
  update(table: TlsTable): void {
    const next = new Map<string, Entry>();
    for (const [secret, cert] of table.certificates) {
      const kept = this.#entries.get(secret);
      if (kept && kept.certPem === cert.certPem && kept.keyPem === cert.keyPem) {
        next.set(secret, kept);
        continue;
      }
      const made = this.#make(secret, cert);
      if (made) next.set(secret, made);
    }
    this.#entries = next;
    this.#hosts = table.hosts;
    this.#wildcards = table.wildcards;
    const previousDefault = this.#default;
    this.#default = next.get(table.defaultKey);
    if (this.#default !== previousDefault) for (const server of this.#servers) this.#applyDefault(server);
  }

  /**
   * The context for a ClientHello's server name: exact host, else `*.` + everything after the first
   * label, else the default. Case-insensitive; a trailing dot is ignored. Undefined only when there is
   * no default certificate at all.
   */
  select(servername: string | undefined): SecureContext | undefined {
    if (servername) {
      let name = servername.toLowerCase();
      if (name.endsWith('.')) name = name.slice(0, -1);
      let key = this.#hosts.get(name);
      if (key === undefined) {
        const dot = name.indexOf('.');
        if (dot > 0) key = this.#wildcards.get(name.slice(dot + 1));
      }
      if (key !== undefined) {
        const entry = this.#entries.get(key);
        if (entry) return entry.context;
      }
    }
    return this.#default?.context;
  }

  /**
   * For `tls.createServer({ SNICallback })`; bound, so it can be passed as it is. A server name that
   * selects the default certificate gets no context back: the handshake stays on the server's own
   * context, which attach() keeps on the same certificate, options and ticket key. Handing OpenSSL a
   * context makes it switch the connection over to it (SSL_set_SSL_CTX), some 3 % of a handshake's CPU
   * (docs/performance.md, Profile). A store no server is attached to hands out the context as before.
   */
  readonly sniCallback: SniCallback = (servername, cb) => {
    const context = this.select(servername);
    cb(null, context === this.#default?.context && this.#servers.size > 0 ? undefined : context);
  };

  /** Replaces the session-ticket key (48 bytes) of every context held, every attached server, and every context made later. */
  setTicketKeys(keys: Buffer): void {
    this.#ticketKeys = checkTicketKeys(keys);
    for (const entry of this.#entries.values()) (entry.context.context as NativeContext).setTicketKeys(keys);
    for (const server of this.#servers) server.setTicketKeys(keys);
  }

  /**
   * Options for `tls.createServer`: the default certificate as the server's own context, the shared
   * protocol options, the ticket key and the SNI callback. ALPN and the like are the caller's to add.
   */
  serverOptions(): TlsOptions {
    return { ...this.#defaultOptions(), SNICallback: this.sniCallback };
  }

  /**
   * Keeps `server`'s own context (what clients without SNI get) on the current default certificate and
   * ticket key, now and after every update. Returns a function that stops it.
   */
  attach(server: Server): () => void {
    this.#servers.add(server);
    this.#applyDefault(server);
    return () => void this.#servers.delete(server);
  }

  /** Secret keys of the contexts held ('' for the generated certificate), for tests and the admin API. */
  loaded(): string[] {
    return [...this.#entries.keys()];
  }

  #make(secret: string, cert: TlsCertificate): Entry | undefined {
    try {
      const context = createSecureContext({ ...TLS_CONTEXT_OPTIONS, cert: cert.certPem, key: cert.keyPem, ...(this.#ticketKeys ? { ticketKeys: this.#ticketKeys } : {}) });
      return { certPem: cert.certPem, keyPem: cert.keyPem, context };
    } catch (err) {
      this.#onError?.(secret, err as Error);
      return undefined;
    }
  }

  #defaultOptions(): TlsOptions {
    const d = this.#default;
    return { ...TLS_CONTEXT_OPTIONS, ...(d ? { cert: d.certPem, key: d.keyPem } : {}), ...(this.#ticketKeys ? { ticketKeys: this.#ticketKeys } : {}) };
  }

  #applyDefault(server: Server): void {
    server.setSecureContext(this.#defaultOptions());
  }
}

function checkTicketKeys(keys: Buffer): Buffer {
  if (keys.byteLength !== TICKET_KEY_LENGTH) throw new RangeError(`a session-ticket key is ${TICKET_KEY_LENGTH} bytes, not ${keys.byteLength}`);
  return keys;
}
