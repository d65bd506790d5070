import { availableParallelism, hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseFlags, parseHostPort, USAGE, type Config } from '../../src/flags.ts';

function config(argv: readonly string[]): Config {
  const r = parseFlags(argv);
  if (r.kind !== 'config') throw new Error(`expected a config, got ${JSON.stringify(r)}`);
  return r.config;
}

function errors(argv: readonly string[]): readonly string[] {
  const r = parseFlags(argv);
  if (r.kind !== 'error') throw new Error(`expected errors, got ${JSON.stringify(r)}`);
  return r.errors;
}

const M = ['--manifests', 'manifests/'];

describe('parseFlags: defaults', () => {
  it('fills every default', () => {
    expect(config(M)).toEqual({
      manifests: ['manifests/'],
      listen: { host: '0.0.0.0', port: 8080 },
      listenTls: undefined,
      defaultCertificate: undefined,
      sslRedirect: true,
      tlsTicketRotationMs: 43_200_000,
      http2MaxConcurrentStreams: 100,
      tunnelIdleTimeoutMs: 3_600_000,
      admin: { host: '127.0.0.1', port: 9901 },
      clusterDomain: 'cluster.local',
      ingressClass: 'switchyard',
      logLevel: 'info',
      accessLog: 'stdout',
      accessLogFormat: 'json',
      drainTimeoutMs: 10_000,
      shutdownDelayMs: 5_000,
      upstreamConnectTimeoutMs: 5_000,
      upstreamTimeoutMs: 60_000,
      upstreamIdleTimeoutMs: 60_000,
      upstreamKeepAliveTimeoutMs: 4_000,
      upstreamMaxConnections: 128,
      upstreamMaxQueue: 1024,
      upstreamClient: 'undici',
      maxHeaderSize: 16_384,
      clientHeaderTimeoutMs: 15_000,
      clientRequestTimeoutMs: 300_000,
      clientKeepAliveTimeoutMs: 5_000,
      clientBodyTimeoutMs: 60_000,
      requestBufferSize: 65_536,
      requestBufferTotal: 67_108_864,
      lingeringTimeoutMs: 5_000,
      maxClientConnections: undefined,
      mergeSlashes: true,
      escapedSlashes: 'keep',
      headersWithUnderscores: 'drop',
      trustedProxies: [],
      proxyProtocol: false,
      http1Server: 'llhttp',
      ingressControllerName: 'switchyard.dev/ingress-controller',
      gatewayControllerName: 'switchyard.dev/gateway-controller',
      gatewayAddress: '0.0.0.0',
      watchIngressWithoutClass: false,
      healthCheckConcurrency: 64,
      startupGcHeapMb: 0,
      dns: undefined,
      dnsTtlSeconds: 5,
      serviceListen: undefined,
      namespace: 'default',
      workers: availableParallelism(),
      kube: undefined,
      proxyMode: 'off',
      nodePortAddresses: ['0.0.0.0/32'],
      udpFlowTimeoutMs: 30_000,
      nodeName: hostname().toLowerCase(),
      clusterCidrs: [],
      nftablesSyncPeriodMs: 3_600_000,
    });
  });
});

describe('parseFlags: every flag', () => {
  it.each([
    ['--manifests repeated', ['--manifests', 'a.yaml', '--manifests', 'dir/'], { manifests: ['a.yaml', 'dir/'] }],
    ['--manifests=PATH', ['--manifests=a.yaml'], { manifests: ['a.yaml'] }],
    ['--listen', [...M, '--listen', '127.0.0.1:0'], { listen: { host: '127.0.0.1', port: 0 } }],
    ['--listen :PORT (all interfaces)', [...M, '--listen', ':9000'], { listen: { host: '0.0.0.0', port: 9000 } }],
    ['--listen [::1]:0', [...M, '--listen', '[::1]:0'], { listen: { host: '::1', port: 0 } }],
    ['--listen=[::]:8080', [...M, '--listen=[::]:8080'], { listen: { host: '::', port: 8080 } }],
    ['--listen localhost:65535', [...M, '--listen', 'localhost:65535'], { listen: { host: 'localhost', port: 65535 } }],
    ['--admin', [...M, '--admin', '0.0.0.0:19901'], { admin: { host: '0.0.0.0', port: 19901 } }],
    ['--listen-tls', [...M, '--listen-tls', '127.0.0.1:8443'], { listenTls: { host: '127.0.0.1', port: 8443 } }],
    ['--default-certificate', [...M, '--default-certificate', 'ingress/wildcard-tls'], { defaultCertificate: 'ingress/wildcard-tls' }],
    ['--default-certificate dotted name', [...M, '--default-certificate', 'kube-system/default.tls'], { defaultCertificate: 'kube-system/default.tls' }],
    ['--ssl-redirect false', [...M, '--ssl-redirect', 'false'], { sslRedirect: false }],
    ['--tls-ticket-rotation', [...M, '--tls-ticket-rotation', '1h'], { tlsTicketRotationMs: 3_600_000 }],
    ['--http2-max-concurrent-streams', [...M, '--http2-max-concurrent-streams', '250'], { http2MaxConcurrentStreams: 250 }],
    ['--tunnel-idle-timeout', [...M, '--tunnel-idle-timeout', '30s'], { tunnelIdleTimeoutMs: 30_000 }],
    ['--admin [fe80::1]:9', [...M, '--admin', '[fe80::1]:9'], { admin: { host: 'fe80::1', port: 9 } }],
    ['--cluster-domain', [...M, '--cluster-domain', 'corp.example'], { clusterDomain: 'corp.example' }],
    ['--cluster-domain lower-cased, trailing dot dropped', [...M, '--cluster-domain', 'Corp.Example.'], { clusterDomain: 'corp.example' }],
    ['--cluster-domain single label', [...M, '--cluster-domain', 'k8s'], { clusterDomain: 'k8s' }],
    ['--ingress-class', [...M, '--ingress-class', 'nginx'], { ingressClass: 'nginx' }],
    ['--log-level', [...M, '--log-level', 'debug'], { logLevel: 'debug' }],
    ['--log-level silent', [...M, '--log-level', 'silent'], { logLevel: 'silent' }],
    ['--drain-timeout 0 (allowed)', [...M, '--drain-timeout', '0'], { drainTimeoutMs: 0 }],
    ['--drain-timeout 2m', [...M, '--drain-timeout', '2m'], { drainTimeoutMs: 120_000 }],
    ['--upstream-connect-timeout 500ms', [...M, '--upstream-connect-timeout', '500ms'], { upstreamConnectTimeoutMs: 500 }],
    ['--upstream-timeout 1.5s', [...M, '--upstream-timeout', '1.5s'], { upstreamTimeoutMs: 1_500 }],
    ['--upstream-timeout bare seconds', [...M, '--upstream-timeout', '30'], { upstreamTimeoutMs: 30_000 }],
    ['--upstream-max-connections', [...M, '--upstream-max-connections', '1'], { upstreamMaxConnections: 1 }],
    ['--upstream-max-connections upper bound', [...M, '--upstream-max-connections', '65536'], { upstreamMaxConnections: 65_536 }],
    ['--max-header-size lower bound', [...M, '--max-header-size', '1024'], { maxHeaderSize: 1024 }],
    ['--max-header-size upper bound', [...M, '--max-header-size', '1048576'], { maxHeaderSize: 1_048_576 }],
    ['--shutdown-delay 0', [...M, '--shutdown-delay', '0'], { shutdownDelayMs: 0 }],
    ['--upstream-idle-timeout', [...M, '--upstream-idle-timeout', '2s'], { upstreamIdleTimeoutMs: 2_000 }],
    ['--upstream-keepalive-timeout', [...M, '--upstream-keepalive-timeout', '30s'], { upstreamKeepAliveTimeoutMs: 30_000 }],
    ['--client-header-timeout', [...M, '--client-header-timeout', '500ms'], { clientHeaderTimeoutMs: 500 }],
    ['--client-request-timeout', [...M, '--client-request-timeout', '1m'], { clientRequestTimeoutMs: 60_000 }],
    ['--client-keepalive-timeout', [...M, '--client-keepalive-timeout', '1s'], { clientKeepAliveTimeoutMs: 1_000 }],
    ['--health-check-concurrency', [...M, '--health-check-concurrency', '8'], { healthCheckConcurrency: 8 }],
    ['--startup-gc-heap 0 (always)', [...M, '--startup-gc-heap', '0'], { startupGcHeapMb: 0 }],
    ['--dns', [...M, '--dns', '127.0.0.1:0'], { dns: { host: '127.0.0.1', port: 0 } }],
    ['--dns-ttl 0 (no caching)', [...M, '--dns-ttl', '0'], { dnsTtlSeconds: 0 }],
    ['--dns-ttl 1m', [...M, '--dns-ttl', '1m'], { dnsTtlSeconds: 60 }],
    ['--service-listen', [...M, '--service-listen', '[::1]:15001'], { serviceListen: { host: '::1', port: 15001 } }],
    ['--namespace', [...M, '--namespace', 'shop'], { namespace: 'shop' }],
    ['--workers', [...M, '--workers', '3'], { workers: 3 }],
    ['--proxy-mode', [...M, '--proxy-mode', 'userspace'], { proxyMode: 'userspace' }],
    ['--nodeport-addresses', [...M, '--nodeport-addresses', '127.0.0.1/32,10.0.0.0/8'], { nodePortAddresses: ['127.0.0.1/32', '10.0.0.0/8'] }],
    ['--udp-flow-timeout', [...M, '--udp-flow-timeout', '500ms'], { udpFlowTimeoutMs: 500 }],
    ['--node-name', [...M, '--node-name', 'node-a'], { nodeName: 'node-a' }],
    ['--proxy-mode nftables', [...M, '--proxy-mode', 'nftables'], { proxyMode: 'nftables' }],
    ['--cluster-cidr', [...M, '--cluster-cidr', '10.244.0.0/16,fd00:10:244::/56'], { clusterCidrs: ['10.244.0.0/16', 'fd00:10:244::/56'] }],
    ['--nftables-sync-period', [...M, '--nftables-sync-period', '30m'], { nftablesSyncPeriodMs: 1_800_000 }],
    ['--upstream-max-queue', [...M, '--upstream-max-queue', '0'], { upstreamMaxQueue: 0 }],
    ['--upstream-client', [...M, '--upstream-client', 'llhttp'], { upstreamClient: 'llhttp' }],
    ['--client-body-timeout', [...M, '--client-body-timeout', '5s'], { clientBodyTimeoutMs: 5000 }],
    ['--request-buffer-size 0 (stream bodies at once)', [...M, '--request-buffer-size', '0'], { requestBufferSize: 0 }],
    ['--lingering-timeout 0', [...M, '--lingering-timeout', '0'], { lingeringTimeoutMs: 0 }],
    ['--max-client-connections', [...M, '--max-client-connections', '5000'], { maxClientConnections: 5000 }],
    ['--merge-slashes false', [...M, '--merge-slashes', 'false'], { mergeSlashes: false }],
    ['--escaped-slashes reject', [...M, '--escaped-slashes', 'reject'], { escapedSlashes: 'reject' }],
    ['--headers-with-underscores allow', [...M, '--headers-with-underscores', 'allow'], { headersWithUnderscores: 'allow' }],
    ['--trusted-proxies, comma-separated and repeated, addresses become /32 and /128', [...M, '--trusted-proxies', '10.0.0.0/8, 192.0.2.1', '--trusted-proxies', '2001:db8::/32,::1'], { trustedProxies: ['10.0.0.0/8', '192.0.2.1/32', '2001:db8::/32', '::1/128'] }],
    ['--proxy-protocol with --trusted-proxies', [...M, '--proxy-protocol', 'true', '--trusted-proxies', '10.0.0.0/8'], { proxyProtocol: true }],
    ['--http1-server node', [...M, '--http1-server', 'node'], { http1Server: 'node' }],
    ['--ingress-controller-name', [...M, '--ingress-controller-name', 'example.com/edge'], { ingressControllerName: 'example.com/edge' }],
    ['--gateway-address', [...M, '--gateway-address', '127.0.0.1'], { gatewayAddress: '127.0.0.1' }],
    ['--gateway-status-address with a cluster', ['--kubeconfig', 'k.yaml', '--gateway-status-address', '203.0.113.7'], { kube: { kubeconfig: 'k.yaml', context: undefined, inCluster: false, namespaces: [], labelSelector: undefined, ingressStatusAddress: undefined, gatewayStatusAddress: '203.0.113.7' } }],
    ['--gateway-controller-name', [...M, '--gateway-controller-name', 'example.com/gw'], { gatewayControllerName: 'example.com/gw' }],
    ['--watch-ingress-without-class true', [...M, '--watch-ingress-without-class', 'true'], { watchIngressWithoutClass: true }],
    ['no manifests, --kubeconfig', ['--kubeconfig', 'k.yaml'], { manifests: [], kube: { kubeconfig: 'k.yaml', context: undefined, inCluster: false, namespaces: [], labelSelector: undefined, ingressStatusAddress: undefined, gatewayStatusAddress: undefined } }],
    [
      'every kube flag',
      [...M, '--kubeconfig', 'k.yaml', '--context', 'dev', '--watch-namespace', 'a', '--watch-namespace', 'b', '--selector', 'app=web', '--ingress-status-address', '203.0.113.10'],
      { manifests: ['manifests/'], kube: { kubeconfig: 'k.yaml', context: 'dev', inCluster: false, namespaces: ['a', 'b'], labelSelector: 'app=web', ingressStatusAddress: '203.0.113.10' } },
    ],
    ['--in-cluster alone', ['--in-cluster'], { kube: { kubeconfig: undefined, context: undefined, inCluster: true, namespaces: [], labelSelector: undefined, ingressStatusAddress: undefined, gatewayStatusAddress: undefined } }],
  ])('%s', (_name, argv, expected) => {
    expect(config(argv)).toMatchObject(expected);
  });
});

describe('parseFlags: bad values, each reported', () => {
  // [description, argv, the exact errors expected]
  it.each([
    ['no --manifests', [], ['--manifests: at least one PATH is required (or --kubeconfig PATH, or --in-cluster)']],
    ['an empty --manifests path', ['--manifests', ''], ['--manifests: empty path']],
    ['a blank --manifests path among good ones', ['--manifests', 'a', '--manifests', '  '], ['--manifests: empty path']],
    ['--gateway-address not an address', [...M, '--gateway-address', 'localhost:80'], ['--gateway-address: "localhost:80" is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::)']],
    ['--gateway-status-address without a cluster', [...M, '--gateway-status-address', '203.0.113.7'], ['--gateway-status-address: needs --kubeconfig or --in-cluster']],
    ['--listen without a port', [...M, '--listen', '127.0.0.1'], ['--listen: "127.0.0.1" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)']],
    ['--listen port too large', [...M, '--listen', 'localhost:65536'], ['--listen: "localhost:65536" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)']],
    ['--listen unbracketed IPv6', [...M, '--listen', '::1:8080'], ['--listen: "::1:8080" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)']],
    ['--listen port not a number', [...M, '--listen', 'host:http'], ['--listen: "host:http" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)']],
    ['--listen-tls without a port', [...M, '--listen-tls', '127.0.0.1'], ['--listen-tls: "127.0.0.1" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)']],
    ['--default-certificate without namespace', [...M, '--default-certificate', 'tls-secret'], ['--default-certificate: "tls-secret" is not NAMESPACE/NAME of a Secret']],
    ['--default-certificate upper case', [...M, '--default-certificate', 'NS/Name'], ['--default-certificate: "NS/Name" is not NAMESPACE/NAME of a Secret']],
    ['--default-certificate extra slash', [...M, '--default-certificate', 'a/b/c'], ['--default-certificate: "a/b/c" is not NAMESPACE/NAME of a Secret']],
    ['--ssl-redirect yes', [...M, '--ssl-redirect', 'yes'], ['--ssl-redirect: "yes" is not true or false']],
    ['--tls-ticket-rotation zero', [...M, '--tls-ticket-rotation', '0'], ['--tls-ticket-rotation: "0" is not a duration (e.g. 500ms, 10s, 2m) above zero']],
    ['--http2-max-concurrent-streams zero', [...M, '--http2-max-concurrent-streams', '0'], ['--http2-max-concurrent-streams: "0" is not a whole number from 1 to 10000']],
    ['--tunnel-idle-timeout garbage', [...M, '--tunnel-idle-timeout', 'forever'], ['--tunnel-idle-timeout: "forever" is not a duration (e.g. 500ms, 10s, 2m) above zero']],
    ['--admin negative port', [...M, '--admin', 'host:-1'], ['--admin: "host:-1" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)']],
    ['--cluster-domain with an underscore', [...M, '--cluster-domain', 'my_cluster.local'], ['--cluster-domain: "my_cluster.local" is not a DNS domain']],
    ['--cluster-domain empty', [...M, '--cluster-domain', ''], ['--cluster-domain: "" is not a DNS domain']],
    ['--cluster-domain with an empty label', [...M, '--cluster-domain', 'a..b'], ['--cluster-domain: "a..b" is not a DNS domain']],
    ['--ingress-class empty', [...M, '--ingress-class', ''], ['--ingress-class: must not be empty']],
    ['--escaped-slashes unknown', [...M, '--escaped-slashes', 'decode'], ['--escaped-slashes: "decode" is not one of keep, reject, unescape']],
    ['--headers-with-underscores unknown', [...M, '--headers-with-underscores', 'keep'], ['--headers-with-underscores: "keep" is not one of drop, reject, allow']],
    ['--http1-server unknown', [...M, '--http1-server', 'uws'], ['--http1-server: "uws" is not one of llhttp, node']],
    ['--trusted-proxies not an address', [...M, '--trusted-proxies', '10.0.0.0/8,proxy.example'], ['--trusted-proxies: "proxy.example" is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)']],
    ['--trusted-proxies prefix too long', [...M, '--trusted-proxies', '10.0.0.0/33'], ['--trusted-proxies: "10.0.0.0/33" is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)']],
    ['--proxy-protocol without --trusted-proxies', [...M, '--proxy-protocol', 'true'], ['--proxy-protocol: needs --trusted-proxies (the peers allowed to send the header)']],
    ['--ingress-controller-name without a domain', [...M, '--ingress-controller-name', 'switchyard'], ['--ingress-controller-name: "switchyard" is not a domain-prefixed path (e.g. switchyard.dev/ingress-controller)']],
    ['--gateway-controller-name without a domain', [...M, '--gateway-controller-name', 'gw'], ['--gateway-controller-name: "gw" is not a domain-prefixed path (e.g. switchyard.dev/gateway-controller)']],
    ['--request-buffer-size not a number', [...M, '--request-buffer-size', '64k'], ['--request-buffer-size: "64k" is not a whole number from 0 to 67108864']],
    ['--max-client-connections zero', [...M, '--max-client-connections', '0'], ['--max-client-connections: "0" is not a whole number from 1 to 10000000']],
    ['--log-level unknown', [...M, '--log-level', 'verbose'], ['--log-level: "verbose" is not one of fatal, error, warn, info, debug, trace, silent']],
    ['--access-log-format unknown', [...M, '--access-log-format', 'clf'], ['--access-log-format: "clf" is not one of json, combined']],
    ['--access-log empty', [...M, '--access-log', ''], ['--access-log: must be stdout, stderr, off or a file path']],
    ['--drain-timeout with a unit it does not know', [...M, '--drain-timeout', '10d'], ['--drain-timeout: "10d" is not a duration (e.g. 500ms, 10s, 2m)']],
    ['--upstream-connect-timeout 0', [...M, '--upstream-connect-timeout', '0'], ['--upstream-connect-timeout: "0" is not a duration (e.g. 500ms, 10s, 2m) above zero']],
    ['--upstream-timeout negative', [...M, '--upstream-timeout=-5s'], ['--upstream-timeout: "-5s" is not a duration (e.g. 500ms, 10s, 2m) above zero']],
    ['--upstream-max-connections 0', [...M, '--upstream-max-connections', '0'], ['--upstream-max-connections: "0" is not a whole number from 1 to 65536']],
    ['--upstream-max-connections 65537', [...M, '--upstream-max-connections', '65537'], ['--upstream-max-connections: "65537" is not a whole number from 1 to 65536']],
    ['--upstream-max-connections not whole', [...M, '--upstream-max-connections', '1.5'], ['--upstream-max-connections: "1.5" is not a whole number from 1 to 65536']],
    ['--max-header-size below 1024', [...M, '--max-header-size', '1023'], ['--max-header-size: "1023" is not a whole number from 1024 to 1048576']],
    ['--max-header-size with a unit', [...M, '--max-header-size', '16k'], ['--max-header-size: "16k" is not a whole number from 1024 to 1048576']],
    ['--dns without a port', [...M, '--dns', '127.0.0.1'], ['--dns: "127.0.0.1" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)']],
    ['--dns-ttl not whole seconds', [...M, '--dns-ttl', '1500ms'], ['--dns-ttl: "1500ms" is not a whole number of seconds']],
    ['--service-listen bad', [...M, '--service-listen', 'x'], ['--service-listen: "x" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)']],
    ['--namespace upper case', [...M, '--namespace', 'Shop'], ['--namespace: "Shop" is not a namespace name (a lower-case RFC 1123 label)']],
    ['--client-header-timeout above --client-request-timeout', [...M, '--client-header-timeout', '2m', '--client-request-timeout', '1m'], ['--client-header-timeout: must not exceed --client-request-timeout']],
    ['--health-check-concurrency 0', [...M, '--health-check-concurrency', '0'], ['--health-check-concurrency: "0" is not a whole number from 1 to 10000']],
    ['--startup-gc-heap negative', [...M, '--startup-gc-heap=-1'], ['--startup-gc-heap: "-1" is not a whole number from 0 to 1000000']],
    ['--startup-gc-heap with a unit', [...M, '--startup-gc-heap', '32MB'], ['--startup-gc-heap: "32MB" is not a whole number from 0 to 1000000']],
    ['--workers 0', [...M, '--workers', '0'], ['--workers: "0" is not a whole number from 1 to 256']],
    ['--proxy-mode unknown', [...M, '--proxy-mode', 'ipvs'], ['--proxy-mode: "ipvs" is not one of off, userspace, nftables']],
    ['--cluster-cidr not a CIDR', [...M, '--cluster-cidr', '10.0.0.0/33'], ['--cluster-cidr: "10.0.0.0/33" is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)']],
    ['--nftables-sync-period 0', [...M, '--nftables-sync-period', '0'], ['--nftables-sync-period: "0" is not a duration (e.g. 500ms, 10s, 2m) above zero']],
    ['--nodeport-addresses not a CIDR', [...M, '--nodeport-addresses', '10.0.0.0/40'], ['--nodeport-addresses: "10.0.0.0/40" is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)', '--nodeport-addresses: needs at least one CIDR (0.0.0.0: every address)']],
    ['--udp-flow-timeout 0', [...M, '--udp-flow-timeout', '0'], ['--udp-flow-timeout: "0" is not a duration (e.g. 500ms, 10s, 2m) above zero']],
    ['--node-name empty', [...M, '--node-name', ''], ['--node-name: must not be empty']],
    ['--in-cluster with --kubeconfig', ['--in-cluster', '--kubeconfig', 'k'], ['--in-cluster: not together with --kubeconfig (pick one cluster)']],
    ['--context without --kubeconfig', [...M, '--context', 'dev'], ['--context: needs --kubeconfig']],
    ['--watch-namespace without a cluster', [...M, '--watch-namespace', 'a'], ['--watch-namespace: needs --kubeconfig or --in-cluster']],
    ['--selector and status address without a cluster', [...M, '--selector', 'a=b', '--ingress-status-address', '1.2.3.4'], ['--selector: needs --kubeconfig or --in-cluster', '--ingress-status-address: needs --kubeconfig or --in-cluster']],
    ['--watch-namespace not a name', ['--in-cluster', '--watch-namespace', 'Bad_NS'], ['--watch-namespace: "Bad_NS" is not a namespace name']],
  ])('%s', (_name, argv, expected) => {
    expect(errors(argv)).toEqual(expected);
  });

  it('reports every bad value at once, in flag order', () => {
    expect(
      errors(['--listen', 'nope', '--admin', 'x:99999', '--cluster-domain=-bad', '--log-level', 'loud', '--drain-timeout', 'soon', '--upstream-connect-timeout', '0ms', '--upstream-timeout', '1y', '--upstream-max-connections', 'many', '--max-header-size', '1']),
    ).toEqual([
      '--manifests: at least one PATH is required (or --kubeconfig PATH, or --in-cluster)',
      '--listen: "nope" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)',
      '--admin: "x:99999" is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)',
      '--cluster-domain: "-bad" is not a DNS domain',
      '--log-level: "loud" is not one of fatal, error, warn, info, debug, trace, silent',
      '--drain-timeout: "soon" is not a duration (e.g. 500ms, 10s, 2m)',
      '--upstream-connect-timeout: "0ms" is not a duration (e.g. 500ms, 10s, 2m) above zero',
      '--upstream-timeout: "1y" is not a duration (e.g. 500ms, 10s, 2m) above zero',
      '--upstream-max-connections: "many" is not a whole number from 1 to 65536',
      '--max-header-size: "1" is not a whole number from 1024 to 1048576',
    ]);
  });

  it.each([
    ['an unknown flag', [...M, '--bogus'], '--bogus'],
    ['an unknown short flag', [...M, '-x'], '-x'],
    ['a positional argument', [...M, 'stray.yaml'], 'stray.yaml'],
    ['a flag missing its value', ['--manifests'], '--manifests'],
    ['a boolean flag given a value', [...M, '--help=yes'], '--help'],
    ['a value starting with a dash, not joined by "="', [...M, '--drain-timeout', '-1s'], '--drain-timeout'],
  ])('%s is an error naming it', (_name, argv, fragment) => {
    const errs = errors(argv);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toContain(fragment);
  });
});

describe('parseFlags: help', () => {
  it.each([[['--help']], [['-h']], [[...M, '-h']], [['-h', '--listen', 'bad']], [['--log-level', 'loud', '--help']]])('%j → help', (argv) => {
    expect(parseFlags(argv)).toEqual({ kind: 'help' });
  });

  it('the usage lists every flag', () => {
    for (const flag of ['--manifests', '--listen', '--admin', '--cluster-domain', '--ingress-class', '--log-level', '--drain-timeout', '--upstream-connect-timeout', '--upstream-timeout', '--upstream-max-connections', '--max-header-size', '--help', '--version']) {
      expect(USAGE).toContain(flag);
    }
  });
});

describe('parseFlags: version', () => {
  // Like --help: no manifests needed, and other flags' problems do not hide it.
  it.each([[['--version']], [['-v']], [[...M, '--version']], [['-v', '--listen', 'bad']], [['--log-level', 'loud', '--version']]])('%j → version', (argv) => {
    expect(parseFlags(argv)).toEqual({ kind: 'version' });
  });

  it('--help wins over --version', () => {
    expect(parseFlags(['--version', '--help'])).toEqual({ kind: 'help' });
  });

  it('is a boolean: --version=1 is an error naming it', () => {
    expect(errors([...M, '--version=1'])[0]).toContain('--version');
  });
});

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    [':80', { host: '0.0.0.0', port: 80 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['[::]:443', { host: '::', port: 443 }],
    ['[2001:db8::1]:65535', { host: '2001:db8::1', port: 65535 }],
    ['[::ffff:127.0.0.1]:80', { host: '::ffff:127.0.0.1', port: 80 }],
  ])('%j → %j', (value, expected) => {
    const errs: string[] = [];
    expect(parseHostPort('--listen', value, errs)).toEqual(expected);
    expect(errs).toEqual([]);
  });

  it.each([['8080'], ['host:'], ['host:123456'], ['host:65536'], ['[::1]'], ['[::1]:'], ['::1:80'], ['[zz::1]:80'], ['a:b:80'], [''], ['[::1]:80x']])('%j is rejected', (value) => {
    const errs: string[] = [];
    expect(parseHostPort('--admin', value, errs)).toEqual({ host: '', port: 0 });
    expect(errs).toEqual([`--admin: ${JSON.stringify(value)} is not HOST:PORT (port 0-65535; IPv6 as [::1]:PORT)`]);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['5', 5_000],
    ['1.5s', 1_500],
    ['0.25', 250],
    ['1.5ms', 2],
    [' 10s ', 10_000],
    ['596h', 2_145_600_000],
    ['2147483647ms', 2_147_483_647],
  ])('%j → %i ms', (value, ms) => {
    const errs: string[] = [];
    expect(parseDuration('--t', value, errs, false)).toBe(ms);
    expect(errs).toEqual([]);
  });

  it.each([['0', true, 0], ['0ms', true, 0], ['0s', true, 0]])('%j with zero allowed → %i', (value, allowZero, ms) => {
    const errs: string[] = [];
    expect(parseDuration('--t', value, errs, allowZero)).toBe(ms);
    expect(errs).toEqual([]);
  });

  it.each([
    ['0', false],
    ['0.0001ms', false],
    ['', true],
    ['s', true],
    ['10 s', true],
    ['10S', true],
    ['-1s', true],
    ['1e3', true],
    ['.5s', true],
    ['10sec', true],
    ['2147483648ms', true],
    ['597h', true],
    ['1d', true],
  ])('%j (zero allowed: %s) is rejected', (value, allowZero) => {
    const errs: string[] = [];
    expect(parseDuration('--t', value, errs, allowZero)).toBe(0);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(new RegExp(`^--t: ${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a duration`));
  });
});
