/**
 * A TCP node-port listener of the userspace service proxy: each accepted connection goes to one
 * endpoint of its Service port and the two sockets are spliced with pipe() (backpressure both ways).
 * Half-close passes through (allowHalfOpen): a client's FIN reaches the pod as a FIN and the pod may
 * still answer. An endpoint that refuses, resets or does not answer within the connect timeout is
 * given up and the next one tried, each at most once; with none left (or none at all) the client's
 * connection is reset at once, as kube-proxy rejects traffic to a Service without endpoints.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { EndpointView } from '../snapshot/types.ts';
import { bindNodePort, type BindError, type L4Target, type ListenerContext, type NodePortListener, type ProxiedFlow } from './l4-types.ts';

function hostPort(address: string | undefined, port: number | undefined): string {
  const host = address ?? '';
  return host.includes(':') ? `[${host}]:${port ?? 0}` : `${host}:${port ?? 0}`;
}

export class TcpNodePortListener implements NodePortListener {
  readonly protocol = 'TCP' as const;
  readonly address: string;
  readonly port: number;
  target: L4Target | undefined;
  error: BindError | undefined;
  readonly #ctx: ListenerContext;
  readonly #server: Server;

  constructor(address: string, port: number, ctx: ListenerContext) {
    this.address = address;
    this.port = port;
    this.#ctx = ctx;
    // Paused until the endpoint is connected: nothing the client sends early is lost.
    this.#server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => this.#accept(client));
  }

  async listen(): Promise<void> {
    this.error = await bindNodePort(this.#server, (done) => this.#server.listen({ host: this.address, port: this.port, exclusive: true, ipv6Only: this.address === '::' }, done), this.#ctx.log, this.port);
  }

  sweep(): void {}

  close(): Promise<void> {
    // Not close()'s callback: it waits for every connection to end, and connections outlive their listener.
    if (this.#server.listening) this.#server.close();
    return new Promise((resolve) => setImmediate(resolve));
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined); // ends in 'close'; the log would name client mistakes
    const target = this.target;
    if (target === undefined) return void client.resetAndDestroy();
    target.stats.total++;
    const tried: string[] = [];
    const remote = client.remoteAddress ?? '';
    const attempt = (): void => {
      if (client.destroyed) return;
      const endpoint = this.#ctx.picker.pick(target.backend, remote, target.port.affinityTimeoutSeconds, tried);
      if (endpoint === undefined) return void client.resetAndDestroy();
      tried.push(endpoint.key);
      const upstream = connect({ host: endpoint.address, port: endpoint.port, allowHalfOpen: true });
      let failed = false;
      const fail = (): void => {
        if (failed) return;
        failed = true;
        upstream.destroy();
        target.stats.connectFailures++;
        attempt();
      };
      upstream.setTimeout(this.#ctx.connectTimeoutMs, fail);
      upstream.once('error', fail);
      upstream.once('connect', () => {
        upstream.setTimeout(0);
        upstream.off('error', fail);
        this.#splice(client, upstream, endpoint, target);
      });
    };
    attempt();
  }

  #splice(client: Socket, upstream: Socket, endpoint: EndpointView, target: L4Target): void {
    if (client.destroyed || this.#ctx.stopped()) {
      client.destroy();
      upstream.destroy();
      return;
    }
    let closing = false;
    const flow: ProxiedFlow = {
      protocol: 'TCP',
      portKey: target.port.key,
      client: hostPort(client.remoteAddress, client.remotePort),
      endpoint,
      openedAt: this.#ctx.now(),
      drainingSince: undefined,
      close: () => {
        closing = true;
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      },
    };
    target.stats.open++;
    this.#ctx.opened(flow);
    let open = 2;
    const onClose = (other: Socket) => (hadError: boolean) => {
      // A reset on one side resets the other; a clean close means both directions ended already.
      if (hadError && !closing) other.resetAndDestroy();
      if (--open === 0) {
        target.stats.open--;
        this.#ctx.closed(flow);
      }
    };
    upstream.on('error', () => undefined);
    client.once('close', onClose(upstream));
    upstream.once('close', onClose(client));
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
