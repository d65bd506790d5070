/**
 * Enforces the dependency arrows of ../shared/ARCHITECTURE.md: each area of src/ may import only the
 * areas listed for it, and each wrapped library only inside the module that wraps it.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Area of a file: its top folder under src/, or its file name without extension at the top. */
function areaOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  return rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.ts$/, '');
}

/** Which internal areas each area may import (its own area always allowed). `*`: anything. */
const ALLOWED: Record<string, readonly string[] | '*'> = {
  errors: [],
  log: [],
  model: [],
  sources: ['model', 'errors', 'log'],
  store: ['model'],
  compile: ['model', 'snapshot'],
  snapshot: ['model'],
  reconcile: ['store', 'compile', 'snapshot', 'log', 'model'],
  health: ['snapshot', 'model', 'log'],
  dataplane: ['snapshot', 'health', 'errors', 'log', 'model'],
  dns: ['snapshot', 'model', 'errors', 'log'],
  // The layer-4 service proxy: the snapshot's plan (compile/l4-plan, pure), the one balancer and health model.
  l4: ['snapshot', 'compile', 'dataplane', 'health', 'model', 'errors', 'log'],
  admin: ['snapshot', 'store', 'health', 'model', 'errors'],
  flags: ['log'],
  main: '*',
  runtime: '*',
  cli: '*',
};

/** Third-party packages that only their wrapping area may import. */
const LIBRARY_OWNERS: Record<string, readonly string[]> = {
  undici: ['dataplane'],
  fastify: ['admin'],
  pino: ['log'],
  'js-yaml': ['sources'],
  zod: ['sources'],
  'dns-packet': ['dns'],
  '@kubernetes/client-node': ['sources'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

const files = sourceFiles(SRC);

describe('import boundaries', () => {
  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [relative(SRC, f), f]))('%s imports only what its area may', (_rel, file) => {
    const area = areaOf(file);
    const allowed = ALLOWED[area];
    expect(allowed, `area ${area} is not in the architecture table`).toBeDefined();
    const violations: string[] = [];
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) {
        const target = areaOf(resolve(dirname(file), spec));
        if (target !== area && allowed !== '*' && !allowed!.includes(target)) violations.push(`${spec} (area ${target})`);
      } else if (!spec.startsWith('node:')) {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        const owners = LIBRARY_OWNERS[pkg];
        if (owners && !owners.includes(area)) violations.push(`${spec} (only ${owners.join(', ')} may use it)`);
      }
    }
    expect(violations).toEqual([]);
  });

  // An ESM import of node:http builds its namespace, which reads the lazy WebSocket/CloseEvent/MessageEvent
  // exports and so loads Node's bundled undici in every process (src/dataplane/http-listener.ts).
  it.each(files.map((f) => [relative(SRC, f), f]))('%s takes node:http values from process.getBuiltinModule, not import', (_rel, file) => {
    const valueImports = [...readFileSync(file, 'utf8').matchAll(/^\s*import\s+(?!type\s)([^'"]*?)from\s+['"]node:https?['"]/gm)].map((m) => m[0].trim());
    expect(valueImports).toEqual([]);
  });
});
