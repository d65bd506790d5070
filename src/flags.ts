/**
 * Command-line flags → validated configuration. Every problem is collected, so a user fixes them all
 * in one go; the caller prints them with the usage and exits 2.
 */
import { isIP } from 'node:net';
import { availableParallelism, hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LevelWithSilent } from './log.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Where Kubernetes objects come from besides manifest files. */
export interface KubeConfigOptions {
  /** Path of a kubeconfig file; undefined with inCluster. */
  readonly kubeconfig: string | undefined;
  /** Context of the kubeconfig; undefined: its current-context. */
  readonly context: string | undefined;
  readonly inCluster: boolean;
  /** Namespaces to watch; empty: all. */
  readonly namespaces: readonly string[];
  readonly labelSelector: string | undefined;
  /** Address written to the served Ingresses' status.loadBalancer; undefined: no write-back. */
  readonly ingressStatusAddress: string | undefined;
  /** Address written to served Gateways' status.addresses, with Gateway and route conditions; undefined: no write-back. */
  readonly gatewayStatusAddress: string | undefined;
}

export interface Config {
  readonly manifests: readonly string[];
  /** The Kubernetes API source; undefined when only manifests are read. */
  readonly kube: KubeConfigOptions | undefined;
  readonly listen: HostPort;
  /** TLS (HTTPS and HTTP/2 by ALPN) edge listener; undefined: none. */
  readonly listenTls: HostPort | undefined;
  /** Secret (`namespace/name`) served to clients whose SNI matches no Ingress `tls:` host; undefined: a generated self-signed one. */
  readonly defaultCertificate: string | undefined;
  /** Hosts with an Ingress `tls:` entry redirect plain HTTP to https (unless their Ingress says `switchyard.dev/ssl-redirect`). */
  readonly sslRedirect: boolean;
  /** How often the TLS session-ticket key (shared by every worker) is replaced, ms. */
  readonly tlsTicketRotationMs: number;
  /** Most concurrent streams a client's HTTP/2 connection may open. */
  readonly http2MaxConcurrentStreams: number;
  /** A WebSocket (or other upgraded) tunnel silent both ways this long is closed, ms. */
  readonly tunnelIdleTimeoutMs: number;
  readonly admin: HostPort;
  readonly clusterDomain: string;
  readonly ingressClass: string;
  readonly logLevel: LevelWithSilent;
  /** Where the access log goes: `stdout`, `stderr`, a file path, or `off`. */
  readonly accessLog: string;
  readonly accessLogFormat: 'json' | 'combined';
  readonly drainTimeoutMs: number;
  readonly shutdownDelayMs: number;
  readonly upstreamConnectTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly upstreamIdleTimeoutMs: number;
  readonly upstreamKeepAliveTimeoutMs: number;
  readonly upstreamMaxConnections: number;
  /** Requests that may wait for a free connection to one pod (per worker) before 503 upstream-busy. */
  readonly upstreamMaxQueue: number;
  /**
   * The client for plaintext HTTP/1.1 pods: Node's llhttp binding driven directly (dataplane/h1-upstream/),
   * or undici (TLS, HTTP/2 and health checks use undici or node:http2 either way).
   */
  readonly upstreamClient: 'llhttp' | 'undici';
  readonly maxHeaderSize: number;
  readonly clientHeaderTimeoutMs: number;
  readonly clientRequestTimeoutMs: number;
  readonly clientKeepAliveTimeoutMs: number;
  /** Longest pause between two reads of a request body before 408, ms. */
  readonly clientBodyTimeoutMs: number;
  /** Request body bytes held in memory before a pod connection is taken (a slow upload never holds one), bytes. */
  readonly requestBufferSize: number;
  /** What all requests of a worker may hold that way at once; past it bodies stream, bytes. */
  readonly requestBufferTotal: number;
  /** After an early answer to a request whose body still arrives, how long the rest is read before the connection closes, ms. */
  readonly lingeringTimeoutMs: number;
  /** Client connections per listener and worker; undefined: derived from the file-descriptor limit at start-up (runtime/fd-budget.ts). */
  readonly maxClientConnections: number | undefined;
  /** Merge adjacent slashes in request paths before matching and forwarding. */
  readonly mergeSlashes: boolean;
  /** What happens to `%2F` and `%5C` in request paths. */
  readonly escapedSlashes: 'keep' | 'reject' | 'unescape';
  /** What happens to request header fields whose names contain `_`. */
  readonly headersWithUnderscores: 'drop' | 'reject' | 'allow';
  /** Peers (CIDR blocks) whose X-Forwarded-* / Forwarded fields and PROXY protocol headers are trusted; empty: none. */
  readonly trustedProxies: readonly string[];
  /** Edge listeners expect a PROXY protocol (v1 or v2) header first on every connection. */
  readonly proxyProtocol: boolean;
  /** The HTTP/1.1 server: Node's llhttp binding driven directly, or node:http (the fallback when the binding is missing). */
  readonly http1Server: 'llhttp' | 'node';
  /** IngressClass `spec.controller` value that names Switchyard. */
  readonly ingressControllerName: string;
  /** GatewayClass `spec.controllerName` value that names Switchyard (Gateway API). */
  readonly gatewayControllerName: string;
  /** Address every Gateway listener's port is opened on (Gateway API); default `0.0.0.0`. */
  readonly gatewayAddress: string;
  /** Serve Ingresses without a class even when IngressClass objects exist and none of ours is the default. */
  readonly watchIngressWithoutClass: boolean;
  readonly healthCheckConcurrency: number;
  /** Collect garbage once at the end of start-up when the heap in use is at least this many MB (0: always). */
  readonly startupGcHeapMb: number;
  /** DNS server address; undefined: no DNS server. */
  readonly dns: HostPort | undefined;
  readonly dnsTtlSeconds: number;
  /** Service-name (sidecar) listener address; undefined: none. */
  readonly serviceListen: HostPort | undefined;
  /** Namespace a bare Service name (`web`) resolves in, on the service listener. */
  readonly namespace: string;
  /** Data-plane worker threads; 1 runs the data plane in the main thread. */
  readonly workers: number;
  /**
   * The layer-4 service proxy (kube-proxy role): off; userspace (node ports served by this process); or
   * nftables (cluster IPs, external IPs, load-balancer IPs and node ports DNATed by kernel rules).
   */
  readonly proxyMode: 'off' | 'userspace' | 'nftables';
  /** Where node ports listen, as `address/prefix` CIDRs; `0.0.0.0/32` or a /0 means every address (the wildcard). */
  readonly nodePortAddresses: readonly string[];
  /** A UDP flow (client address and port) idle this long is forgotten, ms. */
  readonly udpFlowTimeoutMs: number;
  /** This node's name, for Local traffic policies (endpoints' nodeName); default the hostname. */
  readonly nodeName: string;
  /** The pods' address ranges (`address/prefix`), for the nftables mode's masquerade rules; default none. */
  readonly clusterCidrs: readonly string[];
  /** The nftables mode rewrites its whole ruleset this often, ms; default 1 h. */
  readonly nftablesSyncPeriodMs: number;
}

export const USAGE = `Usage: switchyard (--manifests PATH ... | --kubeconfig PATH | --in-cluster) [options]
       switchyard check --manifests PATH ... [--output text|json] [options]
                     load and compile the manifests as start-up would, print every problem;
                     exit 0: would start (warnings allowed), 1: would not, 2: bad flags
       switchyard cleanup --proxy-mode nftables
                     remove the service proxy's nftables tables (left in place on exit)
       switchyard explain --manifests PATH ... [--method M] [--header 'K: V' ...]
                          [--output text|json] [options] URL
                     which rule routes URL and why, the rules that lost, the Service's endpoints
                     and the next round-robin pick (live: GET /api/v1/explain?url=URL on --admin);
                     exit 0: a route matches, 1: none does, 2: bad flags or URL

Routes HTTP by Kubernetes Ingress rules, round-robin across ready endpoints, from manifest files
and/or a Kubernetes API server.

Sources (at least one; manifests and a cluster combine):
  --manifests PATH              manifest file or directory (*.yaml, *.yml, *.json, read recursively);
                                repeatable; watched for changes
  --kubeconfig PATH             watch the cluster of this kubeconfig
  --context NAME                kubeconfig context          [default: the file's current-context]
  --in-cluster                  watch the cluster this pod runs in (service-account token)
  --watch-namespace NS          only these namespaces; repeatable              [default: all]
  --selector LABELS             label selector for Services, EndpointSlices, Ingresses
  --ingress-status-address A    write A to served Ingresses' status.loadBalancer [default: off]
  --gateway-status-address A    write Gateway/route status, A as the Gateways'
                                status.addresses                          [default: off]

Options:
  --listen HOST:PORT            ingress (edge) listener                     [default: 0.0.0.0:8080]
  --listen-tls HOST:PORT        TLS edge listener: certificates from Ingress
                                tls: Secrets chosen by SNI, HTTP/2 and
                                HTTP/1.1 by ALPN                            [default: off]
  --default-certificate NS/NAME Secret for SNI names no Ingress covers
                                                   [default: self-signed, generated at start]
  --ssl-redirect true|false     hosts with an Ingress tls: entry answer plain
                                HTTP with 308 to https (an Ingress's
                                switchyard.dev/ssl-redirect overrides it)   [default: true]
  --tls-ticket-rotation D       replace the TLS session-ticket key (shared
                                by every worker) this often                 [default: 12h]
  --http2-max-concurrent-streams N  streams per client HTTP/2 connection    [default: 100]
  --tunnel-idle-timeout D       close WebSocket/upgraded tunnels silent
                                this long both ways                         [default: 1h]
  --admin HOST:PORT             admin API listener                          [default: 127.0.0.1:9901]
  --cluster-domain DOMAIN       cluster DNS domain of Service names         [default: cluster.local]
  --ingress-class NAME          legacy kubernetes.io/ingress.class value
                                served; the class assumed while no
                                IngressClass object exists                  [default: switchyard]
  --log-level LEVEL             fatal|error|warn|info|debug|trace|silent    [default: info]
  --access-log stdout|stderr|PATH|off  one line per request; a file is
                                reopened on SIGUSR1 (logrotate)             [default: stdout]
  --access-log-format json|combined  access log line format              [default: json]
  --workers N                   data-plane worker threads, each binding the
                                listeners (SO_REUSEPORT); 1 runs the data
                                plane in the main thread   [default: cores available; 1 where
                                                             SO_REUSEPORT does not balance]
  --dns HOST:PORT               serve the registry over DNS (UDP and TCP)   [default: off]
  --dns-ttl DURATION            TTL of DNS answers (whole seconds)          [default: 5s]
  --service-listen HOST:PORT    HTTP listener routing by Service name
                                (sidecar / HTTP_PROXY use)                  [default: off]
  --namespace NS                namespace of bare Service names there       [default: default]
  --proxy-mode off|userspace|nftables
                                layer-4 service proxy (kube-proxy role):
                                userspace listens on every Service node
                                port (TCP, UDP) and forwards to endpoints;
                                nftables DNATs cluster IPs, external IPs
                                and node ports in the kernel (Linux, needs
                                CAP_NET_ADMIN and nft)                      [default: off]
  --nodeport-addresses CIDR,... addresses node ports listen on: local
                                addresses inside the CIDRs; 0.0.0.0 or a /0
                                is every address                            [default: 0.0.0.0]
  --udp-flow-timeout D          forget an idle UDP flow (client address and
                                port) of the service proxy after            [default: 30s]
  --node-name NAME              this node, for Local traffic policies
                                (endpoints' nodeName)                  [default: the hostname]
  --cluster-cidr CIDR,...       the pods' address ranges: nftables mode
                                masquerades cluster-IP traffic from
                                outside them                                [default: none]
  --nftables-sync-period D      nftables mode rewrites its whole ruleset
                                this often (rules deleted by hand return)   [default: 1h]
  --shutdown-delay DURATION     on SIGTERM, keep serving this long with
                                /readyz at 503 before draining (SIGINT
                                skips it)                                   [default: 5s]
  --drain-timeout DURATION      on SIGINT/SIGTERM, how long in-flight
                                requests may take before they are cut       [default: 10s]
  --upstream-connect-timeout D  upstream TCP connect timeout (→ 504)        [default: 5s]
  --upstream-timeout DURATION   wait for upstream response headers (→ 504)  [default: 60s]
  --upstream-idle-timeout D     longest pause inside an upstream response
                                body before it is cut                       [default: 60s]
  --upstream-keepalive-timeout D  idle upstream connections are closed after [default: 4s]
  --upstream-max-connections N  keep-alive connections per endpoint         [default: 128]
  --upstream-max-queue N        requests waiting for a connection to one
                                pod before 503 upstream-busy (the wait counts
                                inside --upstream-timeout)                  [default: 1024]
  --upstream-client llhttp|undici  client for plaintext HTTP/1.1 pods       [default: undici]
  --max-header-size BYTES       largest request head before 431             [default: 16384]
  --client-header-timeout D     time a client has to send its request head
                                (slowloris guard; → 408)                    [default: 15s]
  --client-request-timeout D    time a client has to send its whole request [default: 300s]
  --client-keepalive-timeout D  idle client keep-alive connections close    [default: 5s]
  --client-body-timeout D       longest pause between two reads of a
                                request body (→ 408)                        [default: 60s]
  --request-buffer-size BYTES   request body bytes buffered before a pod
                                connection is taken, so a slow upload never
                                holds one                                   [default: 65536]
  --request-buffer-total BYTES  what all requests of a worker may hold that
                                way at once; past it bodies stream     [default: 67108864]
  --lingering-timeout D         after an early answer, how long the rest of
                                a request body is read before closing       [default: 5s]
  --max-client-connections N    client connections per listener and worker;
                                the excess is closed at once
                                                 [default: from the file-descriptor limit]
  --merge-slashes true|false    merge adjacent slashes in paths             [default: true]
  --escaped-slashes MODE        %2F and %5C in paths: keep|reject|unescape  [default: keep]
  --headers-with-underscores M  request fields named with _:
                                drop|reject|allow                           [default: drop]
  --trusted-proxies CIDR,...    peers whose X-Forwarded-*, Forwarded and
                                PROXY protocol headers are trusted          [default: none]
  --proxy-protocol true|false   edge listeners read a PROXY protocol v1/v2
                                header first (peers in --trusted-proxies)   [default: false]
  --http1-server llhttp|node    HTTP/1.1 server implementation       [default: llhttp]
  --ingress-controller-name N   IngressClass spec.controller served
                                             [default: switchyard.dev/ingress-controller]
  --gateway-controller-name N   GatewayClass spec.controllerName served
                                             [default: switchyard.dev/gateway-controller]
  --gateway-address A           address the Gateway listeners' ports open on  [default: 0.0.0.0]
  --watch-ingress-without-class true|false  serve Ingresses without a class
                                even when no IngressClass of ours is the default [default: false]
  --health-check-concurrency N  most active health checks in flight         [default: 64]
  --startup-gc-heap MB          one garbage collection after start-up, giving
                                freed memory back, when the heap in use is at
                                least MB (0: always)                        [default: 0]
  -h, --help                    show this help
  -v, --version                 print the version (and Node.js's) and exit

Port 0 picks a free port; the chosen address is logged as "listening role=... address=...".
Durations: 500ms, 10s, 2m, or a bare number of seconds.
`;

/**
 * Whether the kernel spreads new connections over sockets bound with SO_REUSEPORT, so that worker
 * threads can each bind the listeners (Node's `reusePort`: Linux, FreeBSD 12+, Solaris 11.4, AIX 7.2.5;
 * macOS and Windows lack it).
 */
export const REUSE_PORT_BALANCES = ['linux', 'freebsd', 'sunos', 'aix'].includes(process.platform);

export type ParseResult = { readonly kind: 'help' } | { readonly kind: 'version' } | { readonly kind: 'config'; readonly config: Config } | { readonly kind: 'error'; readonly errors: readonly string[] };

const OPTIONS = {
  manifests: { type: 'string', multiple: true },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'in-cluster': { type: 'boolean', default: false },
  'watch-namespace': { type: 'string', multiple: true },
  selector: { type: 'string' },
  'ingress-status-address': { type: 'string' },
  listen: { type: 'string', default: '0.0.0.0:8080' },
  'listen-tls': { type: 'string' },
  'default-certificate': { type: 'string' },
  'ssl-redirect': { type: 'string', default: 'true' },
  'tls-ticket-rotation': { type: 'string', default: '12h' },
  'http2-max-concurrent-streams': { type: 'string', default: '100' },
  'tunnel-idle-timeout': { type: 'string', default: '1h' },
  admin: { type: 'string', default: '127.0.0.1:9901' },
  'cluster-domain': { type: 'string', default: 'cluster.local' },
  'ingress-class': { type: 'string', default: 'switchyard' },
  'log-level': { type: 'string', default: 'info' },
  'access-log': { type: 'string', default: 'stdout' },
  'access-log-format': { type: 'string', default: 'json' },
  'shutdown-delay': { type: 'string', default: '5s' },
  'drain-timeout': { type: 'string', default: '10s' },
  'upstream-connect-timeout': { type: 'string', default: '5s' },
  'upstream-timeout': { type: 'string', default: '60s' },
  'upstream-idle-timeout': { type: 'string', default: '60s' },
  'upstream-keepalive-timeout': { type: 'string', default: '4s' },
  'upstream-max-connections': { type: 'string', default: '128' },
  'upstream-max-queue': { type: 'string', default: '1024' },
  'upstream-client': { type: 'string', default: 'undici' },
  'max-header-size': { type: 'string', default: '16384' },
  'client-header-timeout': { type: 'string', default: '15s' },
  'client-request-timeout': { type: 'string', default: '300s' },
  'client-keepalive-timeout': { type: 'string', default: '5s' },
  'client-body-timeout': { type: 'string', default: '60s' },
  'request-buffer-size': { type: 'string', default: '65536' },
  'request-buffer-total': { type: 'string', default: '67108864' },
  'lingering-timeout': { type: 'string', default: '5s' },
  'max-client-connections': { type: 'string' },
  'merge-slashes': { type: 'string', default: 'true' },
  'escaped-slashes': { type: 'string', default: 'keep' },
  'headers-with-underscores': { type: 'string', default: 'drop' },
  'trusted-proxies': { type: 'string', multiple: true },
  'proxy-protocol': { type: 'string', default: 'false' },
  'http1-server': { type: 'string', default: 'llhttp' },
  'ingress-controller-name': { type: 'string', default: 'switchyard.dev/ingress-controller' },
  'gateway-controller-name': { type: 'string', default: 'switchyard.dev/gateway-controller' },
  'gateway-address': { type: 'string', default: '0.0.0.0' },
  'gateway-status-address': { type: 'string' },
  'watch-ingress-without-class': { type: 'string', default: 'false' },
  'health-check-concurrency': { type: 'string', default: '64' },
  'startup-gc-heap': { type: 'string', default: '0' },
  dns: { type: 'string' },
  'dns-ttl': { type: 'string', default: '5s' },
  'service-listen': { type: 'string' },
  namespace: { type: 'string', default: 'default' },
  workers: { type: 'string' },
  'proxy-mode': { type: 'string', default: 'off' },
  'nodeport-addresses': { type: 'string', multiple: true },
  'udp-flow-timeout': { type: 'string', default: '30s' },
  'node-name': { type: 'string' },
  'cluster-cidr': { type: 'string', multiple: true },
  'nftables-sync-period': { type: 'string', default: '1h' },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const;

export function parseFlags(argv: readonly string[]): ParseResult {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    return { kind: 'error', errors: [(err as Error).message] };
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const errors: string[] = [];
  const manifests = values.manifests ?? [];
  for (const m of manifests) if (m.trim() === '') errors.push('--manifests: empty path');
  const kube = parseKubeFlags(values, errors);
  if (manifests.length === 0 && kube === undefined) errors.push('--manifests: at least one PATH is required (or --kubeconfig PATH, or --in-cluster)');

  const listen = parseHostPort('--listen', values.listen, errors);
  const admin = parseHostPort('--admin', values.admin, errors);
  const clusterDomain = values['cluster-domain'].toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(clusterDomain)) {
    errors.push(`--cluster-domain: ${JSON.stringify(values['cluster-domain'])} is not a DNS domain`);
  }
  const ingressClass = values['ingress-class'];
  if (ingressClass === '') errors.push('--ingress-class: must not be empty');
  const logLevel = values['log-level'] as LevelWithSilent;
  if (!LOG_LEVELS.includes(logLevel)) errors.push(`--log-level: ${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(', ')}`);

  const config: Config = {
    manifests,
    kube,
    listen,
    listenTls: values['listen-tls'] === undefined ? undefined : parseHostPort('--listen-tls', values['listen-tls'], errors),
    defaultCertificate: parseSecretRef('--default-certificate', values['default-certificate'], errors),
    sslRedirect: parseBoolean('--ssl-redirect', values['ssl-redirect'], errors),
    tlsTicketRotationMs: parseDuration('--tls-ticket-rotation', values['tls-ticket-rotation'], errors, false),
    http2MaxConcurrentStreams: parseInteger('--http2-max-concurrent-streams', values['http2-max-concurrent-streams'], 1, 10_000, errors),
    tunnelIdleTimeoutMs: parseDuration('--tunnel-idle-timeout', values['tunnel-idle-timeout'], errors, false),
    admin,
    clusterDomain,
    ingressClass,
    logLevel,
    accessLog: values['access-log'],
    accessLogFormat: parseChoice('--access-log-format', values['access-log-format'], ['json', 'combined'] as const, errors),
    drainTimeoutMs: parseDuration('--drain-timeout', values['drain-timeout'], errors, true),
    shutdownDelayMs: parseDuration('--shutdown-delay', values['shutdown-delay'], errors, true),
    upstreamConnectTimeoutMs: parseDuration('--upstream-connect-timeout', values['upstream-connect-timeout'], errors, false),
    upstreamTimeoutMs: parseDuration('--upstream-timeout', values['upstream-timeout'], errors, false),
    upstreamIdleTimeoutMs: parseDuration('--upstream-idle-timeout', values['upstream-idle-timeout'], errors, false),
    upstreamKeepAliveTimeoutMs: parseDuration('--upstream-keepalive-timeout', values['upstream-keepalive-timeout'], errors, false),
    upstreamMaxConnections: parseInteger('--upstream-max-connections', values['upstream-max-connections'], 1, 65536, errors),
    upstreamMaxQueue: parseInteger('--upstream-max-queue', values['upstream-max-queue'], 0, 1_000_000, errors),
    upstreamClient: parseChoice('--upstream-client', values['upstream-client'], ['llhttp', 'undici'] as const, errors),
    maxHeaderSize: parseInteger('--max-header-size', values['max-header-size'], 1024, 1024 * 1024, errors),
    clientHeaderTimeoutMs: parseDuration('--client-header-timeout', values['client-header-timeout'], errors, false),
    clientRequestTimeoutMs: parseDuration('--client-request-timeout', values['client-request-timeout'], errors, false),
    clientKeepAliveTimeoutMs: parseDuration('--client-keepalive-timeout', values['client-keepalive-timeout'], errors, false),
    clientBodyTimeoutMs: parseDuration('--client-body-timeout', values['client-body-timeout'], errors, false),
    requestBufferSize: parseInteger('--request-buffer-size', values['request-buffer-size'], 0, 64 * 1024 * 1024, errors),
    requestBufferTotal: parseInteger('--request-buffer-total', values['request-buffer-total'], 0, 64 * 1024 * 1024 * 1024, errors),
    lingeringTimeoutMs: parseDuration('--lingering-timeout', values['lingering-timeout'], errors, true),
    maxClientConnections: values['max-client-connections'] === undefined ? undefined : parseInteger('--max-client-connections', values['max-client-connections'], 1, 10_000_000, errors),
    mergeSlashes: parseBoolean('--merge-slashes', values['merge-slashes'], errors),
    escapedSlashes: parseChoice('--escaped-slashes', values['escaped-slashes'], ['keep', 'reject', 'unescape'] as const, errors),
    headersWithUnderscores: parseChoice('--headers-with-underscores', values['headers-with-underscores'], ['drop', 'reject', 'allow'] as const, errors),
    trustedProxies: parseCidrs('--trusted-proxies', values['trusted-proxies'] ?? [], errors),
    proxyProtocol: parseBoolean('--proxy-protocol', values['proxy-protocol'], errors),
    http1Server: parseChoice('--http1-server', values['http1-server'], ['llhttp', 'node'] as const, errors),
    ingressControllerName: values['ingress-controller-name'],
    gatewayControllerName: values['gateway-controller-name'],
    gatewayAddress: parseAddress('--gateway-address', values['gateway-address'], errors),
    watchIngressWithoutClass: parseBoolean('--watch-ingress-without-class', values['watch-ingress-without-class'], errors),
    healthCheckConcurrency: parseInteger('--health-check-concurrency', values['health-check-concurrency'], 1, 10_000, errors),
    startupGcHeapMb: parseInteger('--startup-gc-heap', values['startup-gc-heap'], 0, 1_000_000, errors),
    dns: values.dns === undefined ? undefined : parseHostPort('--dns', values.dns, errors),
    dnsTtlSeconds: parseTtl(values['dns-ttl'], errors),
    serviceListen: values['service-listen'] === undefined ? undefined : parseHostPort('--service-listen', values['service-listen'], errors),
    namespace: values.namespace,
    workers: values.workers === undefined ? (REUSE_PORT_BALANCES ? availableParallelism() : 1) : parseInteger('--workers', values.workers, 1, 256, errors),
    proxyMode: parseChoice('--proxy-mode', values['proxy-mode'], ['off', 'userspace', 'nftables'] as const, errors),
    nodePortAddresses: parseCidrs('--nodeport-addresses', values['nodeport-addresses'] ?? ['0.0.0.0'], errors),
    udpFlowTimeoutMs: parseDuration('--udp-flow-timeout', values['udp-flow-timeout'], errors, false),
    nodeName: values['node-name'] ?? hostname().toLowerCase(),
    clusterCidrs: parseCidrs('--cluster-cidr', values['cluster-cidr'] ?? [], errors),
    nftablesSyncPeriodMs: parseDuration('--nftables-sync-period', values['nftables-sync-period'], errors, false),
  };
  if (config.workers > 1 && !REUSE_PORT_BALANCES) {
    errors.push(`--workers: ${config.workers} worker threads each bind the listeners with SO_REUSEPORT, which does not spread connections on ${process.platform}; use --workers 1 (the default there)`);
  }
  if (config.accessLog === '') errors.push('--access-log: must be stdout, stderr, off or a file path');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(config.namespace) || config.namespace.length > 63) {
    errors.push(`--namespace: ${JSON.stringify(config.namespace)} is not a namespace name (a lower-case RFC 1123 label)`);
  }
  // Node refuses a request timeout shorter than the header timeout.
  if (config.clientRequestTimeoutMs > 0 && config.clientHeaderTimeoutMs > config.clientRequestTimeoutMs) {
    errors.push('--client-header-timeout: must not exceed --client-request-timeout');
  }
  if (config.nodeName === '') errors.push('--node-name: must not be empty');
  if (config.nodePortAddresses.length === 0) errors.push('--nodeport-addresses: needs at least one CIDR (0.0.0.0: every address)');
  if (config.proxyProtocol && config.trustedProxies.length === 0) {
    errors.push('--proxy-protocol: needs --trusted-proxies (the peers allowed to send the header)');
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/.test(config.ingressControllerName)) {
    errors.push(`--ingress-controller-name: ${JSON.stringify(config.ingressControllerName)} is not a domain-prefixed path (e.g. switchyard.dev/ingress-controller)`);
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/.test(config.gatewayControllerName)) {
    errors.push(`--gateway-controller-name: ${JSON.stringify(config.gatewayControllerName)} is not a domain-prefixed path (e.g. switchyard.dev/gateway-controller)`);
  }
  return errors.length > 0 ? { kind: 'error', errors } : { kind: 'config', config };
}

function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[], errors: string[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  errors.push(`${flag}: ${JSON.stringify(value)} is not one of ${choices.join(', ')}`);
  return choices[0]!;
}

/** CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses, comma-separated or repeated; returned as `address/prefix`. */
function parseCidrs(flag: string, values: readonly string[], errors: string[]): string[] {
  const out: string[] = [];
  for (const item of values.flatMap((v) => v.split(','))) {
    const text = item.trim();
    if (text === '') continue;
    const slash = text.indexOf('/');
    const address = slash < 0 ? text : text.slice(0, slash);
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const prefix = slash < 0 ? max : /^\d{1,3}$/.test(text.slice(slash + 1)) ? Number(text.slice(slash + 1)) : NaN;
    if (family === 0 || !(prefix >= 0 && prefix <= max)) {
      errors.push(`${flag}: ${JSON.stringify(text)} is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)`);
      continue;
    }
    out.push(`${address}/${prefix}`);
  }
  return out;
}

function parseKubeFlags(
  values: { kubeconfig?: string; context?: string; 'in-cluster': boolean; 'watch-namespace'?: string[]; selector?: string; 'ingress-status-address'?: string; 'gateway-status-address'?: string },
  errors: string[],
): KubeConfigOptions | undefined {
  const inCluster = values['in-cluster'];
  const kubeconfig = values.kubeconfig;
  const namespaces = values['watch-namespace'] ?? [];
  const selector = values.selector;
  const statusAddress = values['ingress-status-address'];
  const gatewayStatusAddress = values['gateway-status-address'];
  if (inCluster && kubeconfig !== undefined) errors.push('--in-cluster: not together with --kubeconfig (pick one cluster)');
  if (kubeconfig !== undefined && kubeconfig.trim() === '') errors.push('--kubeconfig: empty path');
  if (values.context !== undefined && kubeconfig === undefined) errors.push('--context: needs --kubeconfig');
  for (const ns of namespaces) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63) errors.push(`--watch-namespace: ${JSON.stringify(ns)} is not a namespace name`);
  }
  if (selector !== undefined && !/^\s*[^\s,]/.test(selector)) errors.push(`--selector: ${JSON.stringify(selector)} is not a label selector (e.g. app=web,tier!=db)`);
  if (statusAddress !== undefined && statusAddress.trim() === '') errors.push('--ingress-status-address: empty address');
  if (gatewayStatusAddress !== undefined && gatewayStatusAddress.trim() === '') errors.push('--gateway-status-address: empty address');
  const kubeFlagsWithoutCluster = [
    namespaces.length > 0 && '--watch-namespace',
    selector !== undefined && '--selector',
    statusAddress !== undefined && '--ingress-status-address',
    gatewayStatusAddress !== undefined && '--gateway-status-address',
  ].filter((f): f is string => typeof f === 'string');
  if (!inCluster && kubeconfig === undefined) {
    for (const f of kubeFlagsWithoutCluster) errors.push(`${f}: needs --kubeconfig or --in-cluster`);
    return undefined;
  }
  return { kubeconfig, context: values.context, inCluster, namespaces, labelSelector: selector, ingressStatusAddress: statusAddress, gatewayStatusAddress };
}

function parseBoolean(flag: string, value: string, errors: string[]): boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  errors.push(`${flag}: ${JSON.stringify(value)} is not true or false`);
  return true;
}

/** `namespace/name` of a Secret. */
function parseSecretRef(flag: string, value: string | undefined, errors: string[]): string | undefined {
  if (value === undefined) return undefined;
  const label = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
  if (!new RegExp(`^${label}/${label}(\\.${label})*$`).test(value)) {
    errors.push(`${flag}: ${JSON.stringify(value)} is not NAMESPACE/NAME of a Secret`);
    return undefined;
  }
  return value;
}

/** An IPv4 or IPv6 address (no port, no brackets). */
function parseAddress(flag: string, value: string, errors: string[]): string {
  if (isIP(value) === 0) errors.push(`${flag}: ${JSON.stringify(value)} is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::)`);
  return value;
}

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces). */
export function parseHostPort(flag: string, value: string, errors: string[]): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    errors.push(`${flag}: ${JSON.stringify(value)} is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)`);
    return { host: '', port: 0 };
  }
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, '': 1000 };

/** A duration in ms from `500ms`, `10s`, `2m`, `1h` or a bare number of seconds. */
export function parseDuration(flag: string, value: string, errors: string[], allowZero: boolean): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|)$/.exec(value.trim());
  const ms = m ? Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!) : NaN;
  if (!m || !Number.isFinite(ms) || (!allowZero && ms === 0) || ms > 2_147_483_647) {
    errors.push(`${flag}: ${JSON.stringify(value)} is not a duration (e.g. 500ms, 10s, 2m)${allowZero ? '' : ' above zero'}`);
    return 0;
  }
  return ms;
}

/** DNS TTLs are whole seconds (RFC 2181 §8); 0 is allowed (answers not cached). */
function parseTtl(value: string, errors: string[]): number {
  const ms = parseDuration('--dns-ttl', value, errors, true);
  if (ms % 1000 !== 0 || ms / 1000 > 2_147_483_647) {
    errors.push(`--dns-ttl: ${JSON.stringify(value)} is not a whole number of seconds`);
    return 0;
  }
  return ms / 1000;
}

function parseInteger(flag: string, value: string, min: number, max: number, errors: string[]): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    errors.push(`${flag}: ${JSON.stringify(value)} is not a whole number from ${min} to ${max}`);
    return min;
  }
  return n;
}
