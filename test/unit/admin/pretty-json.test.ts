/**
 * Admin JSON indented for a person (?pretty, a browser, curl), compact for programs; GET / answering a
 * browser with the dashboard and anything else with a plain-text index of the endpoints.
 */
import { describe, expect, it } from 'vitest';
import { testAdmin } from './admin-fixture.ts';
import { ADMIN_ENDPOINTS, adminIndexText } from '../../../src/admin/admin-index.ts';
import { wantsPrettyJson } from '../../../src/admin/pretty-json.ts';

const admin = () =>
  testAdmin({
    startedAt: '2026-01-01T00:00:00.000Z',
    explain: () => ({ ok: false, error: { code: 'SWY_ERR_EXPLAIN_BAD_URL', input: 'url', value: 'x', message: 'bad' } }),
  });

const CURL = 'curl/8.5.0';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('wantsPrettyJson', () => {
  it.each([
    ['?pretty with no value', { pretty: '' }, {}, true],
    ['?pretty=1', { pretty: '1' }, {}, true],
    ['?pretty=true', { pretty: 'true' }, {}, true],
    ['?pretty=yes', { pretty: 'yes' }, {}, true],
    ['?pretty=0 from curl', { pretty: '0' }, { 'user-agent': CURL }, false],
    ['?pretty=false from a browser', { pretty: 'false' }, { accept: BROWSER_ACCEPT }, false],
    ['?pretty=NO', { pretty: 'NO' }, {}, false],
    ['?pretty given twice, the last one 0', { pretty: ['', '0'] }, {}, false],
    ['?pretty given twice, the last one empty', { pretty: ['0', ''] }, {}, true],
    ['curl', {}, { 'user-agent': CURL, accept: '*/*' }, true],
    ['wget', {}, { 'user-agent': 'Wget/1.21.4' }, true],
    ['HTTPie', {}, { 'user-agent': 'HTTPie/3.2.2', accept: 'application/json, */*;q=0.5' }, true],
    ['a browser opening the URL', {}, { accept: BROWSER_ACCEPT, 'user-agent': 'Mozilla/5.0' }, true],
    ['the dashboard fetch()', {}, { accept: 'application/json', 'user-agent': 'Mozilla/5.0' }, false],
    ['a library sending */*', {}, { accept: '*/*', 'user-agent': 'python-requests/2.31' }, false],
    ['Node fetch', {}, { accept: '*/*', 'user-agent': 'node' }, false],
    ['no headers at all', {}, {}, false],
    ['curl named later in the User-Agent', {}, { 'user-agent': 'my-script (like curl/8)' }, false],
    ['no query object', undefined, {}, false],
  ])('%s → %s', (_name, query, headers, pretty) => {
    expect(wantsPrettyJson(query, headers)).toBe(pretty);
  });
});

describe('admin JSON views', () => {
  const views = ['/api/v1/config', '/api/v1/routes', '/api/v1/services', '/api/v1/endpoints', '/api/v1/certificates', '/api/v1/workers', '/api/v1/tunnels', '/api/v1/stats', '/api/v1/dns?name=web.default.svc.cluster.local'];

  it.each(views)('%s: compact for a program, indented with ?pretty and for curl, the same data', async (url) => {
    const app = admin();
    const join = url.includes('?') ? '&' : '?';
    const compact = await app.inject({ method: 'GET', url, headers: { accept: '*/*', 'user-agent': 'node' } });
    const asked = await app.inject({ method: 'GET', url: `${url}${join}pretty` });
    const curl = await app.inject({ method: 'GET', url, headers: { 'user-agent': CURL, accept: '*/*' } });
    const curlCompact = await app.inject({ method: 'GET', url: `${url}${join}pretty=0`, headers: { 'user-agent': CURL } });
    for (const res of [compact, asked, curl, curlCompact]) {
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['vary']).toBe('Accept, User-Agent');
    }
    expect(compact.body).not.toContain('\n');
    expect(curlCompact.body).not.toContain('\n');
    expect(asked.body).toMatch(/^\{\n {2}"/);
    expect(asked.body.endsWith('}\n')).toBe(true);
    expect(curl.body).toMatch(/^\{\n {2}"/);
    // /api/v1/stats carries the time of the request: compare the shape of everything else.
    const data = (body: string) => ({ ...JSON.parse(body), at: 0 });
    expect(data(asked.body)).toEqual(data(compact.body));
  });

  it('error answers of a view are indented too', async () => {
    const res = await admin().inject({ method: 'GET', url: '/api/v1/dns?pretty', headers: {} });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/^\{\n {2}"error": "SWY_ERR_ADMIN_BAD_QUERY",/);
    const explain = await admin().inject({ method: 'GET', url: '/api/v1/explain?url=x', headers: { 'user-agent': CURL } });
    expect(explain.statusCode).toBe(400);
    expect(explain.body).toContain('\n  "input": "url"');
  });

  it.each([
    ['/healthz', '{"status":"ok"}'],
    ['/readyz', '{"status":"ready"}'],
  ])('%s keeps its compact answer, whoever asks', async (url, body) => {
    const res = await admin().inject({ method: 'GET', url: `${url}?pretty`, headers: { 'user-agent': CURL } });
    expect(res.body).toBe(body);
  });

  it('/metrics and the dashboard assets are untouched by ?pretty and curl', async () => {
    const app = admin();
    const plain = await app.inject({ method: 'GET', url: '/metrics' });
    const asked = await app.inject({ method: 'GET', url: '/metrics?pretty', headers: { 'user-agent': CURL } });
    expect(asked.headers['content-type']).toBe(plain.headers['content-type']);
    expect(asked.headers['vary']).toBeUndefined();
    expect(asked.body.split('\n').filter((l) => l.startsWith('#')).length).toBe(plain.body.split('\n').filter((l) => l.startsWith('#')).length);
    const js = await app.inject({ method: 'GET', url: '/ui/app.js?pretty', headers: { 'user-agent': CURL } });
    const jsPlain = await app.inject({ method: 'GET', url: '/ui/app.js' });
    expect(js.body).toBe(jsPlain.body);
  });

  it('an unknown /api/v1 path is still a 404', async () => {
    const res = await admin().inject({ method: 'GET', url: '/api/v1/nope?pretty' });
    expect(res.statusCode).toBe(404);
  });
});

describe('GET / on the admin port', () => {
  it('sends a browser to the dashboard', async () => {
    const res = await admin().inject({ method: 'GET', url: '/', headers: { accept: BROWSER_ACCEPT } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/ui/');
    expect(res.headers['vary']).toBe('Accept');
  });

  it.each([
    ['curl', { accept: '*/*', 'user-agent': CURL }],
    ['a client sending no Accept', {}],
    ['a client asking for JSON', { accept: 'application/json' }],
  ])('answers %s with a plain-text index of the endpoints', async (_name, headers) => {
    const res = await admin().inject({ method: 'GET', url: '/', headers });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe(adminIndexText());
    expect(res.body).toMatch(/^ {2}GET \/api\/v1\/routes +the route table/m);
  });

  it('lists every GET route the admin app has, and each one it lists exists', async () => {
    const app = admin();
    await app.ready();
    const listed = new Set(ADMIN_ENDPOINTS.map(([path]) => path.replace(/\?.*$/, '')));
    // printRoutes draws a tree whose nodes are path pieces, four columns per level: join them back.
    const routes: string[] = [];
    const pieces: string[] = [];
    for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^([│ ├└─]*)(\S+)(?: \(([^)]*)\))?/.exec(line);
      if (!m || m[2] === undefined) continue;
      const depth = m[1]!.length / 4;
      pieces.length = depth;
      pieces.push(m[2]);
      if (m[3]?.includes('GET')) routes.push(pieces.join(''));
    }
    expect(routes).toContain('/api/v1/routes');
    // The dashboard's own files and the two redirects are reached from /ui/; / is the index itself.
    const unlisted = routes.filter((r) => !listed.has(r) && r !== '/' && r !== '/ui' && !/^\/ui\/./.test(r));
    expect(unlisted).toEqual([]);
    for (const path of listed) expect(routes, path).toContain(path);
  });
});
