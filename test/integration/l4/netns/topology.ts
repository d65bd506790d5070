/**
 * A node, a client and three pods, each in a network namespace this module creates (and removes), so no
 * packet of the nftables tests leaves them and the host's own tables are never touched:
 *
 *   client 198.51.100.2 ──veth── 198.51.100.1 node 192.0.2.1 (bridge) ──veth── pod-1 192.0.2.11
 *                                     │ dummy0 (veth): route to cluster IPs    ├─── pod-2 192.0.2.12
 *                                     │ (203.0.113.0/24)                       └─── pod-3 192.0.2.13
 *
 * Addresses are from the documentation ranges (RFC 5737). Pods 1 and 2 are on node-a (this node), pod 3
 * on node-b (reachable, but a Local policy must not use it). Each pod runs pod.ts: TCP and UDP echo on
 * POD_PORTS, greeting with its name and the peer address it sees.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { cleanupAll } from '../../../helpers/cleanup.ts';

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '../../../..');
/** The checkout's Node 24 (it runs the .ts helpers directly). */
export const NODE = join(ROOT, 'node_modules/.bin/node');

export const NODE_NAME = 'node-a';
export const NODE_IP = '198.51.100.1';
export const CLIENT_IP = '198.51.100.2';
export const NODE_POD_IP = '192.0.2.1';
export const POD_CIDR = '192.0.2.0/24';
export const CLUSTER_IP_RANGE = '203.0.113.0/24';
export const POD_PORTS = [8080, 8081];
export const PODS = [
  { name: 'pod-1', address: '192.0.2.11', address6: '2001:db8:2::11', node: 'node-a' },
  { name: 'pod-2', address: '192.0.2.12', address6: '2001:db8:2::12', node: 'node-a' },
  { name: 'pod-3', address: '192.0.2.13', address6: '2001:db8:2::13', node: 'node-b' },
] as const;
/** IPv6 (documentation prefix 2001:db8::/32, RFC 3849): client and node link, pod network, cluster IPs. */
export const NODE_IP6 = '2001:db8:1::1';
export const CLIENT_IP6 = '2001:db8:1::2';
export const NODE_POD_IP6 = '2001:db8:2::1';
export const CLUSTER_IP6_RANGE = '2001:db8:ff::/64';

/** Why namespaces cannot be made here (then the tests are skipped, saying so); undefined when they can. */
export function unavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces and program nftables';
  for (const [tool, pkg] of [['ip', 'iproute2'], ['nft', 'nftables']] as const) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      return `needs the \`${tool}\` tool (Debian package ${pkg})`;
    }
  }
  const probe = `swyprobe${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'exec', probe, 'nft', 'add table ip probe'], { stdio: 'pipe' });
  } catch (err) {
    return `cannot create a network namespace with nftables: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n')[0]}`;
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    } catch {
      // it was never made
    }
  }
  return undefined;
}

export interface Topology {
  readonly node: string;
  readonly client: string;
  /** Namespace of each pod, by pod name. */
  readonly podNs: ReadonlyMap<string, string>;
  /** Why IPv6 could not be set up (e.g. disabled in this kernel); undefined: every namespace has IPv6 too. */
  readonly ipv6Unavailable: string | undefined;
  /** How the node's nft is run (for NftProxier's `command`). */
  readonly nft: readonly string[];
  /** Runs a command in a namespace; resolves with its stdout (rejects on a non-zero exit). */
  exec(ns: string, args: readonly string[]): Promise<string>;
  /** Runs client.ts in `ns` (default: the client namespace) with these operations; one result per operation. */
  runClient<T extends unknown[]>(ops: readonly object[], ns?: string): Promise<T>;
  /** Removes every namespace (and so every interface, table and process-bound socket in them). */
  destroy(): Promise<void>;
}

let counter = 0;

/** Namespaces left by a test process that was killed before its cleanup ran (named `swyPIDx…`, PID gone). */
async function removeOrphans(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']);
  for (const m of stdout.matchAll(/^(swy(\d+)x\d+-\S+)/gm)) {
    const pid = Number(m[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) await run('ip', ['netns', 'del', m[1]!]).catch(() => undefined);
  }
}

export async function createTopology(): Promise<Topology> {
  await removeOrphans();
  const id = `swy${process.pid}x${counter++}`;
  const node = `${id}-node`;
  const client = `${id}-client`;
  const podNs = new Map(PODS.map((p) => [p.name, `${id}-${p.name}`]));
  const all = [node, client, ...podNs.values()];
  const children: ChildProcess[] = [];
  const ip = (...args: string[]): Promise<unknown> => run('ip', args);
  let ipv6Unavailable: string | undefined;
  /** IPv6 set-up steps: the first failure is remembered and the rest skipped; IPv4 goes on regardless. */
  const ip6 = async (...args: string[]): Promise<void> => {
    if (ipv6Unavailable !== undefined) return;
    const argv = args[0] === 'sysctl' ? ['netns', 'exec', args[1]!, 'sysctl', '-qw', args[2]!] : args;
    await run('ip', argv).catch((err: { stderr?: string }) => {
      ipv6Unavailable = `IPv6 set-up failed (${args.join(' ')}): ${String(err.stderr ?? err).trim().split('\n')[0]}`;
    });
  };
  const topo: Topology = {
    node,
    get ipv6Unavailable() {
      return ipv6Unavailable;
    },
    client,
    podNs,
    nft: ['ip', 'netns', 'exec', node, 'nft'],
    async exec(ns, args) {
      return (await run('ip', ['netns', 'exec', ns, ...args], { maxBuffer: 256 * 1024 * 1024 })).stdout;
    },
    async runClient<T extends unknown[]>(ops: readonly object[], ns = client): Promise<T> {
      const out = await topo.exec(ns, [NODE, join(HERE, 'client.ts'), JSON.stringify(ops)]);
      return JSON.parse(out) as T;
    },
    async destroy() {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));
      for (const ns of all) await ip('netns', 'del', ns).catch(() => undefined);
    },
  };
  try {
    for (const ns of all) {
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await ip('-n', node, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', node, 'addr', 'add', `${NODE_POD_IP}/24`, 'dev', 'br0');
    await ip('-n', node, 'link', 'set', 'br0', 'up');
    // A veth pair with both ends in the node stands in for a dummy interface (not every kernel has the
    // dummy module): the cluster IPs need a route, or unmatched packets die in routing before our rules.
    await ip('-n', node, 'link', 'add', 'dummy0', 'type', 'veth', 'peer', 'name', 'dummy1');
    await ip('-n', node, 'link', 'set', 'dummy0', 'up');
    await ip('-n', node, 'link', 'set', 'dummy1', 'up');
    await ip('-n', node, 'route', 'add', CLUSTER_IP_RANGE, 'dev', 'dummy0');
    await run('ip', ['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await ip('-n', node, 'link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client);
    await ip('-n', node, 'addr', 'add', `${NODE_IP}/24`, 'dev', 'vc');
    await ip('-n', node, 'link', 'set', 'vc', 'up');
    await ip('-n', client, 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'eth0');
    await ip('-n', client, 'link', 'set', 'eth0', 'up');
    await ip('-n', client, 'route', 'add', 'default', 'via', NODE_IP);
    // nodad: the addresses are usable at once (no duplicate address detection wait).
    await ip6('sysctl', node, 'net.ipv6.conf.all.forwarding=1');
    await ip6('-n', node, 'addr', 'add', `${NODE_POD_IP6}/64`, 'dev', 'br0', 'nodad');
    await ip6('-n', node, 'addr', 'add', `${NODE_IP6}/64`, 'dev', 'vc', 'nodad');
    await ip6('-n', node, 'route', 'add', CLUSTER_IP6_RANGE, 'dev', 'dummy0');
    await ip6('-n', client, 'addr', 'add', `${CLIENT_IP6}/64`, 'dev', 'eth0', 'nodad');
    await ip6('-n', client, 'route', 'add', 'default', 'via', NODE_IP6);
    for (const [i, pod] of PODS.entries()) {
      const ns = podNs.get(pod.name)!;
      await ip('-n', node, 'link', 'add', `vp${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ip('-n', node, 'link', 'set', `vp${i}`, 'master', 'br0', 'up');
      // As the CNI bridge plugin's hairpinMode: with br_netfilter loaded, a pod's packet DNATed back to
      // that pod must leave by the bridge port it came in on.
      await ip('-n', node, 'link', 'set', `vp${i}`, 'type', 'bridge_slave', 'hairpin', 'on');
      await ip('-n', ns, 'addr', 'add', `${pod.address}/24`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'route', 'add', 'default', 'via', NODE_POD_IP);
      await ip6('-n', ns, 'addr', 'add', `${pod.address6}/64`, 'dev', 'eth0', 'nodad');
      await ip6('-n', ns, 'route', 'add', 'default', 'via', NODE_POD_IP6);
      const addresses = ipv6Unavailable === undefined ? `${pod.address},${pod.address6}` : pod.address;
      const child = spawn('ip', ['netns', 'exec', ns, NODE, join(HERE, 'pod.ts'), pod.name, addresses, ...POD_PORTS.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
      const [line] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => [Buffer.from('exited')])])) as [Buffer];
      if (!line.toString().startsWith('ready')) throw new Error(`pod ${pod.name} did not start: ${line.toString()}`);
    }
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return topo;
}

/**
 * A describe block's hooks around one topology: made before its first test (handed to `use`), destroyed
 * after its last, and everything a test deferred cleaned up after each test.
 */
export function useTopology(use: (topo: Topology) => void): void {
  let topo: Topology | undefined;
  beforeAll(async () => {
    topo = await createTopology();
    use(topo);
  }, 60_000);
  afterAll(async () => {
    await topo?.destroy();
  });
  afterEach(cleanupAll);
}

