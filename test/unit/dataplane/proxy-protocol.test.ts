/**
 * The PROXY protocol parser against HAProxy's proxy-protocol.txt: its examples and length limits
 * (§2.1 version 1, §2.2 version 2), every prefix of a valid header (a header split across reads),
 * and what the spec says a receiver must refuse.
 */
import { describe, expect, it } from 'vitest';
import { parseProxyHeader, V1_MAX_LENGTH, V2_SIGNATURE, type ProxyHeader } from '../../../src/dataplane/proxy-protocol.ts';

const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A version 2 header: signature, version/command, family/transport, length, then `body` (addresses and TLVs). */
function v2(versionCommand: number, familyTransport: number, body: Buffer | readonly number[] = []): Buffer {
  const rest = Buffer.from(body);
  const fixed = Buffer.from([versionCommand, familyTransport, rest.length >> 8, rest.length & 0xff]);
  return Buffer.concat([V2_SIGNATURE, fixed, rest]);
}

const ipv4 = (a: string): number[] => a.split('.').map(Number);
const port = (p: number): number[] => [p >> 8, p & 0xff];
/** The 16 bytes of a fully written IPv6 address (eight groups). */
const ipv6 = (groups: string): number[] => groups.split(':').flatMap((g) => port(parseInt(g, 16)));
const tlv = (type: number, value: readonly number[]): number[] => [type, ...port(value.length), ...value];

const TCP4_BODY = [...ipv4('192.0.2.1'), ...ipv4('198.51.100.1'), ...port(56324), ...port(443)];
const TCP6_BODY = [...ipv6('2001:db8:0:0:0:0:0:1'), ...ipv6('2001:db8:0:0:0:0:0:2'), ...port(56324), ...port(443)];

const header = (version: 1 | 2, length: number, source?: [string, number], destination?: [string, number]): ProxyHeader => ({
  kind: 'header',
  version,
  length,
  source: source === undefined ? undefined : { address: source[0], port: source[1] },
  destination: destination === undefined ? undefined : { address: destination[0], port: destination[1] },
});

const V1_TCP4 = 'PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n';
/** The spec's longest line (§2.1, "worst case"): 107 bytes. */
const V1_WORST = `PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;

describe('parseProxyHeader, version 1', () => {
  it.each<[string, string, ProxyHeader]>([
    ['TCP4', V1_TCP4, header(1, V1_TCP4.length, ['192.0.2.1', 56324], ['198.51.100.1', 443])],
    [
      "the spec's example, an HTTP request after it",
      'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n',
      header(1, 47, ['192.168.0.1', 56324], ['192.168.0.11', 443]),
    ],
    ['the longest TCP4 line (56 bytes)', 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n', header(1, 56, ['255.255.255.255', 65535], ['255.255.255.255', 65535])],
    ['ports 0', 'PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n', header(1, 32, ['0.0.0.0', 0], ['0.0.0.0', 0])],
    ['TCP6, canonicalised', 'PROXY TCP6 2001:DB8:0:0:0:0:0:1 2001:db8::2 56324 443\r\n', header(1, 55, ['2001:db8::1', 56324], ['2001:db8::2', 443])],
    ['TCP6, IPv4-mapped', 'PROXY TCP6 ::ffff:c000:201 ::1 1 2\r\n', header(1, 36, ['::ffff:192.0.2.1', 1], ['::1', 2])],
    ['the longest TCP6 line (104 bytes)', `PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`, header(1, 104, [`${'ffff:'.repeat(7)}ffff`, 65535], [`${'ffff:'.repeat(7)}ffff`, 65535])],
    ['UNKNOWN, short form', 'PROXY UNKNOWN\r\n', header(1, 15)],
    ['UNKNOWN, whatever follows ignored', 'PROXY UNKNOWN not even addresses\r\n', header(1, 34)],
    ['UNKNOWN, the worst case (107 bytes)', V1_WORST, header(1, 107)],
  ])('%s', (_name, bytes, expected) => {
    expect(parseProxyHeader(text(bytes))).toEqual(expected);
  });

  it('the worst case is the 107 bytes the spec says', () => {
    expect(V1_WORST.length).toBe(V1_MAX_LENGTH);
  });

  it.each([
    ['TCP4', V1_TCP4],
    ['UNKNOWN', 'PROXY UNKNOWN\r\n'],
    ['the worst case', V1_WORST],
  ])('every proper prefix of %s is incomplete (a header split across reads)', (_name, line) => {
    for (let n = 1; n < line.length; n++) expect(parseProxyHeader(text(line.slice(0, n))), `${n} bytes`).toEqual({ kind: 'incomplete' });
  });

  it.each([
    ['an HTTP request', 'GET / HTTP/1.1\r\n\r\n'],
    ['a TLS ClientHello', '\x16\x03\x01\x02\x00\x01'],
    ['wrong first word, seen at its fifth byte', 'PROXZ'],
    ['lower case', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['no space after PROXY', 'PROXY\r\n'],
    ['an unknown protocol', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['UDP4 is not version 1', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['two spaces', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a trailing space', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'],
    ['a field missing', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['a field too many', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'],
    ['LF alone', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'],
    ['CR alone', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX'],
    ['a tab', 'PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a byte above 0x7e', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xff\r\n'],
    ['a NUL', 'PROXY \x00'],
    ['a leading zero in an address', 'PROXY TCP4 192.0.2.01 5.6.7.8 1 2\r\n'],
    ['an octet above 255', 'PROXY TCP4 192.0.2.256 5.6.7.8 1 2\r\n'],
    ['three octets', 'PROXY TCP4 192.0.2 5.6.7.8 1 2\r\n'],
    ['a name for an address', 'PROXY TCP4 localhost 5.6.7.8 1 2\r\n'],
    ['a leading zero in a port', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'],
    ['a port above 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n'],
    ['a negative port', 'PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n'],
    ['an IPv6 address under TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n'],
    ['an IPv4 address under TCP6', 'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['a zone id', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'],
    ['an IPv6 address with 9 groups', 'PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n'],
    ['no CRLF within 107 bytes', `PROXY UNKNOWN ${'x'.repeat(120)}`],
    ['a 108-byte line', `PROXY UNKNOWN ${'f'.repeat(V1_WORST.length - 15)}0\r\n`],
    ['106 bytes without a CR: its LF could not be within 107', `PROXY UNKNOWN ${'x'.repeat(106 - 14)}`],
  ])('refuses %s', (_name, bytes) => {
    const parsed = parseProxyHeader(text(bytes));
    expect(parsed.kind, JSON.stringify(parsed)).toBe('invalid');
  });

  it('105 printable bytes are still a possible header', () => {
    expect(parseProxyHeader(text(`PROXY UNKNOWN ${'x'.repeat(105 - 14)}`))).toEqual({ kind: 'incomplete' });
  });
});

describe('parseProxyHeader, version 2', () => {
  const withTlvs = [...TCP4_BODY, ...tlv(0x01, [...text('h2')]), ...tlv(0x04, [0, 0, 0]), ...tlv(0xea, [1, ...text('vpce-0123')])];
  it.each<[string, Buffer, ProxyHeader]>([
    ['PROXY TCP4', v2(0x21, 0x11, TCP4_BODY), header(2, 28, ['192.0.2.1', 56324], ['198.51.100.1', 443])],
    ['PROXY TCP6', v2(0x21, 0x21, TCP6_BODY), header(2, 52, ['2001:db8::1', 56324], ['2001:db8::2', 443])],
    [
      'PROXY TCP6, IPv4-mapped',
      v2(0x21, 0x21, [...ipv6('0:0:0:0:0:ffff:c000:201'), ...ipv6('0:0:0:0:0:0:0:1'), ...port(1), ...port(2)]),
      header(2, 52, ['::ffff:192.0.2.1', 1], ['::1', 2]),
    ],
    ['TLVs (ALPN, NOOP, a vendor one as AWS sends) skipped', v2(0x21, 0x11, withTlvs), header(2, 16 + withTlvs.length, ['192.0.2.1', 56324], ['198.51.100.1', 443])],
    ['LOCAL, UNSPEC, no address (a health check)', v2(0x20, 0x00), header(2, 16)],
    ['LOCAL with an address block anyway: skipped by its length', v2(0x20, 0x11, TCP4_BODY), header(2, 28)],
    ['LOCAL with bytes that are no TLVs: skipped whole', v2(0x20, 0x00, [1, 2, 3, 4, 5]), header(2, 21)],
    ['PROXY UNSPEC: the real endpoints', v2(0x21, 0x00), header(2, 16)],
    ['PROXY UDP over IPv4: the real endpoints', v2(0x21, 0x12, TCP4_BODY), header(2, 28)],
    ['PROXY UDP over IPv6: the real endpoints', v2(0x21, 0x22, TCP6_BODY), header(2, 52)],
    ['PROXY UNIX stream: the real endpoints', v2(0x21, 0x31, new Array<number>(216).fill(0)), header(2, 232)],
  ])('%s', (_name, bytes, expected) => {
    expect(parseProxyHeader(bytes)).toEqual(expected);
  });

  it("the client's bytes after the header are not part of it", () => {
    const bytes = Buffer.concat([v2(0x21, 0x11, TCP4_BODY), text('GET / HTTP/1.1\r\n\r\n')]);
    expect(parseProxyHeader(bytes)).toEqual(header(2, 28, ['192.0.2.1', 56324], ['198.51.100.1', 443]));
  });

  it('takes the largest header its 16-bit length allows', () => {
    const body = [...TCP4_BODY, ...tlv(0x04, new Array<number>(0xffff - TCP4_BODY.length - 3).fill(0))];
    expect(parseProxyHeader(v2(0x21, 0x11, body))).toEqual(header(2, 16 + 0xffff, ['192.0.2.1', 56324], ['198.51.100.1', 443]));
  });

  it.each([
    ['TCP4', v2(0x21, 0x11, TCP4_BODY)],
    ['TCP6 with a TLV', v2(0x21, 0x21, [...TCP6_BODY, ...tlv(0x01, [0x68, 0x32])])],
    ['LOCAL', v2(0x20, 0x00)],
  ])('every proper prefix of %s is incomplete (a header split across reads)', (_name, bytes) => {
    for (let n = 1; n < bytes.length; n++) expect(parseProxyHeader(bytes.subarray(0, n)), `${n} bytes`).toEqual({ kind: 'incomplete' });
  });

  it.each([
    ['a signature wrong at its 5th byte', Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x01])],
    ['a signature wrong at its last byte', Buffer.concat([V2_SIGNATURE.subarray(0, 11), Buffer.from([0x0b])])],
    ['CRLF CRLF and then an HTTP request', text('\r\n\r\nGET / HTTP/1.1\r\n')],
    ['version 1 in the binary form', v2(0x11, 0x11, TCP4_BODY)],
    ['version 3', v2(0x31, 0x11, TCP4_BODY)],
    ['an unassigned command', v2(0x22, 0x11, TCP4_BODY)],
    ['an unassigned command, LOCAL-like', v2(0x2f, 0x00)],
    ['an unassigned family', v2(0x21, 0x41, TCP4_BODY)],
    ['an unassigned transport', v2(0x21, 0x13, TCP4_BODY)],
    ['a TCP4 address block cut short', v2(0x21, 0x11, TCP4_BODY.slice(0, 8))],
    ['a TCP6 address block cut short', v2(0x21, 0x21, TCP4_BODY)],
    ['a UNIX address block cut short', v2(0x21, 0x31, TCP6_BODY)],
    ['a TLV that runs past the header', v2(0x21, 0x11, [...TCP4_BODY, 0x01, 0x00, 0x05, 0x68])],
    ['a TLV cut inside its own head', v2(0x21, 0x11, [...TCP4_BODY, 0x01, 0x00])],
  ])('refuses %s', (_name, bytes) => {
    const parsed = parseProxyHeader(bytes);
    expect(parsed.kind, JSON.stringify(parsed)).toBe('invalid');
  });

  it('an empty read is incomplete, not a verdict', () => {
    expect(parseProxyHeader(Buffer.alloc(0))).toEqual({ kind: 'incomplete' });
  });
});
