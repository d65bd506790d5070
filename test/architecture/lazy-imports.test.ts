/**
 * What a start loads before any flag asks for more: the modules reachable by static (value) imports
 * from the program's entry and from a worker thread's. Optional parts are imported dynamically where
 * their flag turns them on (the layer-4 service proxy, the DNS server, the cluster client, the
 * subcommands), and a data-plane worker loads the data plane only — never the compiler, the sources
 * or the admin app, which run once in the main thread. See docs/performance.md "Footprint".
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Internal modules reachable from `entry` through static imports that bring values (not `import type`). */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(import|export)\s+(?!type\s)[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) visit(resolve(dirname(file), m[2]!));
    // Side-effect imports (`import './x.ts'`).
    for (const m of text.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm)) visit(resolve(dirname(file), m[1]!));
  };
  visit(resolve(SRC, entry));
  return new Set([...seen].map((f) => relative(SRC, f)));
}

const under = (graph: Set<string>, prefixes: readonly string[]): string[] => [...graph].filter((f) => prefixes.some((p) => f.startsWith(p))).sort();

describe('what a start loads', () => {
  const cli = staticGraph('cli.ts');
  const worker = staticGraph('runtime/worker-main.ts');

  it('walks the graph (the walk itself finds the modules every start needs)', () => {
    expect(cli).toContain('runtime/control-plane.ts');
    expect(cli).toContain('compile/compile.ts');
    expect(worker).toContain('runtime/data-plane.ts');
    expect(worker).toContain('dataplane/ingress-listener.ts');
  });

  it('the program loads no optional part until its flag or subcommand asks for it', () => {
    const optional = [
      'l4/',
      'sources/kube-source.ts',
      'dns/server.ts',
      'runtime/check.ts',
      'runtime/explain-cli.ts',
      'runtime/explain-format.ts',
      'runtime/cleanup-cli.ts',
      // One of the two shapes: the data plane in the main thread, or worker threads.
      'runtime/data-plane.ts',
      'runtime/primary.ts',
    ];
    expect(under(cli, optional)).toEqual([]);
  });

  it('a data-plane worker loads no control-plane module', () => {
    expect(under(worker, ['compile/', 'sources/', 'store/', 'admin/', 'l4/', 'dns/', 'reconcile.ts', 'runtime/control-plane.ts', 'runtime/explain'])).toEqual([]);
  });
});
