/** Kubeconfig and in-cluster settings: what loads, and every way they fail with SWY_ERR_KUBE_CONFIG. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../../../src/errors.ts';
import { loadKubeConnection, SERVICE_ACCOUNT_DIR, type KubeConnectOptions } from '../../../../src/sources/kube-config.ts';
import { KubeSource } from '../../../../src/sources/kube-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'swy-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string): string {
  const path = join(dir, `config-${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

const CLUSTER = (name: string, extra = '') => `- name: ${name}\n  cluster:\n    server: https://10.0.0.1:6443\n${extra}`;
const USER = (name: string) => `- name: ${name}\n  user:\n    token: abc\n`;
const CONTEXT = (name: string, cluster: string, user: string) => `- name: ${name}\n  context:\n    cluster: ${cluster}\n    user: ${user}\n`;
const KUBECONFIG = (opts: { current?: string; clusters?: string; users?: string; contexts?: string } = {}) =>
  [
    'apiVersion: v1',
    'kind: Config',
    `clusters:\n${opts.clusters ?? CLUSTER('prod') + CLUSTER('dev')}`,
    `users:\n${opts.users ?? USER('admin')}`,
    `contexts:\n${opts.contexts ?? CONTEXT('prod', 'prod', 'admin') + CONTEXT('dev', 'dev', 'admin')}`,
    opts.current === undefined ? 'current-context: prod' : opts.current,
    '',
  ].join('\n');

function failure(options: KubeConnectOptions): Error {
  try {
    loadKubeConnection(options);
  } catch (err) {
    expect(hasCode(err, 'SWY_ERR_KUBE_CONFIG'), String(err)).toBe(true);
    return err as Error;
  }
  throw new Error('expected SWY_ERR_KUBE_CONFIG');
}

describe('kubeconfig', () => {
  it('uses the current context', () => {
    const path = file(KUBECONFIG());
    const c = loadKubeConnection({ kubeconfigPath: path });
    expect(c).toMatchObject({ server: 'https://10.0.0.1:6443', context: 'prod', description: `kubeconfig ${path} context "prod"` });
  });

  it('uses an explicit context over the current one', () => {
    const path = file(KUBECONFIG({ clusters: CLUSTER('prod') + '- name: dev\n  cluster:\n    server: https://dev.example:443\n' }));
    expect(loadKubeConnection({ kubeconfigPath: path, context: 'dev' })).toMatchObject({ server: 'https://dev.example:443', context: 'dev' });
  });

  it('falls back to the first $KUBECONFIG entry', () => {
    const path = file(KUBECONFIG());
    expect(loadKubeConnection({ env: { KUBECONFIG: `${path}:/nonexistent` } }).context).toBe('prod');
  });

  it('resolves a relative certificate-authority path against the kubeconfig directory', () => {
    mkdirSync(join(dir, 'certs'), { recursive: true });
    writeFileSync(join(dir, 'certs', 'ca.crt'), 'CA');
    const path = file(KUBECONFIG({ clusters: CLUSTER('prod', '    certificate-authority: certs/ca.crt\n') }));
    expect(loadKubeConnection({ kubeconfigPath: path }).config.getCurrentCluster()?.caFile).toBe(join(dir, 'certs', 'ca.crt'));
  });

  it.each([
    ['a missing file', () => ({ kubeconfigPath: join(dir, 'nope.yaml') }), /kubeconfig .*nope\.yaml: cannot read: no such file/],
    ['invalid YAML', () => ({ kubeconfigPath: file('clusters: [unclosed\n') }), /config-\d+\.yaml: not a valid kubeconfig/],
    ['a cluster without a server', () => ({ kubeconfigPath: file(KUBECONFIG({ clusters: '- name: prod\n  cluster: {}\n' })) }), /clusters\[0\]\.cluster\.server is missing/],
    ['an unknown context', () => ({ kubeconfigPath: file(KUBECONFIG()), context: 'staging' }), /context "staging" not found \(available: prod, dev\)/],
    ['no current-context', () => ({ kubeconfigPath: file(KUBECONFIG({ current: '' })) }), /no current-context is set; choose one with --context \(available: prod, dev\)/],
    ['a context naming a missing cluster', () => ({ kubeconfigPath: file(KUBECONFIG({ contexts: CONTEXT('prod', 'gone', 'admin') })) }), /context "prod": cluster "gone" not found/],
    ['a context naming a missing user', () => ({ kubeconfigPath: file(KUBECONFIG({ contexts: CONTEXT('prod', 'prod', 'nobody') })) }), /context "prod": user "nobody" not found/],
    ['plain HTTP without insecure-skip-tls-verify', () => ({ kubeconfigPath: file(KUBECONFIG({ clusters: '- name: prod\n  cluster:\n    server: http://127.0.0.1:8080\n' })) }), /plain HTTP, which needs insecure-skip-tls-verify: true/],
    ['a bad server URL', () => ({ kubeconfigPath: file(KUBECONFIG({ clusters: '- name: prod\n  cluster:\n    server: "not a url"\n' })) }), /invalid server URL "not a url"/],
    ['an unreadable certificate-authority', () => ({ kubeconfigPath: file(KUBECONFIG({ clusters: CLUSTER('prod', '    certificate-authority: missing-ca.crt\n') })) }), /cannot read certificate-authority .*missing-ca\.crt/],
  ])('rejects %s', (_name, options, message) => {
    expect(failure(options()).message).toMatch(message);
  });
});

describe('in-cluster', () => {
  const root = join(dir, 'pod');
  mkdirSync(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
  writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'token'), 'sa-token');
  writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'ca.crt'), 'CA');
  const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

  it('reads the service account and the service environment', () => {
    const c = loadKubeConnection({ inCluster: true, serviceAccountRoot: root, env });
    expect(c).toMatchObject({ server: 'https://10.96.0.1:443', description: 'in-cluster service account' });
    expect(c.config.getCurrentCluster()?.caFile).toBe(`${root}${SERVICE_ACCOUNT_DIR}/ca.crt`);
  });

  it('brackets an IPv6 service host', () => {
    expect(loadKubeConnection({ inCluster: true, serviceAccountRoot: root, env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' } }).server).toBe('https://[fd00::1]:443');
  });

  it('fails outside a pod', () => {
    expect(failure({ inCluster: true, serviceAccountRoot: root, env: {} }).message).toMatch(/KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set/);
  });

  it('fails without a mounted token', () => {
    expect(failure({ inCluster: true, serviceAccountRoot: join(dir, 'no-pod'), env }).message).toMatch(/cannot read the service account's token at .*no-pod\/var\/run\/secrets/);
  });
});

describe('KubeSource.start()', () => {
  it('rejects with the coded kubeconfig error before any request', async () => {
    const source = new KubeSource({ kubeconfigPath: file(KUBECONFIG()), context: 'missing', log: pino({ level: 'silent' }) });
    const err = await source.start().then(() => undefined, (e: unknown) => e);
    expect(hasCode(err, 'SWY_ERR_KUBE_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/context "missing" not found/);
    expect(source.status()).toMatchObject({ state: 'starting', server: undefined, resources: [] });
    source.close();
  });
});
