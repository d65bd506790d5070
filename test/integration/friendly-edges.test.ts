/**
 * Issue 18's friendly edges through the real CLI: a --manifests path with no manifests is a warning
 * (the proxy's log, `switchyard check`) and never stops start-up; admin JSON indented for curl, a
 * browser or ?pretty and compact for programs; GET / on the admin port an index for curl.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, request } from '../helpers/http.ts';
import { ingress, service, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { runSwitchyard, startSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const EMPTY = 'no manifests found (no *.yaml, *.yml or *.json file with an object in it)';

describe('a --manifests path with no manifests', () => {
  it('the proxy warns naming the path, starts and is ready, then loads the files added later', async () => {
    const empty = await tempManifestDir();
    await writeFile(join(empty, 'placeholder.yaml'), '# filled by CI\n');
    const full = await tempManifestDir();
    await writeManifest(full, 'web.yaml', [service({ name: 'web', namespace: 'shop' })]);
    const sy = await startSwitchyard({ manifests: [empty, full] });
    const warning = await sy.waitForLog((l) => l.level === 'warn' && l.msg.includes(EMPTY));
    expect(warning).toMatchObject({ path: empty, msg: `--manifests ${empty}: ${EMPTY}; starting anyway; files added to it later are loaded` });
    expect(sy.logs.filter((l) => l.msg.includes(EMPTY))).toHaveLength(1);
    expect((await request(sy.admin, '/readyz')).status).toBe(200);
    const config = JSON.parse((await request(sy.admin, '/api/v1/config')).body) as { sources: { emptyPaths?: string[] }[] };
    expect(config.sources[0]!.emptyPaths).toEqual([empty]);

    await writeManifest(empty, 'app.yaml', [ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'later.example', paths: [{ path: '/', service: 'web' }] }] })]);
    await sy.waitForLog((l) => l.msg === `--manifests ${empty}: holds manifests again`);
    // The route from the file added later is served once the snapshot swaps (no endpoints: 503, not the 404 of no route).
    await waitFor(async () => (await get(sy.ingress, 'later.example', '/')).status === 503 || undefined, { timeoutMs: 5000, what: 'the route added later' });
  });

  it('switchyard check prints it as a warning and passes (exit 0), in text and JSON', async () => {
    const empty = await tempManifestDir();
    const text = await runSwitchyard(['check', '--manifests', empty]);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toContain(`warning: ${empty}: ${EMPTY}; starting anyway; files added to it later are loaded [MANIFEST_PATH_EMPTY]`);
    expect(text.stdout).toMatch(/^0 errors, 1 warning: would start \(0 objects, 0 routes/m);
    const json = await runSwitchyard(['check', '--output', 'json', '--manifests', empty]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, errors: [], warnings: [{ severity: 'warning', code: 'MANIFEST_PATH_EMPTY', file: empty }] });
  });

  it('a path that does not exist is still an error, not an empty path', async () => {
    const dir = await tempManifestDir();
    const run = await runSwitchyard(['check', '--manifests', join(dir, 'nope')]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain(EMPTY);
  });
});

describe('the admin API for a person', () => {
  it('indents JSON for curl and ?pretty, keeps it compact for programs, and answers curl at / with an index', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'web.yaml', [service({ name: 'web', namespace: 'shop' })]);
    const sy = await startSwitchyard({ manifests: dir });
    const curl = { 'user-agent': 'curl/8.5.0', accept: '*/*' };

    const program = await request(sy.admin, '/api/v1/services');
    const person = await request(sy.admin, '/api/v1/services', { headers: curl });
    const asked = await request(sy.admin, '/api/v1/services?pretty');
    const browser = await request(sy.admin, '/api/v1/services', { headers: { accept: 'text/html,*/*;q=0.8' } });
    const optOut = await request(sy.admin, '/api/v1/services?pretty=0', { headers: curl });
    expect(program.body.split('\n')).toHaveLength(1);
    expect(optOut.body).toBe(program.body);
    for (const res of [person, asked, browser]) {
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toMatch(/^\{\n {2}"version": \d+,\n {2}"services": \[\n/);
      expect(JSON.parse(res.body)).toEqual(JSON.parse(program.body));
    }

    // /metrics is the Prometheus text format whoever asks.
    const metrics = await request(sy.admin, '/metrics?pretty', { headers: curl });
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toMatch(/^# HELP /m);

    const index = await request(sy.admin, '/', { headers: curl });
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(index.body).toMatch(/^ {2}GET \/api\/v1\/config +/m);
    const page = await request(sy.admin, '/', { headers: { accept: 'text/html' } });
    expect([page.status, page.headers.location]).toEqual([302, '/ui/']);
  });
});
