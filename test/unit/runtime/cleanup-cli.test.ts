/**
 * `switchyard cleanup`'s arguments (the nftables path itself runs in a network namespace:
 * test/integration/l4/nftables-cli.test.ts; here nothing may touch this machine's tables).
 */
import { describe, expect, it } from 'vitest';
import { runCleanup } from '../../../src/runtime/cleanup-cli.ts';

async function cleanup(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCleanup(argv, (t) => (out += t), (t) => (err += t));
  return { code, out, err };
}

describe('switchyard cleanup: arguments', () => {
  it.each([
    ['no mode', [], 2, /needs --proxy-mode nftables\|userspace\|off/],
    ['an unknown mode', ['--proxy-mode', 'ipvs'], 2, /needs --proxy-mode/],
    ['an extra argument', ['--proxy-mode', 'nftables', '--force'], 2, /and nothing else/],
  ] as const)('%s: exit 2 with the usage', async (_d, argv, code, message) => {
    const r = await cleanup([...argv]);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(r.err).toContain('Usage: switchyard cleanup');
  });

  it.each([[['--proxy-mode', 'userspace']], [['--proxy-mode=off']]])('%j: nothing to remove, exit 0', async (argv) => {
    const r = await cleanup(argv);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/leaves nothing behind/);
  });

  it('--help: the usage, exit 0', async () => {
    expect(await cleanup(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('ip switchyard and ip6 switchyard') });
  });
});
