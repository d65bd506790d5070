/**
 * Whose word about the client is believed: `--trusted-proxies` (EdgePolicy.trustedProxies) as a
 * node:net BlockList, built once per policy object, never per request or connection.
 *
 * BlockList matches an IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`, what a dual-stack listener reports
 * for IPv4 clients) against IPv4 blocks, and the reverse, so one spelling of a CIDR covers both.
 * `check()` builds a native SocketAddress for a string address, so answers are kept per address in a
 * small bounded map: behind a load balancer the same few peer addresses ask again and again.
 */
import { BlockList } from 'node:net';
import type { EdgePolicy } from './edge-policy.ts';

interface Trust {
  readonly list: BlockList;
  readonly seen: Map<string, boolean>;
}

/** Answers remembered per policy; past this many distinct addresses the memory starts over. */
const SEEN_LIMIT = 1024;

const trusts = new WeakMap<EdgePolicy, Trust>();

function trustOf(policy: EdgePolicy): Trust {
  let trust = trusts.get(policy);
  if (trust === undefined) {
    const list = new BlockList();
    for (const cidr of policy.trustedProxies) {
      const slash = cidr.lastIndexOf('/');
      const address = slash < 0 ? cidr : cidr.slice(0, slash);
      const family = address.includes(':') ? 'ipv6' : 'ipv4';
      const prefix = slash < 0 ? (family === 'ipv6' ? 128 : 32) : Number(cidr.slice(slash + 1));
      list.addSubnet(address, prefix, family);
    }
    trust = { list, seen: new Map() };
    trusts.set(policy, trust);
  }
  return trust;
}

/**
 * Whether `address` (an IPv4 or IPv6 address as Node reports a peer) lies inside one of the policy's
 * trusted CIDR blocks. False for every address when none are configured (the default), and for ''
 * (a socket whose peer is gone) or anything that is not an address.
 */
export function isTrustedProxy(policy: EdgePolicy, address: string): boolean {
  if (policy.trustedProxies.length === 0 || address === '') return false;
  const trust = trustOf(policy);
  let answer = trust.seen.get(address);
  if (answer === undefined) {
    answer = trust.list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
    if (trust.seen.size >= SEEN_LIMIT) trust.seen.clear();
    trust.seen.set(address, answer);
  }
  return answer;
}
