/**
 * The PROXY protocol, versions 1 (text) and 2 (binary), as HAProxy's proxy-protocol.txt specifies it:
 * a load balancer that forwards TCP (AWS NLB, HAProxy in TCP mode) writes one header before the
 * client's bytes, telling the client's address. On a listener with `--proxy-protocol` every
 * connection must start with one (the spec forbids guessing whether it is there: anyone could then
 * spoof an address), and only peers in `--trusted-proxies` may connect at all (http-listener.ts).
 *
 * parseProxyHeader is pure: it is given the bytes read so far and says whether they are a complete
 * header, a prefix of one, or not one. The rest of this module keeps each connection's client address
 * (clientAddress), which everything that reports or forwards the client's address reads.
 */
import { SocketAddress, type Socket } from 'node:net';

/** An address and port the header announced. */
export interface ProxiedEndpoint {
  readonly address: string;
  readonly port: number;
}

export type ProxyHeader =
  /** The bytes so far are the start of a header: read more. */
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /**
   * A complete header of `length` bytes (the client's own bytes follow it). `source` undefined: the
   * connection's own endpoints stand (v1 UNKNOWN, v2 LOCAL — a health check of the balancer itself —,
   * or a family other than TCP over IPv4/IPv6, which the spec lets a receiver take that way).
   */
  | { readonly kind: 'header'; readonly version: 1 | 2; readonly length: number; readonly source: ProxiedEndpoint | undefined; readonly destination: ProxiedEndpoint | undefined };

/** The longest version 1 line, CRLF included (`PROXY UNKNOWN` with two full IPv6 addresses and ports). */
export const V1_MAX_LENGTH = 107;
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The 12 bytes every version 2 header starts with. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Signature, version and command, family and transport, length. */
const V2_FIXED_LENGTH = 16;
/** Version 2 TCP over IPv4 and over IPv6 (family << 4 | transport), and their address block sizes. */
const TCP4 = 0x11;
const TCP6 = 0x21;
const V2_ADDRESS_LENGTH = [0, 12, 36, 216];

const INCOMPLETE: ProxyHeader = { kind: 'incomplete' };
/** Dotted decimal without leading zeros, as the spec demands ("to avoid any possible confusion with octal"). */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const PORT = /^(?:0|[1-9]\d{0,4})$/;

/** Reads a PROXY protocol header from the first bytes of a connection (all of them so far). */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeader {
  if (bytes.length === 0) return INCOMPLETE;
  if (bytes[0] === V1_PREFIX[0]) return startsLike(bytes, V1_PREFIX) ? parseV1(bytes) : invalid('not a PROXY protocol header');
  if (bytes[0] === V2_SIGNATURE[0]) return startsLike(bytes, V2_SIGNATURE) ? parseV2(bytes) : invalid('not a PROXY protocol header');
  return invalid('not a PROXY protocol header');
}

function invalid(reason: string): ProxyHeader {
  return { kind: 'invalid', reason };
}

/** Whether `bytes` and `prefix` agree as far as both go. */
function startsLike(bytes: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function parseV1(bytes: Uint8Array): ProxyHeader {
  // The CR must come by byte 106 so that the LF is within the 107.
  const scan = Math.min(bytes.length, V1_MAX_LENGTH - 1);
  let end = -1;
  for (let i = 0; i < scan; i++) {
    const c = bytes[i]!;
    if (c === 0x0d) {
      if (i + 1 === bytes.length) return INCOMPLETE;
      if (bytes[i + 1] !== 0x0a) return invalid('v1: CR without LF');
      end = i;
      break;
    }
    // A lone LF or any other control byte: the spec tolerates no other line end.
    if (c < 0x20 || c > 0x7e) return invalid('v1: a byte that is not printable US-ASCII');
  }
  if (end < 0) return bytes.length >= V1_MAX_LENGTH - 1 ? invalid(`v1: no CRLF within ${V1_MAX_LENGTH} bytes`) : INCOMPLETE;
  const parts = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1').split(' ');
  const length = end + 2;
  // "The receiver must ignore anything presented before the CRLF" after UNKNOWN.
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, length, source: undefined, destination: undefined };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return invalid('v1: not PROXY TCP4|TCP6 source destination source-port destination-port');
  const v6 = parts[1] === 'TCP6';
  const source = v1Endpoint(parts[2]!, parts[4]!, v6);
  const destination = v1Endpoint(parts[3]!, parts[5]!, v6);
  if (source === undefined || destination === undefined) return invalid(`v1: an address or port that is not a ${parts[1]} one`);
  return { kind: 'header', version: 1, length, source, destination };
}

function v1Endpoint(address: string, port: string, v6: boolean): ProxiedEndpoint | undefined {
  if (!PORT.test(port) || Number(port) > 65535) return undefined;
  if (!v6) return IPV4.test(address) ? { address, port: Number(port) } : undefined;
  // A zone id names an interface of the sender's host, meaningless here.
  if (address.includes('%')) return undefined;
  const canonical = canonicalIpv6(address);
  return canonical === undefined ? undefined : { address: canonical, port: Number(port) };
}

/** RFC 5952 form (lower case, longest zero run as `::`, IPv4-mapped as `::ffff:a.b.c.d`), as Node reports peers. */
function canonicalIpv6(address: string): string | undefined {
  try {
    return new SocketAddress({ address, family: 'ipv6' }).address;
  } catch {
    return undefined;
  }
}

function parseV2(bytes: Uint8Array): ProxyHeader {
  if (bytes.length < V2_FIXED_LENGTH) return INCOMPLETE;
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return invalid('v2: version is not 2');
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid('v2: command is neither LOCAL nor PROXY');
  const familyTransport = bytes[13]!;
  if (familyTransport >> 4 > 3 || (familyTransport & 0x0f) > 2) return invalid('v2: unassigned address family or transport');
  const length = V2_FIXED_LENGTH + ((bytes[14]! << 8) | bytes[15]!);
  if (bytes.length < length) return INCOMPLETE;
  // LOCAL: the balancer's own connection (a health check); the address block, whatever it holds, is skipped.
  if (command === 0) return { kind: 'header', version: 2, length, source: undefined, destination: undefined };
  const addressLength = V2_ADDRESS_LENGTH[familyTransport >> 4]!;
  if (length - V2_FIXED_LENGTH < addressLength) return invalid('v2: address block shorter than its family needs');
  if (!tlvsFit(bytes, V2_FIXED_LENGTH + addressLength, length)) return invalid('v2: a TLV runs past the header');
  if (familyTransport !== TCP4 && familyTransport !== TCP6) return { kind: 'header', version: 2, length, source: undefined, destination: undefined };
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, length);
  const size = familyTransport === TCP4 ? 4 : 16;
  const ports = V2_FIXED_LENGTH + 2 * size;
  const address = familyTransport === TCP4 ? v2Ipv4 : v2Ipv6;
  return {
    kind: 'header',
    version: 2,
    length,
    source: { address: address(data, V2_FIXED_LENGTH), port: data.readUInt16BE(ports) },
    destination: { address: address(data, V2_FIXED_LENGTH + size), port: data.readUInt16BE(ports + 2) },
  };
}

/** TLVs (type, 16-bit length, value) follow the addresses; their content is not used, but each must fit. */
function tlvsFit(bytes: Uint8Array, from: number, end: number): boolean {
  let at = from;
  while (at < end) {
    if (at + 3 > end) return false;
    at += 3 + ((bytes[at + 1]! << 8) | bytes[at + 2]!);
  }
  return at === end;
}

function v2Ipv4(data: Buffer, at: number): string {
  return `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`;
}

function v2Ipv6(data: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(data.readUInt16BE(at + i).toString(16));
  return canonicalIpv6(groups.join(':'))!;
}

// --- the client address of each connection --------------------------------------------------------

/** Client addresses announced by PROXY protocol headers, by the socket the requests are read from. */
const addresses = new WeakMap<Socket, ProxiedEndpoint>();
/** Whether any header ever announced an address: until then clientAddress skips the map. */
let announced = false;

/**
 * The address of the client on `socket`: the source a PROXY protocol header announced for the
 * connection, else the TCP peer's address ('' once the socket no longer knows it).
 */
export function clientAddress(socket: Socket): string {
  return (announced ? addresses.get(socket)?.address : undefined) ?? socket.remoteAddress ?? '';
}

/** The client's port on `socket`, from the same place as clientAddress (0 once the socket no longer knows it). */
export function clientPort(socket: Socket): number {
  return (announced ? addresses.get(socket)?.port : undefined) ?? socket.remotePort ?? 0;
}

/** Records the client address and port for `socket` (what clientAddress and clientPort answer from now on). */
export function setClientAddress(socket: Socket, source: ProxiedEndpoint): void {
  announced = true;
  addresses.set(socket, source);
}
