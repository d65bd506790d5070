/**
 * A UDP node-port listener of the userspace service proxy. A flow is one client address and port: its
 * first datagram picks an endpoint (round-robin, session affinity), and every datagram of the flow goes
 * there from a socket of its own, so the endpoint's answers come back to the flow they belong to and
 * are sent to the client from the node port. A flow with no datagram either way for the flow timeout
 * is forgotten; the next datagram of that client starts a new one. A datagram for a Service port without
 * an endpoint is dropped (UDP has no refusal to send back from userspace).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { EndpointView } from '../snapshot/types.ts';
import { bindNodePort, type BindError, type L4Target, type ListenerContext, type NodePortListener, type ProxiedFlow } from './l4-types.ts';

interface UdpFlow extends ProxiedFlow {
  lastActive: number;
  readonly upstream: Socket;
  readonly target: L4Target;
}

export class UdpNodePortListener implements NodePortListener {
  readonly protocol = 'UDP' as const;
  readonly address: string;
  readonly port: number;
  target: L4Target | undefined;
  error: BindError | undefined;
  readonly #ctx: ListenerContext;
  readonly #socket: Socket;
  readonly #flows = new Map<string, UdpFlow>();
  #listening = false;

  constructor(address: string, port: number, ctx: ListenerContext) {
    this.address = address;
    this.port = port;
    this.#ctx = ctx;
    this.#socket = createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', ipv6Only: address === '::' });
    this.#socket.on('message', (msg, rinfo) => this.#receive(msg, rinfo));
  }

  async listen(): Promise<void> {
    this.error = await bindNodePort(this.#socket, (done) => this.#socket.bind({ address: this.address, port: this.port, exclusive: true }, done), this.#ctx.log, this.port);
    if (this.error === undefined) this.#listening = true;
  }

  async close(): Promise<void> {
    for (const flow of [...this.#flows.values()]) flow.close();
    this.#listening = false;
    await new Promise<void>((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // closed already (a failed bind closes it)
      }
    });
  }

  /** Forgets flows idle for the flow timeout. */
  sweep(now: number): void {
    for (const flow of this.#flows.values()) if (now - flow.lastActive >= this.#ctx.udpFlowTimeoutMs) flow.close();
  }

  #receive(msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    let flow = this.#flows.get(key);
    if (flow === undefined) {
      const target = this.target;
      if (target === undefined) return;
      const endpoint = this.#ctx.picker.pick(target.backend, rinfo.address, target.port.affinityTimeoutSeconds);
      if (endpoint === undefined) return;
      flow = this.#open(key, rinfo, endpoint, target);
    }
    flow.lastActive = this.#ctx.now();
    flow.upstream.send(msg, flow.endpoint.port, flow.endpoint.address);
  }

  #open(key: string, client: RemoteInfo, endpoint: EndpointView, target: L4Target): UdpFlow {
    const upstream = createSocket(endpoint.address.includes(':') ? 'udp6' : 'udp4');
    const now = this.#ctx.now();
    const flow: UdpFlow = {
      protocol: 'UDP',
      portKey: target.port.key,
      client: client.family === 'IPv6' ? `[${client.address}]:${client.port}` : `${client.address}:${client.port}`,
      endpoint,
      openedAt: now,
      drainingSince: undefined,
      lastActive: now,
      upstream,
      target,
      close: () => {
        if (this.#flows.get(key) !== flow) return;
        this.#flows.delete(key);
        upstream.close();
        target.stats.open--;
        this.#ctx.closed(flow);
      },
    };
    upstream.on('message', (reply, from) => {
      // Only the endpoint's own answers: the flow's socket is a port anyone could send to.
      if (from.port !== endpoint.port || from.address !== endpoint.address || !this.#listening) return;
      flow.lastActive = this.#ctx.now();
      this.#socket.send(reply, client.port, client.address);
    });
    upstream.on('error', () => {
      target.stats.connectFailures++;
      flow.close();
    });
    this.#flows.set(key, flow);
    target.stats.total++;
    target.stats.open++;
    this.#ctx.opened(flow);
    return flow;
  }
}
