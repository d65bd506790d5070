/**
 * --nodeport-addresses → the addresses node-port listeners bind, as kube-proxy reads the flag: the
 * node's own addresses inside the CIDRs. A /0 block, or the unspecified address itself (`0.0.0.0`,
 * `::`, the default), binds that family's wildcard: every address, including those added later.
 */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** A local address of this machine, as os.networkInterfaces() lists it. */
export interface LocalAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every address of this machine's interfaces (link-local IPv6 addresses left out: they need a zone to bind). */
export function localAddresses(): LocalAddress[] {
  const out: LocalAddress[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv6' && a.scopeid !== undefined && a.scopeid !== 0) continue;
      out.push({ address: a.address, family: a.family === 'IPv4' ? 4 : 6 });
    }
  }
  return out;
}

/**
 * The addresses to bind for `cidrs` (each `address/prefix`, as flags.ts returns them), sorted and
 * distinct. A family's wildcard replaces its single addresses: Linux refuses both on one port.
 */
export function nodePortListenAddresses(cidrs: readonly string[], local: readonly LocalAddress[] = localAddresses()): string[] {
  const wildcard = new Set<4 | 6>();
  const blocks = new BlockList();
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/');
    const address = slash < 0 ? cidr : cidr.slice(0, slash);
    const prefix = slash < 0 ? undefined : Number(cidr.slice(slash + 1));
    const family = isIP(address);
    if (family === 0) continue; // flags.ts has validated them
    if (prefix === 0 || address === '0.0.0.0' || address === '::') wildcard.add(family === 4 ? 4 : 6);
    else blocks.addSubnet(address, prefix ?? (family === 4 ? 32 : 128), family === 4 ? 'ipv4' : 'ipv6');
  }
  const out = new Set<string>();
  if (wildcard.has(4)) out.add('0.0.0.0');
  if (wildcard.has(6)) out.add('::');
  for (const a of local) {
    if (wildcard.has(a.family)) continue;
    if (blocks.check(a.address, a.family === 4 ? 'ipv4' : 'ipv6')) out.add(a.address);
  }
  return [...out].sort();
}
