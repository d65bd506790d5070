/**
 * What the baseline proxies share with the pods: their command line (`HOST PORT UPSTREAM_URL…`), the
 * one JSON line that says where they listen, and stopping on SIGTERM/SIGINT or when stdin closes (so a
 * bench that dies without cleaning up does not leave them behind).
 */
import type { Server } from 'node:net';

export interface BaselineArgs {
  readonly host: string;
  readonly port: number;
  /** Upstream origins, e.g. http://127.0.0.2:41234. */
  readonly upstreams: readonly URL[];
}

export function baselineArgs(name: string): BaselineArgs {
  const [host = '127.0.0.1', portArg = '0', ...urls] = process.argv.slice(2);
  const port = Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || urls.length === 0) {
    process.stderr.write(`${name}: usage: ${name} HOST PORT UPSTREAM_URL…\n`);
    process.exit(2);
  }
  return { host, port, upstreams: urls.map((u) => new URL(u)) };
}

/** Prints `{"listening":{"address":…,"port":…}}` once `server` listens. */
export function announce(server: Server): void {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('not a TCP address');
  process.stdout.write(`${JSON.stringify({ listening: { address: a.address, port: a.port } })}\n`);
}

export function stopOnSignalOrStdinClose(stop: () => void): void {
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
