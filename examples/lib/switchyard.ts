/**
 * What the example runners share around the real Switchyard CLI: picking its ports, starting it and
 * waiting for its listeners, sending a sample request, and stopping everything on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (examples/lib/ → ../..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** 127.0.0.1:PORT when that port is free, else port 0 (the proxy picks one and logs it). */
export function freeOr0(port: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(0));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(port)));
  });
}

export interface StartedSwitchyard<Role extends string> {
  readonly child: ChildProcess;
  /** `host:port` of each listener waited for, by the role its log line names (ingress, ingress-tls, admin…). */
  readonly addresses: Readonly<Record<Role, string>>;
}

/**
 * Runs bin/switchyard.js with `args` under this Node and resolves once every role in `roles` has logged
 * its `listening` line. Its stdout (JSON logs) is read, not shown, except warnings and errors.
 */
export function startSwitchyard<Role extends string>(args: readonly string[], roles: readonly Role[]): Promise<StartedSwitchyard<Role>> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'switchyard.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const addresses: Record<string, string> = {};
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /listening role=([\w-]+) address=(\S+?)"/.exec(line);
      if (m) addresses[m[1]!] = m[2]!;
      if (roles.every((r) => addresses[r] !== undefined)) resolve({ child, addresses: addresses as Record<Role, string> });
      if (/"level":"(warn|error|fatal)"/.test(line)) process.stderr.write(`${line}\n`);
    });
    child.once('exit', (code) => reject(new Error(`switchyard exited with code ${code} before it was ready`)));
  });
}

/** The port of a `host:port` address. */
export function portOf(address: string): string {
  return address.slice(address.lastIndexOf(':') + 1);
}

/** GET `path` from the listener at `address` with Host `host` (and `headers`): `"<status> <body, trimmed>"`. */
export function get(address: string, host: string, path: string, headers: Record<string, string> = {}): Promise<string> {
  const [hostname, port] = [address.slice(0, address.lastIndexOf(':')), Number(portOf(address))];
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers: { ...headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
    });
    req.once('error', reject);
    req.end();
  });
}

/**
 * Ctrl-C (SIGINT) or SIGTERM stops Switchyard, then runs `cleanup` (close the pods…) and exits 0;
 * Switchyard exiting on its own is reported, cleaned up after, and exits 1.
 */
export function stopAllOnSignal(child: ChildProcess, cleanup: () => void): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGINT'); // SIGINT: no shutdown delay (that is for load balancers in front)
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.once('exit', (code) => {
    cleanup();
    if (!stopping) console.error(`switchyard exited unexpectedly (code ${code})`);
    process.exit(stopping ? 0 : 1);
  });
}
