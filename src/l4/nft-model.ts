/**
 * The nftables ruleset Switchyard wants, as plain data: what nft-render.ts produces and nft-diff.ts
 * turns into one `nft -f` transaction. Only Switchyard's own tables (`ip switchyard`, `ip6 switchyard`)
 * are ever described, so nothing derived from this data can touch another table.
 */

export type NftFamily = 'ip' | 'ip6';

/** Both tables, always in this order; a family without Services still gets its (empty) table. */
export const NFT_FAMILIES: readonly NftFamily[] = ['ip', 'ip6'];

/** The name of both tables. */
export const NFT_TABLE = 'switchyard';

/**
 * The packet mark bit that asks the postrouting chain to masquerade: kube-proxy's (0x4000), so that
 * operators reading `nft list ruleset` see the convention they know. It is cleared once used.
 */
export const MASQUERADE_MARK = '0x4000';

export interface NftChain {
  readonly name: string;
  /** A base chain's hook, e.g. `type nat hook output priority -100;`; undefined: a regular chain. */
  readonly hook?: string;
  /** Rule bodies, in order, as `nft add rule FAMILY TABLE CHAIN` takes them. */
  readonly rules: readonly string[];
}

export interface NftSet {
  readonly name: string;
  readonly kind: 'set' | 'map';
  /** The declaration's body, e.g. `type ipv4_addr; flags interval;`. */
  readonly spec: string;
  /** Elements as nft writes them (`203.0.113.10 . tcp . 80 : goto service-…`); ignored for dynamic sets. */
  readonly elements: readonly string[];
  /** Filled by the kernel (affinity sets): declared and deleted, never flushed, its elements never managed. */
  readonly dynamic: boolean;
}

export interface NftTable {
  readonly family: NftFamily;
  /** By name, in rendering order. */
  readonly chains: ReadonlyMap<string, NftChain>;
  readonly sets: ReadonlyMap<string, NftSet>;
  /**
   * The UDP endpoints the rules send to, as `address port`: when one goes, its conntrack entries are
   * deleted, or a client's UDP flow would stay on the gone endpoint until its entry expired.
   */
  readonly udpEndpoints: ReadonlySet<string>;
}

export interface NftRuleset {
  /** One per NFT_FAMILIES entry, same order. */
  readonly tables: readonly NftTable[];
}

/** The chains and sets a table holds in the kernel now (read before a full resync); absent table: both empty. */
export interface NftExisting {
  readonly family: NftFamily;
  readonly chains: readonly string[];
  readonly sets: readonly string[];
}

/** The key of a map element (the part before ` : `), which is what `delete element` takes. */
export function elementKey(element: string): string {
  const at = element.indexOf(' : ');
  return at < 0 ? element : element.slice(0, at);
}

/** The ruleset as `nft list table` would show it, for the admin API and people. */
export function formatRuleset(ruleset: NftRuleset): string {
  const out: string[] = [];
  for (const table of ruleset.tables) {
    out.push(`table ${table.family} ${NFT_TABLE} {`);
    for (const set of table.sets.values()) {
      out.push(`\t${set.kind} ${set.name} {`, `\t\t${set.spec}`);
      if (!set.dynamic && set.elements.length > 0) out.push(`\t\telements = { ${set.elements.join(', ')} }`);
      out.push('\t}');
    }
    for (const chain of table.chains.values()) {
      out.push(`\tchain ${chain.name} {`);
      if (chain.hook !== undefined) out.push(`\t\t${chain.hook}`);
      for (const rule of chain.rules) out.push(`\t\t${rule}`);
      out.push('\t}');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}
