/**
 * How the edge treats what a client sends beyond framing: path normalization, header hygiene, whose
 * forwarding headers are believed, and which HTTP/1.1 server parses requests. Built once from the
 * flags (runtime/data-plane.ts) and shared, read-only, by every listener of a process.
 */
export interface EdgePolicy {
  /** Merge adjacent slashes in request paths (`--merge-slashes`, default true). */
  readonly mergeSlashes: boolean;
  /** `%2F`/`%5C` in paths: kept as they are, refused with 400, or decoded (`--escaped-slashes`, default keep). */
  readonly escapedSlashes: 'keep' | 'reject' | 'unescape';
  /** Request fields whose names contain `_` (`--headers-with-underscores`, default drop). */
  readonly headersWithUnderscores: 'drop' | 'reject' | 'allow';
  /** CIDR blocks (`address/prefix`) whose forwarding headers and PROXY protocol headers are trusted (`--trusted-proxies`, default none). */
  readonly trustedProxies: readonly string[];
  /** Edge listeners read a PROXY protocol header first (`--proxy-protocol`, default false). */
  readonly proxyProtocol: boolean;
  /** The HTTP/1.1 server (`--http1-server`, default llhttp). */
  readonly http1Server: 'llhttp' | 'node';
}

/** What every listener gets when a test or embedder gives none: the flags' defaults. */
export const DEFAULT_EDGE_POLICY: EdgePolicy = {
  mergeSlashes: true,
  escapedSlashes: 'keep',
  headersWithUnderscores: 'drop',
  trustedProxies: [],
  proxyProtocol: false,
  http1Server: 'llhttp',
};
