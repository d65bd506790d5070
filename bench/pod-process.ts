/**
 * What every bench pod process shares (pod-server.ts, protocols/ws-pod.ts, protocols/grpc-pod.ts): its
 * `NAME HOST PORT …` arguments, the one JSON line it prints for proxy-bench (`{"listening":{…}}` or
 * `{"error":…}`), and stopping on SIGTERM/SIGINT and when its stdin closes, so a bench that dies without
 * cleaning up leaves no pod behind.
 */

/** NAME HOST PORT and whatever follows; a bad PORT exits 2 with a message naming `tool`. */
export function podArgs(tool: string, defaultName: string): { name: string; host: string; port: number; rest: string[] } {
  const [name = defaultName, host = '127.0.0.1', portArg = '0', ...rest] = process.argv.slice(2);
  const port = Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`${tool}: bad port ${JSON.stringify(portArg)}\n`);
    process.exit(2);
  }
  return { name, host, port, rest };
}

export function announceListening(address: string, port: number): void {
  process.stdout.write(`${JSON.stringify({ listening: { address, port } })}\n`);
}

/** Tells proxy-bench the pod could not start, and exits 1. */
export function announceError(error: string): never {
  process.stdout.write(`${JSON.stringify({ error })}\n`);
  process.exit(1);
}

/** Runs `stop` (which must exit) on SIGTERM, SIGINT, and when stdin ends or fails. */
export function stopOnExit(stop: () => void): void {
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
