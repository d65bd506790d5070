/**
 * The only part of the nftables mode that does I/O: runs the `nft` tool. A transaction goes to
 * `nft -f -` on stdin, so the kernel applies it whole or not at all; when nft refuses it, the previous
 * rules stay and the error names the failing line (nft prints `/dev/stdin:LINE:COL: Error: …` and the line).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ErrorCode, SwyError } from '../errors.ts';
import { NFT_FAMILIES, NFT_TABLE, type NftExisting, type NftFamily } from './nft-model.ts';

/** How to run nft: the command and its leading arguments; default `['nft']`. Tests prefix `ip netns exec NS`. */
export type NftCommand = readonly string[];

export interface NftResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args…` with `input` on stdin. Rejects only when the program cannot be started (ENOENT, EACCES). */
export function runNft(command: NftCommand, args: readonly string[], input = ''): Promise<NftResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.on('error', reject);
    // nft may exit on a parse error before reading all of stdin: that EPIPE is not our error.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }));
    child.stdin.end(input);
  });
}

/** Applies one transaction; throws NFT_APPLY_FAILED (or NFT_UNAVAILABLE for a permission error) with nft's message. */
export async function applyTransaction(command: NftCommand, transaction: string): Promise<void> {
  const result = await runNft(command, ['-f', '-'], transaction).catch((err: unknown) => {
    throw unavailable(command, err);
  });
  if (result.code === 0) return;
  const message = result.stderr.trim() || `nft exited with status ${result.code}`;
  if (/Operation not permitted/i.test(message)) {
    throw new SwyError(ErrorCode.NFT_UNAVAILABLE, `--proxy-mode nftables needs CAP_NET_ADMIN: nft was refused (${firstLine(message)})`);
  }
  throw new SwyError(ErrorCode.NFT_APPLY_FAILED, `nft rejected the transaction: ${message}`);
}

/**
 * Start-up checks, each failure naming what is missing: Linux, the effective CAP_NET_ADMIN (bit 12 of
 * CapEff in /proc/self/status), and an `nft` that runs. `host` false skips the first two (a stand-in nft).
 */
export async function checkNftAvailable(command: NftCommand, host = true): Promise<string> {
  if (host) checkHost();
  const result = await runNft(command, ['--version']).catch((err: unknown) => {
    throw unavailable(command, err);
  });
  if (result.code !== 0) throw new SwyError(ErrorCode.NFT_UNAVAILABLE, `--proxy-mode nftables: \`${command.join(' ')} --version\` failed: ${firstLine(result.stderr)}`);
  return result.stdout.trim();
}

function checkHost(): void {
  if (process.platform !== 'linux') throw new SwyError(ErrorCode.NFT_UNAVAILABLE, `--proxy-mode nftables needs Linux (this is ${process.platform}); use --proxy-mode userspace`);
  const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(readProcStatus())?.[1];
  if (capEff !== undefined && (BigInt(`0x${capEff}`) & (1n << 12n)) === 0n) {
    throw new SwyError(ErrorCode.NFT_UNAVAILABLE, '--proxy-mode nftables needs the CAP_NET_ADMIN capability (run as root, or grant NET_ADMIN to the container); use --proxy-mode userspace without it');
  }
}

/** The chains and sets of our tables in the kernel now (a missing table: none). */
export async function listExisting(command: NftCommand): Promise<NftExisting[]> {
  return Promise.all(NFT_FAMILIES.map((family) => listTable(command, family)));
}

async function listTable(command: NftCommand, family: NftFamily): Promise<NftExisting> {
  // Names only (`-t`: no elements; chains without their rules): listing the whole table of 10,000 Services
  // would cost a second and megabytes of JSON for names we only compare.
  const [chains, sets, maps] = await Promise.all(['chains', 'sets', 'maps'].map((what) => listNames(command, what, family)));
  return { family, chains: chains!, sets: [...sets!, ...maps!] };
}

async function listNames(command: NftCommand, what: string, family: NftFamily): Promise<string[]> {
  const result = await runNft(command, ['-j', '-t', 'list', what, family]);
  if (result.code !== 0) throw new SwyError(ErrorCode.NFT_APPLY_FAILED, `nft could not list the ${what} of family ${family}: ${firstLine(result.stderr)}`);
  const kind = what.slice(0, -1);
  const parsed = JSON.parse(result.stdout) as { nftables?: readonly Record<string, { name?: string; table?: string } | undefined>[] };
  const names: string[] = [];
  for (const item of parsed.nftables ?? []) {
    const object = item[kind];
    if (object?.table === NFT_TABLE && object.name !== undefined) names.push(object.name);
  }
  return names;
}

/** `switchyard cleanup --proxy-mode nftables`: deletes both tables (a missing one is fine). Tables of others are never named. */
export async function deleteTables(command: NftCommand): Promise<void> {
  // `add` first makes `delete` succeed on a missing table (nft 1.0.6 has no `destroy`), in one transaction.
  await applyTransaction(command, NFT_FAMILIES.map((f) => `add table ${f} ${NFT_TABLE}\ndelete table ${f} ${NFT_TABLE}\n`).join(''));
}

function unavailable(command: NftCommand, err: unknown): SwyError {
  const code = (err as { code?: string }).code;
  const what = code === 'ENOENT' ? `\`${command[0]}\` was not found on the PATH (install the Debian package nftables)` : `\`${command[0]}\` could not be run (${code ?? String(err)})`;
  return new SwyError(ErrorCode.NFT_UNAVAILABLE, `--proxy-mode nftables needs the nft tool: ${what}`, { cause: err });
}

function readProcStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}
