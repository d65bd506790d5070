/**
 * nginx for the protocols run, one worker, in front of the same pods as Switchyard and with the same
 * certificate (files of the bench's ECDSA P-256 pair), started only with a config of our own in a
 * scratch directory, in the foreground, never as a system service:
 *
 * - plaintext HTTP/1.1: bench.local → the HTTP pods, ws.bench.local → the WebSocket pods (Upgrade and
 *   Connection passed on, as nginx's WebSocket guide sets them);
 * - TLS 1.2/1.3 with HTTP/2 and HTTP/1.1 by ALPN: bench.local → the HTTP pods;
 * - HTTP/2 cleartext with prior knowledge (its own port: before 1.25.1 a plaintext `http2` listener
 *   speaks nothing else): bench.local → the HTTP pods, grpc.bench.local → `grpc_pass` to the gRPC pods.
 *
 * A kind of pod the run did not start (no WebSocket or gRPC section) leaves its upstream and server out.
 * TLS settings follow Switchyard's (src/dataplane/tls/certificate-store.ts): the same TLS 1.3 suites and
 * TLS 1.2 ciphers in the server's order, the same key-exchange groups; the bench records what each
 * handshake negotiated, so a difference would show.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TLS12_CIPHERS, TLS13_CIPHERSUITES, TLS_ECDH_CURVES } from '../../src/dataplane/tls/certificate-store.ts';
import { nginxConfigHead, upstreamKeepalive, type Upstream } from '../candidates/nginx.ts';
import { startChild, type Child } from '../children.ts';
import { answers200, freePort } from '../net.ts';
import { START_TIMEOUT_MS } from '../pods.ts';

// nginx is given Switchyard's own suites, ciphers and groups (OpenSSL takes the P-256/P-384 names too),
// so the two are compared on the same cryptography and cannot drift apart.

/** `[major, minor, patch]` from `nginx -v`'s "nginx version: nginx/1.22.1"; null when it says something else. */
export function parseNginxVersion(text: string): [number, number, number] | null {
  const m = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** nginx 1.25.1 replaced `listen … http2` with the `http2 on;` directive (the old form still works, with a warning). */
export function hasHttp2Directive(version: readonly [number, number, number]): boolean {
  const [a, b, c] = version;
  return a > 1 || (a === 1 && (b > 25 || (b === 25 && c >= 1)));
}

export function nginxVersion(nginx: string): [number, number, number] | null {
  // nginx -v writes to stderr.
  const r = spawnSync(nginx, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  return parseNginxVersion(`${r.stdout ?? ''}${r.stderr ?? ''}`);
}

export interface EdgeHosts {
  readonly http: string;
  readonly ws: string;
  readonly grpc: string;
}

export interface NginxEdgeConfig {
  readonly prefix: string;
  readonly ports: { readonly plain: number; readonly tls: number; readonly h2c: number };
  readonly hosts: EdgeHosts;
  readonly certFile: string;
  readonly keyFile: string;
  readonly httpPods: readonly Upstream[];
  readonly wsPods: readonly Upstream[];
  readonly grpcPods: readonly Upstream[];
  /** `http2 on;` (nginx ≥ 1.25.1) rather than the `http2` listen parameter. */
  readonly http2Directive: boolean;
}

const servers = (list: readonly Upstream[]): string => list.map((u) => `    server ${u.address}:${u.port};`).join('\n');

const PROXY_HEADERS = `      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;`;

/** The whole nginx.conf. */
export function nginxEdgeConfig(c: NginxEdgeConfig): string {
  const keepalive = upstreamKeepalive(2);
  const listen = (port: number, params: string): string =>
    c.http2Directive
      ? `    listen 127.0.0.1:${port}${params.includes('ssl') ? ' ssl' : ''};${params.includes('http2') ? '\n    http2 on;' : ''}`
      : `    listen 127.0.0.1:${port}${params === '' ? '' : ` ${params}`};`;
  const toPods = `    location / {
      proxy_pass http://http_pods;
      proxy_set_header Connection "";
${PROXY_HEADERS}
    }`;
  return `${nginxConfigHead('bench/protocols/nginx-edge.ts', c.prefix, 8192, 16384)}  ssl_certificate ${c.certFile};
  ssl_certificate_key ${c.keyFile};
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers ${TLS12_CIPHERS};
  ssl_conf_command Ciphersuites ${TLS13_CIPHERSUITES};
  ssl_prefer_server_ciphers on;
  ssl_ecdh_curve ${TLS_ECDH_CURVES};
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }
  upstream http_pods {
${servers(c.httpPods)}
    keepalive ${keepalive};
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
${c.wsPods.length === 0 ? '' : `  upstream ws_pods {
${servers(c.wsPods)}
  }
`}${c.grpcPods.length === 0 ? '' : `  upstream grpc_pods {
${servers(c.grpcPods)}
    keepalive ${keepalive};
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
`}  server {
${listen(c.ports.plain, '')}
    server_name ${c.hosts.http};
${toPods}
  }
${c.wsPods.length === 0 ? '' : `  server {
${listen(c.ports.plain, '')}
    server_name ${c.hosts.ws};
    location / {
      proxy_pass http://ws_pods;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
${PROXY_HEADERS}
    }
  }
`}  server {
${listen(c.ports.tls, 'ssl http2')}
    server_name ${c.hosts.http};
${toPods}
  }
  server {
${listen(c.ports.h2c, 'http2')}
    server_name ${c.hosts.http};
${toPods}
  }
${c.grpcPods.length === 0 ? '' : `  server {
${listen(c.ports.h2c, 'http2')}
    server_name ${c.hosts.grpc};
    location / {
      grpc_pass grpc://grpc_pods;
      grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
`}}
`;
}

export interface NginxEdge {
  readonly child: Child;
  readonly ports: NginxEdgeConfig['ports'];
}

export async function startNginxEdge(nginx: string, config: Omit<NginxEdgeConfig, 'ports' | 'http2Directive'>): Promise<NginxEdge> {
  chmodSync(config.prefix, 0o755);
  const version = nginxVersion(nginx);
  const ports = { plain: await freePort(), tls: await freePort(), h2c: await freePort() };
  const conf = path.join(config.prefix, 'nginx.conf');
  writeFileSync(conf, nginxEdgeConfig({ ...config, ports, http2Directive: version !== null && hasHttp2Directive(version) }));
  const { child } = await startChild({
    name: 'nginx-edge',
    command: nginx,
    args: ['-c', conf, '-p', config.prefix, '-e', path.join(config.prefix, 'error.log'), '-g', 'daemon off;'],
    timeoutMs: START_TIMEOUT_MS,
    probe: answers200(`http://127.0.0.1:${ports.plain}/`, { host: config.hosts.http }),
    onLine: (line) => process.stderr.write(`[nginx-edge] ${line}\n`),
  });
  return { child, ports };
}
