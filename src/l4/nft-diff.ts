/**
 * Wanted ruleset → the text of ONE `nft -f` transaction (the kernel applies it whole or not at all).
 *
 * - fullTransaction: from whatever the kernel holds (the names listed just before): every wanted chain is
 *   declared and flushed and its rules written again, every managed set flushed and refilled, and every
 *   chain or set of ours that is not wanted deleted. Used at start, every --nftables-sync-period and after
 *   a failed partial sync, so rules deleted or edited by hand come back. Dynamic (affinity) sets are
 *   declared, never flushed: clients keep their endpoint across resyncs.
 * - diffTransaction: from the last applied ruleset: only chains whose rules changed are flushed and
 *   rewritten, only map elements that changed are deleted and added; a one-endpoint change of one Service
 *   touches its few chains whatever the number of Services.
 *
 * Statement order matters inside a transaction: sets and chains exist before a rule or element names them,
 * and a chain or set is deleted only after every rule and element naming it is gone.
 */
import { elementKey, NFT_TABLE, type NftChain, type NftExisting, type NftRuleset, type NftSet, type NftTable } from './nft-model.ts';

/** Elements per `add element` statement: keeps each line of the transaction a reasonable length. */
const ELEMENT_CHUNK = 500;

/** The full resync transaction; `existing`: what each table holds now (absent or empty: nothing). */
export function fullTransaction(next: NftRuleset, existing: readonly NftExisting[] = []): string {
  const out: string[] = [];
  for (const table of next.tables) {
    const t = `${table.family} ${NFT_TABLE}`;
    const had = existing.find((e) => e.family === table.family);
    const staleChains = (had?.chains ?? []).filter((c) => !table.chains.has(c));
    const staleSets = (had?.sets ?? []).filter((s) => !table.sets.has(s));
    out.push(`add table ${t}`);
    for (const set of table.sets.values()) {
      out.push(declareSet(t, set));
      if (!set.dynamic) out.push(`flush ${set.kind} ${t} ${set.name}`);
    }
    for (const chain of table.chains.values()) out.push(declareChain(t, chain), `flush chain ${t} ${chain.name}`);
    for (const name of staleChains) out.push(`flush chain ${t} ${name}`);
    for (const chain of table.chains.values()) pushRules(out, t, chain);
    for (const set of table.sets.values()) if (!set.dynamic) pushElements(out, 'add', t, set, set.elements);
    for (const name of staleChains) out.push(`delete chain ${t} ${name}`);
    for (const name of staleSets) out.push(`delete set ${t} ${name}`);
  }
  return out.join('\n') + '\n';
}

/** The transaction that turns `prev` (the last applied ruleset) into `next`; '' when nothing changed. */
export function diffTransaction(prev: NftRuleset, next: NftRuleset): string {
  const out: string[] = [];
  for (const table of next.tables) {
    const before = prev.tables.find((p) => p.family === table.family);
    if (before === undefined) return fullTransaction(next);
    diffTable(out, before, table);
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

function diffTable(out: string[], prev: NftTable, next: NftTable): void {
  const t = `${next.family} ${NFT_TABLE}`;
  const changed: NftChain[] = [];
  const added: NftChain[] = [];
  for (const chain of next.chains.values()) {
    const old = prev.chains.get(chain.name);
    if (old === undefined) added.push(chain);
    else if (old.hook !== chain.hook || !sameRules(old.rules, chain.rules)) changed.push(chain);
  }
  const removedChains = [...prev.chains.keys()].filter((name) => !next.chains.has(name));
  const removedSets = [...prev.sets.values()].filter((s) => !next.sets.has(s.name));

  for (const set of next.sets.values()) if (!prev.sets.has(set.name)) out.push(declareSet(t, set));
  for (const chain of added) out.push(declareChain(t, chain));
  for (const chain of changed) out.push(`flush chain ${t} ${chain.name}`);
  // Removed chains are emptied before anything is deleted: they may jump to each other.
  for (const name of removedChains) out.push(`flush chain ${t} ${name}`);
  for (const chain of [...added, ...changed]) pushRules(out, t, chain);
  for (const set of next.sets.values()) {
    if (set.dynamic) continue;
    const old = prev.sets.get(set.name);
    const oldElements = new Set(old?.elements ?? []);
    const newElements = new Set(set.elements);
    const gone = (old?.elements ?? []).filter((e) => !newElements.has(e));
    const come = set.elements.filter((e) => !oldElements.has(e));
    pushElements(out, 'delete', t, set, set.kind === 'map' ? gone.map(elementKey) : gone);
    pushElements(out, 'add', t, set, come);
  }
  for (const name of removedChains) out.push(`delete chain ${t} ${name}`);
  for (const set of removedSets) out.push(`delete ${set.kind} ${t} ${set.name}`);
}

function declareSet(t: string, set: NftSet): string {
  return `add ${set.kind} ${t} ${set.name} { ${set.spec} }`;
}

function declareChain(t: string, chain: NftChain): string {
  return chain.hook === undefined ? `add chain ${t} ${chain.name}` : `add chain ${t} ${chain.name} { ${chain.hook} }`;
}

function pushRules(out: string[], t: string, chain: NftChain): void {
  for (const rule of chain.rules) out.push(`add rule ${t} ${chain.name} ${rule}`);
}

function pushElements(out: string[], verb: 'add' | 'delete', t: string, set: NftSet, elements: readonly string[]): void {
  for (let i = 0; i < elements.length; i += ELEMENT_CHUNK) {
    out.push(`${verb} element ${t} ${set.name} { ${elements.slice(i, i + ELEMENT_CHUNK).join(', ')} }`);
  }
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}
