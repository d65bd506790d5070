/**
 * The access log (issue #15 item 2) through the real CLI, in one process and with worker processes:
 * one line per request with the route, upstream, retries and request id; out within ~1 s while the
 * proxy runs; none lost on SIGTERM/SIGINT; a new file after logrotate's rename + SIGUSR1; `off`
 * writes none; stdout (the default) shares the pipe with pino's lines without splitting any; the
 * combined format parses as nginx's; an unusable path fails start-up with a coded error.
 */
import { mkdtemp, readFile, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { h2connect, h2request } from '../helpers/h2-server.ts';
import { get, rawRequest, request } from '../helpers/http.ts';
import { endpointSlice, ingress, podEndpoints, service, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type Pod } from '../helpers/pods.ts';
import { runSwitchyard, startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

type Line = Record<string, unknown>;

async function fileLines(path: string): Promise<string[]> {
  if (!existsSync(path)) return [];
  return (await readFile(path, 'utf8')).split('\n').filter(Boolean);
}
const jsonLines = async (path: string): Promise<Line[]> => (await fileLines(path)).map((l) => JSON.parse(l) as Line);

/** One echo pod behind shop/web for log.example; `dead` adds an endpoint nobody listens on (retried). */
async function setup(args: readonly string[], options: { dead?: boolean } = {}): Promise<{ sy: RunningSwitchyard; pod: Pod; path: string }> {
  const [pod] = await startPods(['web-1']);
  const dir = await tempManifestDir();
  const endpoints = [...podEndpoints([pod!]), ...(options.dead ? [{ ip: '127.0.0.9' }] : [])];
  await writeManifest(dir, 'web.yaml', [
    service({ name: 'web', namespace: 'shop' }),
    endpointSlice({ service: 'web', namespace: 'shop', port: pod!.port, endpoints }),
    ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'log.example', paths: [{ path: '/', service: 'web' }] }] }),
  ]);
  const path = join(await mkdtemp(join(tmpdir(), 'swy-alog-it-')), 'access.log');
  const sy = await startSwitchyard({ manifests: dir, args: [...args.map((a) => a.replace('$PATH', path))] });
  return { sy, pod: pod!, path };
}

describe.each([1, 2])('--access-log PATH with --workers %i', (workers) => {
  const w = ['--workers', String(workers)];

  it('one line per request with its fields, out within ~1.5 s while running; a 404 has no route; none lost on SIGTERM', async () => {
    const { sy, pod, path } = await setup([...w, '--access-log', '$PATH']);
    const N = 12;
    const answers = [];
    for (let i = 0; i < N; i++) answers.push(await request(sy.ingress, `/item/${i}?q=${i}`, { host: 'log.example', method: i === 0 ? 'POST' : 'GET', body: i === 0 ? 'hello' : undefined, headers: { 'user-agent': `it-agent/${i}` } }));
    expect(answers.map((a) => a.status)).toEqual(Array(N).fill(200));
    const answered = performance.now();
    const lines = await waitFor(async () => ((await fileLines(path)).length >= N ? jsonLines(path) : undefined), { timeoutMs: 3000, intervalMs: 25, what: `${N} access lines` });
    expect(performance.now() - answered).toBeLessThan(1500);
    expect(lines).toHaveLength(N);
    const byId = new Map(lines.map((l) => [l['requestId'], l]));
    for (let i = 0; i < N; i++) {
      const id = answers[i]!.headers['x-request-id'];
      expect(typeof id).toBe('string');
      const line = byId.get(id);
      expect(line, `line for request ${i}`).toMatchObject({
        listener: 'ingress',
        clientAddress: '127.0.0.1',
        method: i === 0 ? 'POST' : 'GET',
        scheme: 'http',
        host: 'log.example',
        path: `/item/${i}?q=${i}`,
        protocol: 'http/1.1',
        status: 200,
        finished: true,
        bytesReceived: i === 0 ? 5 : 0,
        bytesSent: Buffer.byteLength(answers[i]!.body),
        upstream: `${pod.host}:${pod.port}`,
        upstreamStatus: 200,
        retries: 0,
        namespace: 'shop',
        ingress: 'web',
        service: 'web',
        error: '',
        userAgent: `it-agent/${i}`,
      });
      expect(line!['clientPort']).toEqual(expect.any(Number));
      expect(line!['durationMs']).toEqual(expect.any(Number));
      expect(line!['upstreamMs'] as number).toBeLessThanOrEqual(line!['durationMs'] as number);
      expect(Math.abs(Date.parse(line!['time'] as string) - Date.now())).toBeLessThan(60_000);
    }

    // An unknown host: Switchyard's own 404, no route labels, no upstream.
    const miss = await get(sy.ingress, 'unknown.example', '/x');
    expect(miss.status).toBe(404);
    // HTTP/2 (h2c, prior knowledge) logs its protocol.
    const session = await h2connect(`http://${sy.ingress.host}:${sy.ingress.port}`);
    const h2 = await h2request(session, { ':path': '/h2', ':authority': 'log.example' });
    session.close();
    expect(h2.status).toBe(200);
    // Stopped within the flush interval of those last lines: they are written on the way out.
    expect((await sy.stop('SIGTERM')).code).toBe(0);
    const all = await jsonLines(path);
    expect(all).toHaveLength(N + 2);
    expect(all.find((l) => l['host'] === 'unknown.example')).toMatchObject({ status: 404, namespace: '', ingress: '', service: '', upstream: '', upstreamStatus: 0, upstreamMs: null, requestId: miss.headers['x-request-id'] });
    expect(all.find((l) => l['path'] === '/h2')).toMatchObject({ protocol: 'h2', status: 200, service: 'web' });
  });

  it('a request refused before routing (two Host fields) gets a line too: its status, its reason, the client, no route', async () => {
    const { sy, path } = await setup([...w, '--access-log', '$PATH']);
    const res = await rawRequest(sy.ingress, 'GET / HTTP/1.1\r\nHost: log.example\r\nHost: other.example\r\n\r\n');
    expect(res.status).toBe(400);
    const [line] = await waitFor(async () => ((await fileLines(path)).length >= 1 ? jsonLines(path) : undefined), { timeoutMs: 3000, intervalMs: 25, what: 'the refused request\'s line' });
    expect(line).toMatchObject({ listener: 'ingress', clientAddress: '127.0.0.1', status: 400, error: 'duplicate-host', method: '', path: '', upstream: '', namespace: '', ingress: '', service: '' });
    expect(line!['clientPort']).toBeGreaterThan(0);
    // The same keys, in the same order, as an answered request's line: one schema for log pipelines.
    expect((await request(sy.ingress, '/', { host: 'log.example' })).status).toBe(200);
    const both = await waitFor(async () => ((await fileLines(path)).length >= 2 ? jsonLines(path) : undefined), { timeoutMs: 3000, intervalMs: 25, what: 'two lines' });
    expect(Object.keys(both[0]!)).toEqual(Object.keys(both[1]!));
  });

  it('a dead endpoint: the retried request logs its retry and the endpoint that answered', async () => {
    const { sy, pod, path } = await setup([...w, '--access-log', '$PATH'], { dead: true });
    const N = 6;
    for (let i = 0; i < N; i++) expect((await get(sy.ingress, 'log.example', `/r${i}`)).status).toBe(200);
    await sy.stop('SIGINT');
    const lines = await jsonLines(path);
    expect(lines).toHaveLength(N);
    for (const l of lines) expect(l).toMatchObject({ status: 200, upstream: `${pod.host}:${pod.port}`, upstreamStatus: 200 });
    expect(lines.filter((l) => (l['retries'] as number) >= 1).length).toBeGreaterThanOrEqual(1);
  });

  it('SIGINT right after a burst loses no line', async () => {
    const { sy, path } = await setup([...w, '--access-log', '$PATH']);
    const N = 200;
    for (let i = 0; i < N; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => get(sy.ingress, 'log.example', `/b${i + j}`)));
    expect((await sy.stop('SIGINT')).code).toBe(0);
    const lines = await jsonLines(path);
    expect(lines).toHaveLength(N);
    expect(new Set(lines.map((l) => l['path'])).size).toBe(N);
  });

  it('logrotate: after a rename and SIGUSR1 new lines go to a new file at PATH', async () => {
    const { sy, path } = await setup([...w, '--access-log', '$PATH']);
    for (let i = 0; i < 3; i++) await get(sy.ingress, 'log.example', `/old${i}`);
    await waitFor(async () => (await fileLines(path)).length === 3, { timeoutMs: 3000, what: 'the first 3 lines' });
    await rename(path, `${path}.1`);
    process.kill(sy.pid, 'SIGUSR1');
    // Every data-plane process says when its file is open again.
    await waitFor(() => sy.logs.filter((l) => l.msg === 'access log reopened').length === workers, { timeoutMs: 3000, what: `${workers} reopen lines` });
    for (let i = 0; i < 4; i++) await get(sy.ingress, 'log.example', `/new${i}`);
    await sy.stop('SIGTERM');
    // Sorted: with workers, lines of different processes need not arrive in request order.
    expect((await jsonLines(`${path}.1`)).map((l) => l['path']).sort()).toEqual(['/old0', '/old1', '/old2']);
    expect((await jsonLines(path)).map((l) => l['path']).sort()).toEqual(['/new0', '/new1', '/new2', '/new3']);
    expect(sy.stderr()).toBe('');
  });

  it('an access log whose directory does not exist: exit 1 with the coded error naming the path', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'web.yaml', [...serviceWithPods('web', 'shop', await startPods(['p']))]);
    const bad = join(tmpdir(), 'swy-no-such-dir', 'sub', 'access.log');
    const run = await runSwitchyard(['--manifests', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...w, '--access-log', bad]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('SWY_ERR_ACCESS_LOG_OPEN_FAILED');
    expect(run.stderr).toContain(bad);
    expect(run.stderr).not.toMatch(/\n\s+at /); // a coded error, not a stack trace
  });
});

describe('access log destinations and formats', () => {
  it('--http1-server node: a refused request gets its line as well', async () => {
    const { sy, path } = await setup(['--http1-server', 'node', '--access-log', '$PATH']);
    const res = await rawRequest(sy.ingress, 'GET / HTTP/1.1\r\nHost: log.example\r\nHost: other.example\r\n\r\n');
    expect(res.status).toBe(400);
    const [line] = await waitFor(async () => ((await fileLines(path)).length >= 1 ? jsonLines(path) : undefined), { timeoutMs: 3000, intervalMs: 25, what: 'the refused request\'s line' });
    expect(line).toMatchObject({ listener: 'ingress', status: 400, error: 'duplicate-host', clientAddress: '127.0.0.1' });
  });

  it('stdout (the default): JSON lines beside pino lines, none split, even with workers writing at once', async () => {
    const { sy } = await setup(['--workers', '2']);
    const N = 300;
    for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => get(sy.ingress, 'log.example', `/s${i + j}?pad=${'x'.repeat(200)}`)));
    await sy.stop('SIGTERM');
    // The helper parses every stdout line: one that was split would not be JSON.
    expect(sy.logs.filter((l) => l.level === '')).toEqual([]);
    expect(sy.accessLines).toHaveLength(N);
    expect(new Set(sy.accessLines.map((l) => l['path'])).size).toBe(N);
    // Ordinary log lines say their level as a word.
    expect(sy.logs.find((l) => l.msg === 'stopped')).toMatchObject({ level: 'info' });
  });

  it('off: no line anywhere', async () => {
    const { sy, path } = await setup(['--access-log', 'off']);
    for (let i = 0; i < 5; i++) expect((await get(sy.ingress, 'log.example', `/o${i}`)).status).toBe(200);
    await sy.stop('SIGTERM');
    expect(sy.accessLines).toEqual([]);
    expect(sy.logs.filter((l) => l.level === '')).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });

  it('combined: nginx lines, the client-sent quote escaped', async () => {
    const { sy, path } = await setup(['--access-log', '$PATH', '--access-log-format', 'combined']);
    await get(sy.ingress, 'log.example', '/c?a=1', { 'user-agent': 'say "hi"', referer: 'http://ref.example/' });
    await get(sy.ingress, 'nobody.example', '/');
    await sy.stop('SIGTERM');
    const lines = await fileLines(path);
    expect(lines).toHaveLength(2);
    const COMBINED = /^(\S+) - - \[(\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;
    const [ok, miss] = lines.map((l) => COMBINED.exec(l));
    expect(ok?.slice(1)).toEqual(['127.0.0.1', expect.any(String), 'GET /c?a=1 HTTP/1.1', '200', expect.stringMatching(/^[1-9]\d*$/), 'http://ref.example/', 'say \\x22hi\\x22']);
    expect(miss?.slice(3)).toEqual(['GET / HTTP/1.1', '404', expect.any(String), '-', '-']);
  });
});
