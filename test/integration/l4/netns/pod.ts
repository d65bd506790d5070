/**
 * A "pod" inside a network namespace (run under `ip netns exec`): TCP and UDP echo servers on ADDRESS
 * at each PORT. A TCP connection is greeted with `NAME PEER_ADDRESS\n` and then echoed; a UDP datagram is
 * answered with `NAME PEER_ADDRESS`. The peer address shows whether the source was kept or masqueraded.
 * Prints `ready` once every socket listens; exits when stdin closes (its parent went away).
 * Usage: node pod.ts NAME ADDRESS[,ADDRESS...] PORT...
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:net';

const [name, addresses, ...ports] = process.argv.slice(2);
await Promise.all(
  addresses!.split(',').flatMap((address) => ports.map(async (p) => {
    const port = Number(p);
    const tcp = createServer((s) => {
      s.on('error', () => undefined);
      s.write(`${name} ${s.remoteAddress}\n`);
      s.pipe(s);
    });
    tcp.listen(port, address);
    await once(tcp, 'listening');
    const udp = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    udp.on('message', (_msg, r) => udp.send(`${name} ${r.address}`, r.port, r.address));
    udp.bind(port, address);
    await once(udp, 'listening');
  })),
);
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
