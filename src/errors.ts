/**
 * Every coded error Switchyard raises. Callers check `err.code`, never `instanceof`,
 * so an error that crossed a process or module boundary is still recognisable.
 */
export const ErrorCode = {
  /** A command-line flag is unknown or has a bad value. */
  FLAG_INVALID: 'SWY_ERR_FLAG_INVALID',
  /** A manifest file could not be read. */
  MANIFEST_READ: 'SWY_ERR_MANIFEST_READ',
  /** A manifest file is not valid YAML/JSON. */
  MANIFEST_PARSE: 'SWY_ERR_MANIFEST_PARSE',
  /** A Kubernetes object in a manifest misses a required field or has a wrong type. */
  MANIFEST_INVALID: 'SWY_ERR_MANIFEST_INVALID',
  /** The same object (kind/namespace/name) is defined twice. */
  MANIFEST_DUPLICATE: 'SWY_ERR_MANIFEST_DUPLICATE',
  /** A --manifests path does not exist. */
  MANIFEST_PATH_MISSING: 'SWY_ERR_MANIFEST_PATH_MISSING',
  /** No route matched the request's host and path. */
  NO_ROUTE: 'SWY_ERR_NO_ROUTE',
  /**
   * HTTPS Gateway listener: the request's host belongs to another listener of the port than the one the
   * connection's TLS server name (SNI) chose: 421, so the client retries on a connection of its own.
   */
  MISDIRECTED_REQUEST: 'SWY_ERR_MISDIRECTED_REQUEST',
  /** The route's backend Service (or its port) does not exist. */
  UNKNOWN_SERVICE: 'SWY_ERR_UNKNOWN_SERVICE',
  /** An HTTPRoute's backendRef that does not resolve (or a rule with no backend of weight > 0) drew the request: 500, as the Gateway API requires. */
  BACKEND_INVALID: 'SWY_ERR_BACKEND_INVALID',
  /** Service listener: the name looks like a Service of this cluster, but no such Service exists. */
  SERVICE_NOT_FOUND: 'SWY_ERR_SERVICE_NOT_FOUND',
  /** Service listener: the Service has no port of that number, or no default port to choose. */
  SERVICE_PORT_NOT_FOUND: 'SWY_ERR_SERVICE_PORT_NOT_FOUND',
  /** Service listener: the name is outside the cluster domain; Switchyard is never an open proxy. */
  NOT_A_SERVICE: 'SWY_ERR_NOT_A_SERVICE',
  /** The backend exists but has no ready endpoint. */
  NO_READY_ENDPOINT: 'SWY_ERR_NO_READY_ENDPOINT',
  /** The upstream refused, reset or could not be reached. */
  UPSTREAM_CONNECT: 'SWY_ERR_UPSTREAM_CONNECT',
  /** The upstream answered something that is not valid HTTP, or broke off mid-response. */
  UPSTREAM_PROTOCOL: 'SWY_ERR_UPSTREAM_PROTOCOL',
  /** The upstream did not connect or answer within its timeout. */
  UPSTREAM_TIMEOUT: 'SWY_ERR_UPSTREAM_TIMEOUT',
  /**
   * The TLS handshake with a pod failed: its certificate does not chain to the backend's CA
   * (`switchyard.dev/backend-ca-secret`), that CA Secret is unusable, or the pod does not speak TLS.
   */
  UPSTREAM_TLS: 'SWY_ERR_UPSTREAM_TLS',
  /** Every connection to the pod is busy and the wait queue is full (`--upstream-max-connections`). */
  UPSTREAM_BUSY: 'SWY_ERR_UPSTREAM_BUSY',
  /** A request waited for a free connection to the pod longer than its upstream timeout. */
  UPSTREAM_QUEUE_TIMEOUT: 'SWY_ERR_UPSTREAM_QUEUE_TIMEOUT',
  /** undici refused to build the request from what the client sent (never sent, never held against a pod). */
  REQUEST_NOT_FORWARDABLE: 'SWY_ERR_REQUEST_NOT_FORWARDABLE',
  /** The client paused its request body longer than `--client-body-timeout`. */
  REQUEST_BODY_TIMEOUT: 'SWY_ERR_REQUEST_BODY_TIMEOUT',
  /** The request path is refused by the path rules (`--escaped-slashes reject`, or it does not parse). */
  REQUEST_PATH_REJECTED: 'SWY_ERR_REQUEST_PATH_REJECTED',
  /** A request header field is refused by the header rules (`--headers-with-underscores reject`). */
  REQUEST_HEADER_REJECTED: 'SWY_ERR_REQUEST_HEADER_REJECTED',
  /** The request could not be forwarded for a reason on Switchyard's side (never held against a pod). */
  PROXY_INTERNAL: 'SWY_ERR_PROXY_INTERNAL',
  /** An admin API request has a missing or bad query parameter. */
  ADMIN_BAD_QUERY: 'SWY_ERR_ADMIN_BAD_QUERY',
  /** `explain`: the URL is not `http(s)://HOST[:PORT]/PATH` or `/PATH`, or its path is unusable. */
  EXPLAIN_BAD_URL: 'SWY_ERR_EXPLAIN_BAD_URL',
  /** `explain`: the method is not one the HTTP parser accepts. */
  EXPLAIN_BAD_METHOD: 'SWY_ERR_EXPLAIN_BAD_METHOD',
  /** `explain`: a header is not `Name: value`, or a second Host header is given. */
  EXPLAIN_BAD_HEADER: 'SWY_ERR_EXPLAIN_BAD_HEADER',
  /** A data-plane worker thread failed to start. */
  WORKER_FAILED: 'SWY_ERR_WORKER_FAILED',
  /** `--access-log PATH` cannot be opened for appending (its directory is missing or not writable). */
  ACCESS_LOG_OPEN_FAILED: 'SWY_ERR_ACCESS_LOG_OPEN_FAILED',
  /** This Node.js lacks something the data plane is built on (its llhttp binding in `_http_common`). */
  RUNTIME_UNSUPPORTED: 'SWY_ERR_RUNTIME_UNSUPPORTED',
  /** A listener could not bind its address. */
  LISTEN_FAILED: 'SWY_ERR_LISTEN_FAILED',
  /** The kubeconfig cannot be read or used (file, context, cluster, user), or the in-cluster environment is incomplete. */
  KUBE_CONFIG: 'SWY_ERR_KUBE_CONFIG',
  /** The Kubernetes API server cannot be reached, or answered a list or watch with an error. */
  KUBE_UNAVAILABLE: 'SWY_ERR_KUBE_UNAVAILABLE',
  /** The Kubernetes API server refused the credentials (401) or the permission (403, RBAC). */
  KUBE_FORBIDDEN: 'SWY_ERR_KUBE_FORBIDDEN',
  /** Writing an Ingress's status.loadBalancer failed (logged; never fatal). */
  KUBE_STATUS_WRITE: 'SWY_ERR_KUBE_STATUS_WRITE',
  /** `--proxy-mode nftables` cannot run here: not Linux, no `nft` tool (Debian package nftables), or no CAP_NET_ADMIN. */
  NFT_UNAVAILABLE: 'SWY_ERR_NFT_UNAVAILABLE',
  /** `nft` rejected a transaction (the message names the failing line); the previous rules stay in force. */
  NFT_APPLY_FAILED: 'SWY_ERR_NFT_APPLY_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Where in the manifests an error was found: file, document index (0-based), field path and 1-based line (YAML/JSON, when known). */
export interface ManifestLocation {
  readonly file: string;
  readonly document?: number;
  readonly path?: string;
  readonly line?: number;
}

export class SwyError extends Error {
  readonly code: ErrorCode;
  readonly location: ManifestLocation | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; location?: ManifestLocation } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwyError';
    this.code = code;
    this.location = options.location;
  }
}

/** True when `err` carries the given Switchyard error code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Formats a manifest location as `file[:line][ document N][ field path]`, the form every manifest message uses. */
export function formatLocation(loc: ManifestLocation): string {
  let out = loc.line === undefined ? loc.file : `${loc.file}:${loc.line}`;
  if (loc.document !== undefined) out += ` document ${loc.document}`;
  if (loc.path) out += ` field ${loc.path}`;
  return out;
}
