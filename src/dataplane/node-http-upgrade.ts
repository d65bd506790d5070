/**
 * An upgrade request (WebSocket…) on the node:http fallback server (node-http-server.ts). node:http hands
 * it over with its socket ('upgrade' event) and forgets the connection; it is then served as on the
 * llhttp path, by a ClientExchange writing raw bytes, so a pod's 101 takes the socket over for a tunnel
 * (ClientExchange.takeOver, tunnel.ts) and any other answer is written with `connection: close`.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ClientExchange, type ExchangeOwner } from './client-exchange.ts';
import { requestFields } from './headers.ts';

/** What an upgrade connection needs from its server. */
export interface UpgradeHost {
  readonly draining: boolean;
  readonly scheme: 'http' | 'https';
  /** Once: the exchange's response finished or the socket left for a tunnel (true), or the client left first. */
  done(connection: UpgradeConnection, finished: boolean): void;
  /** Ends the socket after what was written; the client gets a while to close its side. */
  close(socket: Socket): void;
}

/**
 * Whether node:http should hand `req` over as an upgrade (its `shouldUpgradeCallback`): only a request
 * that can become a tunnel (HTTP/1.1, no body, not `h2c`, as client-exchange.ts decides). Any other is
 * served as a plain request, Upgrade dropped.
 */
export function tunnellable(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade?.trim().toLowerCase();
  return req.httpVersionMinor >= 1 && upgrade !== undefined && upgrade !== '' && upgrade !== 'h2c' && !requestFields(req.rawHeaders).hasBody;
}

export class UpgradeConnection implements ExchangeOwner {
  readonly socket: Socket;
  readonly exchange: ClientExchange;
  readonly #host: UpgradeHost;
  /** Bytes the client sent after the head, for the pod once tunnelled. */
  #early: Buffer | undefined;
  #reported = false;

  constructor(host: UpgradeHost, req: IncomingMessage, socket: Socket, head: Buffer) {
    this.socket = socket;
    this.#host = host;
    this.#early = head.length > 0 ? head : undefined;
    // node:http stopped reading: the rest waits in the socket until the tunnel takes it.
    this.exchange = new ClientExchange(this, req.httpVersionMinor, req.method ?? 'GET', req.url ?? '/', req.rawHeaders, false, true);
    this.exchange.complete();
  }

  /** The exchange is being served: the client's close from now on ends it. */
  start(): void {
    // A kept-alive connection's idle timer must not cut the wait for the pod's answer.
    this.socket.setTimeout(0);
    this.socket.on('close', this.#onClose);
    this.socket.on('error', ignore);
  }

  get draining(): boolean {
    return this.#host.draining;
  }

  get scheme(): 'http' | 'https' {
    return this.#host.scheme;
  }

  responseEnded(exchange: ClientExchange): void {
    this.#report(exchange.finished);
    this.#host.close(this.socket);
  }

  /** There is no body to read. */
  updateReading(): void {}

  detach(_exchange: ClientExchange): { readonly buffered: Buffer | undefined; readonly ended: boolean } {
    this.socket.off('close', this.#onClose);
    this.socket.off('error', ignore);
    this.socket.pause();
    this.#report(true);
    const buffered = this.#early;
    this.#early = undefined;
    return { buffered, ended: this.socket.readableEnded };
  }

  readonly #onClose = (): void => {
    if (this.#reported) return;
    this.exchange.gone();
    this.#report(this.exchange.finished);
  };

  #report(finished: boolean): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#host.done(this, finished);
  }
}

function ignore(): void {}
