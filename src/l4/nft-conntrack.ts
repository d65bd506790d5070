/**
 * Ends the UDP flows of endpoints the rules no longer send to, as kube-proxy does: conntrack keeps a UDP
 * flow on the endpoint its first datagram was DNATed to for as long as datagrams keep coming, so without
 * this a client's flow would stay on a gone pod. TCP needs nothing: a new connection follows the new rules
 * and an open one stays on its endpoint (kube-proxy leaves those alone too).
 */
import { runNft, type NftCommand } from './nft-apply.ts';
import type { NftRuleset } from './nft-model.ts';

/**
 * Deletes, with the conntrack tool (`command`, e.g. `['conntrack']`; Debian package conntrack), the UDP
 * entries whose replies come from an endpoint of `previous` that `next` no longer has. Resolves false when
 * the tool cannot be run; "no entry deleted" (exit status 1) counts as done.
 */
export async function endStaleUdpFlows(previous: NftRuleset, next: NftRuleset, command: NftCommand): Promise<boolean> {
  for (const [i, table] of previous.tables.entries()) {
    const still = next.tables[i]?.udpEndpoints;
    for (const e of table.udpEndpoints) {
      if (still?.has(e)) continue;
      const [address, port] = e.split(' ');
      const family = table.family === 'ip' ? 'ipv4' : 'ipv6';
      try {
        await runNft(command, ['-D', '-f', family, '-p', 'udp', '--reply-src', address!, '--reply-port-src', port!]);
      } catch {
        return false;
      }
    }
  }
  return true;
}
