/**
 * The nftables service proxy (`--proxy-mode nftables`, kube-proxy's role in the kernel): keeps the
 * tables `ip switchyard` and `ip6 switchyard` in step with the snapshot. Runs once, in the control plane.
 *
 * A snapshot swap, or a change in which endpoints active health checks eject, schedules a sync after
 * `coalesceMs` (bursts become one transaction, well within 1 s); a sync renders the wanted ruleset
 * (nft-render.ts) and applies the difference from the last applied one (nft-diff.ts) as one `nft -f`
 * transaction. At start, every --nftables-sync-period and after any failure the sync is full (from what
 * the kernel holds), so hand edits are undone. A refused transaction leaves the kernel's rules as they
 * were; the error is kept for the admin API and the sync is retried after `retryMs`.
 *
 * On stop the tables stay: traffic keeps flowing while Switchyard restarts (`switchyard cleanup` removes them).
 */
import type { Availability } from '../dataplane/balancer.ts';
import type { MetricFamily } from '../dataplane/traffic-stats.ts';
import { ErrorCode, SwyError, hasCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import type { Snapshot } from '../snapshot/types.ts';
import { applyTransaction, checkNftAvailable, listExisting, type NftCommand } from './nft-apply.ts';
import { endStaleUdpFlows } from './nft-conntrack.ts';
import { diffTransaction, fullTransaction } from './nft-diff.ts';
import { formatRuleset, type NftRuleset } from './nft-model.ts';
import { renderRuleset } from './nft-render.ts';

export interface NftProxierOptions {
  readonly holder: SnapshotHolder;
  /** Active-check verdicts: an ejected endpoint leaves the rules; default: every endpoint available. */
  readonly health?: Availability;
  readonly nodeName: string;
  /** --cluster-cidr. */
  readonly clusterCidrs: readonly string[];
  /** --nodeport-addresses. */
  readonly nodePortAddresses: readonly string[];
  /** --nftables-sync-period, ms. */
  readonly syncPeriodMs: number;
  readonly log: Logger;
  /** How nft is run; default `['nft']`. */
  readonly command?: NftCommand;
  /** Wait after a change before syncing, so a burst is one transaction, ms; default 100. */
  readonly coalesceMs?: number;
  /** Wait before retrying a refused sync, ms; default 5000. */
  readonly retryMs?: number;
  /** How often health verdicts are compared with the applied rules, ms; default 500. */
  readonly healthPollMs?: number;
  /** Clock, ms; default Date.now. */
  readonly now?: () => number;
  /** How the conntrack tool is run, to end UDP flows to removed endpoints; default `['conntrack']`. */
  readonly conntrackCommand?: NftCommand;
  /** Check this host (Linux, CAP_NET_ADMIN) at start; default true. False: `command` is a stand-in for nft. */
  readonly checkHost?: boolean;
}

/** What the last sync did, for the admin API. */
export interface NftSyncState {
  readonly generation: number;
  readonly lastSyncAt: string | undefined;
  readonly lastFullSyncAt: string | undefined;
  /** Lines of the last applied transaction (a one-endpoint change: a handful). */
  readonly lastTransactionLines: number;
  readonly lastError: { readonly code: string; readonly message: string; readonly at: string } | undefined;
}

export class NftProxier {
  readonly #o: NftProxierOptions;
  readonly #command: NftCommand;
  readonly #now: () => number;
  #applied: NftRuleset | undefined;
  #appliedHealth = '';
  #generation = 0;
  #lastSyncAt: number | undefined;
  #lastFullSyncAt: number | undefined;
  #lastTransactionLines = 0;
  #lastError: NftSyncState['lastError'];
  #syncs = 0;
  #failures = 0;
  #dirty = false;
  #full = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #healthPoll: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;
  #conntrackMissing = false;

  constructor(options: NftProxierOptions) {
    this.#o = options;
    this.#command = options.command ?? ['nft'];
    this.#now = options.now ?? Date.now;
  }

  /** Checks nft and CAP_NET_ADMIN, applies the full ruleset once (failing start-up if refused), then follows the snapshot. */
  async start(): Promise<void> {
    const version = await checkNftAvailable(this.#command, this.#o.checkHost ?? true);
    await this.#sync(true, true);
    this.#o.log.info({ nft: version, generation: this.#generation }, 'nftables service proxy programmed');
    this.#unsubscribe = this.#o.holder.onSwap(() => this.#schedule(false, this.#o.coalesceMs ?? 100));
    this.#periodic = setInterval(() => this.#schedule(true, 0), this.#o.syncPeriodMs).unref();
    if (this.#o.health !== undefined) this.#healthPoll = setInterval(() => this.#pollHealth(), this.#o.healthPollMs ?? 500).unref();
  }

  /** Stops following the snapshot; the tables stay in the kernel. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    clearInterval(this.#periodic);
    clearInterval(this.#healthPoll);
    await this.#running;
  }

  /** Syncs now (tests, and anyone who cannot wait for the coalescing timer); resolves when done. */
  async syncNow(full = false): Promise<void> {
    this.#dirty = true;
    this.#full ||= full;
    await this.#run();
  }

  state(): NftSyncState {
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    return {
      generation: this.#generation,
      lastSyncAt: iso(this.#lastSyncAt),
      lastFullSyncAt: iso(this.#lastFullSyncAt),
      lastTransactionLines: this.#lastTransactionLines,
      lastError: this.#lastError,
    };
  }

  /** `GET /api/v1/nftables`: the sync state and the last applied ruleset as nft lists it. */
  rulesetView(): object {
    return { mode: 'nftables', ...this.#settings(), ...this.state(), ruleset: this.#applied === undefined ? '' : formatRuleset(this.#applied) };
  }

  /** `GET /api/v1/l4` in this mode: the sync state without the ruleset text (megabytes for 10,000 Services). */
  view(): object {
    const chains = this.#applied?.tables.reduce((n, t) => n + t.chains.size, 0) ?? 0;
    return { mode: 'nftables', ...this.#settings(), ...this.state(), chains, ports: this.#o.holder.current().l4.length };
  }

  metricFamilies(): MetricFamily[] {
    return [
      { name: 'switchyard_nftables_syncs_total', help: 'nftables transactions applied by the service proxy.', type: 'counter', aggregator: 'sum', values: [{ labels: {}, value: this.#syncs }] },
      { name: 'switchyard_nftables_sync_failures_total', help: 'nftables transactions nft refused.', type: 'counter', aggregator: 'sum', values: [{ labels: {}, value: this.#failures }] },
    ];
  }

  #settings(): object {
    return { nodeName: this.#o.nodeName, clusterCidrs: this.#o.clusterCidrs, nodePortAddresses: this.#o.nodePortAddresses, syncPeriodMs: this.#o.syncPeriodMs };
  }

  #schedule(full: boolean, delayMs: number): void {
    if (this.#stopped) return;
    this.#dirty = true;
    this.#full ||= full;
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, delayMs);
  }

  async #run(): Promise<void> {
    if (this.#running !== undefined) return this.#running;
    this.#running = (async () => {
      while (this.#dirty && !this.#stopped) {
        this.#dirty = false;
        const full = this.#full;
        this.#full = false;
        await this.#sync(full, false);
      }
    })();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
    }
  }

  async #sync(full: boolean, fatal: boolean): Promise<void> {
    const snapshot = this.#o.holder.current();
    const health = this.#o.health;
    const next = renderRuleset(snapshot, {
      nodeName: this.#o.nodeName,
      clusterCidrs: this.#o.clusterCidrs,
      nodePortAddresses: this.#o.nodePortAddresses,
      ...(health !== undefined ? { available: (key: string) => health.available(key) } : {}),
    });
    const healthPrint = this.#healthFingerprint(snapshot);
    const started = this.#now();
    const partial = !full && this.#applied !== undefined;
    try {
      const tx = partial ? diffTransaction(this.#applied!, next) : fullTransaction(next, await listExisting(this.#command));
      if (tx !== '') await applyTransaction(this.#command, tx);
      const previous = this.#applied;
      this.#applied = next;
      if (previous !== undefined && !this.#conntrackMissing && !(await endStaleUdpFlows(previous, next, this.#o.conntrackCommand ?? ['conntrack']))) {
        this.#conntrackMissing = true;
        this.#o.log.warn('the conntrack tool cannot be run (Debian package conntrack): UDP flows to removed endpoints go on until their conntrack entries expire');
      }
      this.#appliedHealth = healthPrint;
      this.#lastSyncAt = this.#now();
      if (!partial) this.#lastFullSyncAt = this.#lastSyncAt;
      this.#lastError = undefined;
      if (tx === '') return;
      this.#generation++;
      this.#syncs++;
      this.#lastTransactionLines = countLines(tx);
      this.#o.log.info({ generation: this.#generation, full: !partial, lines: this.#lastTransactionLines, snapshot: snapshot.version, ms: this.#now() - started }, 'nftables rules applied');
    } catch (err) {
      this.#failures++;
      const code = hasCode(err, ErrorCode.NFT_UNAVAILABLE) ? ErrorCode.NFT_UNAVAILABLE : ErrorCode.NFT_APPLY_FAILED;
      const message = err instanceof Error ? err.message : String(err);
      this.#lastError = { code, message, at: new Date(this.#now()).toISOString() };
      if (fatal) throw hasCode(err, code) ? err : new SwyError(code, message, { cause: err });
      this.#o.log.error({ code, generation: this.#generation, full: !partial }, `nftables sync failed, the previous rules stay: ${message}`);
      // A partial sync builds on what we believe the kernel holds; after a refusal, believe nothing.
      if (partial) return this.#sync(true, false);
      this.#schedule(true, this.#o.retryMs ?? 5000);
    }
  }

  #pollHealth(): void {
    if (this.#running === undefined && this.#healthFingerprint(this.#o.holder.current()) !== this.#appliedHealth) this.#schedule(false, 0);
  }

  /** The endpoints of layer-4 ports that health checks eject now, as one comparable string. */
  #healthFingerprint(snapshot: Pick<Snapshot, 'l4' | 'backends'>): string {
    const health = this.#o.health;
    if (health === undefined) return '';
    const out: string[] = [];
    for (const port of snapshot.l4) {
      for (const e of snapshot.backends.get(port.key)?.all ?? []) if (!health.available(e.key)) out.push(e.key);
    }
    return out.join(',');
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
