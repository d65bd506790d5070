/**
 * `switchyard cleanup --proxy-mode nftables`: removes the tables the nftables service proxy leaves in
 * place on exit (`ip switchyard`, `ip6 switchyard`; a missing one is fine). Never names another table.
 * `--proxy-mode userspace` and `off` leave nothing behind, so there is nothing to do.
 */
import { deleteTables } from '../l4/nft-apply.ts';
import type { SwyError } from '../errors.ts';

export const CLEANUP_USAGE = `Usage: switchyard cleanup --proxy-mode nftables|userspace|off
  remove what the service proxy leaves behind on exit: the nftables tables
  ip switchyard and ip6 switchyard (needs CAP_NET_ADMIN and nft)
`;

/** Exit code: 0 done, 1 nft failed, 2 bad arguments. */
export async function runCleanup(argv: readonly string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(CLEANUP_USAGE);
    return 0;
  }
  const mode = argv.length === 1 && argv[0]!.startsWith('--proxy-mode=') ? argv[0]!.slice('--proxy-mode='.length) : argv.length === 2 && argv[0] === '--proxy-mode' ? argv[1] : undefined;
  if (mode !== 'nftables' && mode !== 'userspace' && mode !== 'off') {
    err(`switchyard cleanup: needs --proxy-mode nftables|userspace|off and nothing else\n\n${CLEANUP_USAGE}`);
    return 2;
  }
  if (mode !== 'nftables') {
    out(`switchyard cleanup: --proxy-mode ${mode} leaves nothing behind\n`);
    return 0;
  }
  try {
    await deleteTables(['nft']);
  } catch (e) {
    const x = e as SwyError;
    err(`switchyard cleanup: ${x.code ?? 'error'}: ${x.message}\n`);
    return 1;
  }
  out('switchyard cleanup: removed the nftables tables ip switchyard and ip6 switchyard\n');
  return 0;
}
