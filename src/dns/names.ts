/**
 * Name helpers for the cluster zone: case folding (RFC 4343), reverse names (RFC 1035 §3.5, RFC 3596 §2.5),
 * endpoint hostnames (Kubernetes DNS specification 1.1.0 §2.1) and the deprecated pod names (§2.6).
 */
import { isIPv4, isIPv6 } from 'node:net';

const UPPER_ASCII = /[A-Z]/;
const UPPER_ASCII_ALL = /[A-Z]+/g;
/** A lower-case RFC 1123 label: what the spec's endpoint `hostname` must be to name a record. */
const HOSTNAME_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const LEADING_ZEROS = /^0{1,3}/;
const ADDRESS_SEPARATORS = /[.:]/g;

/**
 * The form names are compared in: trailing dot removed, ASCII letters lower-cased. Only A–Z fold
 * (RFC 4343 §3): String#toLowerCase would also fold e.g. the Kelvin sign into `k`.
 */
export function canonicalName(name: string): string {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return UPPER_ASCII.test(bare) ? bare.replace(UPPER_ASCII_ALL, (s) => s.toLowerCase()) : bare;
}

/** True when `name` (no trailing dot) fits on the wire: 1–63 ASCII bytes per label, at most 253 characters. */
export function isEncodableName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  for (const label of name.split('.')) {
    if (label.length === 0 || label.length > 63) return false;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (c <= 0x20 || c >= 0x7f) return false;
    }
  }
  return true;
}

/** The 32 lower-case hex nibbles of an IPv6 address, or undefined when `ip` is not one (zone ids refused). */
export function ipv6Nibbles(ip: string): string | undefined {
  if (!isIPv6(ip) || ip.includes('%')) return undefined;
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 tail (`::ffff:10.0.0.1`) is the last two groups.
    const o = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [left, right] = text.split('::');
  const head = left ? left.split(':') : [];
  let groups = head;
  if (right !== undefined) {
    const rest = right ? right.split(':') : [];
    groups = [...head, ...new Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  }
  return groups.map((g) => g.padStart(4, '0')).join('').toLowerCase();
}

/** RFC 5952 text of an IPv6 address given as 32 nibbles: lower case, no leading zeros, longest zero run as `::`. */
export function ipv6FromNibbles(nibbles: string): string {
  const groups: string[] = [];
  for (let i = 0; i < 32; i += 4) groups.push(nibbles.slice(i, i + 4).replace(LEADING_ZEROS, ''));
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not shortened (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** An address in the form records carry: dotted quad, or RFC 5952 IPv6; undefined when not an IP address. */
export function normalizeIP(ip: string): { readonly family: 4 | 6; readonly address: string } | undefined {
  if (isIPv4(ip)) return { family: 4, address: ip };
  const nibbles = ipv6Nibbles(ip);
  return nibbles === undefined ? undefined : { family: 6, address: ipv6FromNibbles(nibbles) };
}

/** `d.c.b.a.in-addr.arpa` or the 32-nibble `ip6.arpa` name of an address; undefined when not an IP address. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const nibbles = ipv6Nibbles(ip);
  return nibbles === undefined ? undefined : `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

/**
 * The spec's _hostname_ of an endpoint: its `hostname` field when that is a valid DNS label, otherwise a
 * system-assigned identifier unique within the Service. Like CoreDNS, the identifier is the address with
 * `.` and `:` replaced by `-` (`10.0.0.1` → `10-0-0-1`, `fd00::1` → `fd00--1`), IPv6 in RFC 5952 form so
 * that two spellings of one address give one name.
 */
export function endpointHostname(address: string, hostname: string | undefined): string {
  if (hostname !== undefined) {
    const lower = hostname.toLowerCase();
    if (lower.length <= 63 && HOSTNAME_LABEL.test(lower)) return lower;
  }
  const ip = normalizeIP(address);
  return (ip?.address ?? address).replace(ADDRESS_SEPARATORS, '-');
}

/** The address of a deprecated pod name label (`10-0-0-1` → `10.0.0.1`, spec §2.6), or undefined. */
export function dashedIPv4(label: string): string | undefined {
  const parts = label.split('-');
  if (parts.length !== 4) return undefined;
  for (const p of parts) if (!DECIMAL_OCTET.test(p) || Number(p) > 255) return undefined;
  return parts.join('.');
}
