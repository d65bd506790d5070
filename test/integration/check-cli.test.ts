/**
 * `switchyard check` through the real CLI: exit 0 when the manifests would start the proxy (warnings
 * allowed), 1 when they would not, 2 for bad flags; one report line per problem, or JSON.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { ingress, service, tempManifestDir, toYaml, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { REPO_ROOT, runSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const web = service({ name: 'web', namespace: 'shop' });
const webIngress = ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }] }] });

async function check(args: readonly string[], timeoutMs?: number): Promise<Awaited<ReturnType<typeof runSwitchyard>>> {
  return runSwitchyard(['check', ...args], timeoutMs);
}

describe('switchyard check', () => {
  it('passes the demo and the multi-namespace example (exit 0)', async () => {
    const demo = await check(['--manifests', join(REPO_ROOT, 'examples/demo')]);
    expect(demo.code, demo.stdout + demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/^0 errors, 0 warnings: would start/m);
    const multi = await check(['--manifests', join(REPO_ROOT, 'examples/multi')]);
    expect(multi.code, multi.stdout + multi.stderr).toBe(0);
    expect(multi.stdout).toMatch(/: would start/);
  });

  it('exits 1 on a YAML syntax error, naming the file, the line and the document', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'good.yaml', [web]);
    // Line 1 `---`, then the Service dump; the broken document starts after it.
    const head = toYaml([service({ name: 'api', namespace: 'shop' })]);
    const file = await writeManifest(dir, 'broken.yaml', `${head}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n`);
    const run = await check(['--manifests', dir]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const line = run.stdout.split('\n').find((l) => l.includes('SWY_ERR_MANIFEST_PARSE'));
    expect(line).toMatch(new RegExp(`^error: ${escape(file)}:\\d+ document 1: invalid YAML at line \\d+`));
    // The error is at or after the broken document's own lines, never inside the Service before it.
    expect(Number(/:(\d+) document/.exec(line!)![1])).toBeGreaterThan(head.split('\n').length);
    expect(run.stdout).toMatch(/^1 error, 0 warnings: would not start/m);
  });

  it('exits 1 on a schema violation, naming the document and the field path', async () => {
    const dir = await tempManifestDir();
    const noPort = service({ name: 'api', namespace: 'shop' });
    delete (noPort['spec'] as { ports: Record<string, unknown>[] }).ports[0]!['port'];
    const file = await writeManifest(dir, 'services.yaml', [web, noPort]);
    const run = await check(['--manifests', dir]);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    // FILE:LINE, the line of the list item that lacks the port; the message in the API server's words.
    const m = new RegExp(`^error: ${escape(file)}:(\\d+) document 1: spec\\.ports\\[0\\]\\.port: Required value \\[SWY_ERR_MANIFEST_INVALID\\]$`, 'm').exec(run.stdout);
    expect(m, run.stdout).not.toBeNull();
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines[Number(m![1]) - 1]).toMatch(/^\s*- /);
    expect(lines.lastIndexOf('---')).toBeLessThan(Number(m![1]) - 1); // in the second (last) document
  });

  it('reports every broken file at once, not only the first', async () => {
    const dir = await tempManifestDir();
    const a = await writeManifest(dir, 'a.yaml', 'kind: Service\nmetadata: [x\n');
    const b = await writeManifest(dir, 'b.json', '{"kind": "Service",}');
    const run = await check(['--manifests', dir]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`error: ${a}:`);
    expect(run.stdout).toContain(`error: ${b}:1: invalid JSON`);
    expect(run.stdout).toMatch(/^2 errors, 0 warnings: would not start/m);
  });

  it('warns about an Ingress whose Service is missing, and still passes (exit 0)', async () => {
    const dir = await tempManifestDir();
    const file = await writeManifest(dir, 'app.yaml', [webIngress]);
    const run = await check(['--manifests', dir]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`warning: ${file} document 0: Ingress shop/web: host shop.example.com path / (Prefix) → Service web port 80: no such Service in namespace shop; requests to it get 503`);
    expect(run.stdout).toContain('[INGRESS_BACKEND_SERVICE_MISSING]');
    expect(run.stdout).toMatch(/^0 errors, 1 warning: would start/m);
  });

  it('notes an Ingress of another class', async () => {
    const dir = await tempManifestDir();
    const other: Manifest = { ...webIngress, metadata: { name: 'other', namespace: 'shop' } };
    other['spec'] = { ...(webIngress['spec'] as object), ingressClassName: 'nginx' };
    await writeManifest(dir, 'app.yaml', [web, other]);
    const run = await check(['--manifests', dir]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^note: .* document 1: Ingress shop\/other: not served: .*nginx.* \[INGRESS_CLASS_IGNORED\]$/m);
    // The flag compile reads changes the verdict on the same file: served with --ingress-class nginx.
    const asNginx = await check(['--manifests', dir, '--ingress-class', 'nginx']);
    expect(asNginx.stdout).not.toContain('Ingress shop/other: not served');
  });

  it('reports rules that shadow each other as INGRESS_RULE_CONFLICT', async () => {
    const dir = await tempManifestDir();
    const older = { ...webIngress, metadata: { name: 'a-first', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' } };
    const newer = { ...webIngress, metadata: { name: 'b-second', namespace: 'shop', creationTimestamp: '2026-02-01T00:00:00Z' } };
    await writeManifest(dir, 'app.yaml', [web, older, newer]);
    const run = await check(['--manifests', dir]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^warning: .* document 2: Ingress shop\/b-second: host "shop.example.com" path "\/" .* ignored: already routed by Ingress shop\/a-first \[INGRESS_RULE_CONFLICT\]$/m);
  });

  it('prints JSON with --output json', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'app.yaml', [webIngress]);
    await writeManifest(dir, 'bad.yaml', [{ ...web, spec: { ports: 'eighty' } }]);
    const run = await check(['--manifests', dir, '--output', 'json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; errors: { code: string; file: string; document: number; path: string }[]; diagnostics: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ code: 'SWY_ERR_MANIFEST_INVALID', file: join(dir, 'bad.yaml'), document: 0, path: 'spec.ports' })]);
    const good = await check(['--manifests', join(dir, 'app.yaml'), '--output=json']);
    expect(good.code).toBe(0);
    const ok = JSON.parse(good.stdout) as { ok: boolean; diagnostics: { code: string; kind: string; document: number }[] };
    expect(ok.ok).toBe(true);
    expect(ok.diagnostics).toEqual([expect.objectContaining({ code: 'INGRESS_BACKEND_SERVICE_MISSING', kind: 'Ingress', document: 0 })]);
  });

  it.each([
    ['an unknown flag', ['--manifests', 'examples/demo', '--bogus'], /Unknown option '--bogus'/],
    ['no --manifests', [], /--manifests: at least one PATH is required/],
    ['a bad --output', ['--manifests', 'examples/demo', '--output', 'xml'], /--output: "xml" is not one of text, json/],
    ['a bad proxy flag', ['--manifests', 'examples/demo', '--cluster-domain', 'bad_domain'], /--cluster-domain: /],
    ['--kubeconfig', ['--manifests', 'examples/demo', '--kubeconfig', '/nonexistent/kubeconfig'], /--kubeconfig: switchyard check reads manifest files only/],
    ['--in-cluster', ['--in-cluster'], /--in-cluster: switchyard check reads manifest files only/],
  ])('exits 2 on %s', async (_name, args, message) => {
    const run = await check(args);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('switchyard check --manifests PATH');
  });

  it('checks 10,000 Ingresses (and their Services) in one run', async () => {
    const dir = await tempManifestDir();
    const files = 10;
    const perFile = 1000;
    for (let f = 0; f < files; f++) {
      const docs: Manifest[] = [];
      for (let i = 0; i < perFile; i++) {
        const name = `app-${f}-${i}`;
        docs.push(service({ name, namespace: 'load' }));
        docs.push(ingress({ name, namespace: 'load', rules: [{ host: `${name}.example.com`, paths: [{ path: '/', service: name }] }] }));
      }
      await writeManifest(dir, `apps-${f}.yaml`, docs);
    }
    const started = performance.now();
    const run = await check(['--manifests', dir], 20_000);
    const wallMs = Math.round(performance.now() - started);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^0 errors, 0 warnings: would start \(20000 objects, 10000 routes, \d+ ms\)$/m);
    console.log(`switchyard check, 10,000 Ingresses + 10,000 Services: ${wallMs} ms wall (process included); ${/(\d+) ms\)/.exec(run.stdout)?.[1]} ms load + compile`);
  }, 30_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
