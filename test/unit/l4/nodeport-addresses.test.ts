import { describe, expect, it } from 'vitest';
import { nodePortListenAddresses, type LocalAddress } from '../../../src/l4/nodeport-addresses.ts';

const LOCAL: LocalAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '10.1.2.3', family: 4 },
  { address: '192.168.0.5', family: 4 },
  { address: '::1', family: 6 },
  { address: '2001:db8::5', family: 6 },
];

describe('nodePortListenAddresses', () => {
  // [description, --nodeport-addresses as flags.ts returns them, addresses bound]
  const cases: [string, string[], string[]][] = [
    ['the default 0.0.0.0: the IPv4 wildcard', ['0.0.0.0/32'], ['0.0.0.0']],
    ['a /0 is the wildcard of its family', ['0.0.0.0/0', '::/0'], ['0.0.0.0', '::']],
    ['a /32 of a local address', ['127.0.0.1/32'], ['127.0.0.1']],
    ['a block: the local addresses inside it', ['10.0.0.0/8', '192.168.0.0/16'], ['10.1.2.3', '192.168.0.5']],
    ['IPv6 blocks', ['2001:db8::/32'], ['2001:db8::5']],
    ['a block with no local address: none', ['203.0.113.0/24'], []],
    ['the wildcard replaces single addresses of its family', ['0.0.0.0/32', '127.0.0.1/32', '::1/128'], ['0.0.0.0', '::1']],
    ['listed twice: bound once', ['127.0.0.1/32', '127.0.0.0/8'], ['127.0.0.1']],
  ];
  it.each(cases)('%s', (_d, cidrs, expected) => {
    expect(nodePortListenAddresses(cidrs, LOCAL)).toEqual(expected);
  });
});
