/**
 * Issue 14, item 8: IngressClass by the book. An Ingress is served when spec.ingressClassName names an
 * IngressClass of our controller, or its legacy `kubernetes.io/ingress.class` annotation is --ingress-class;
 * one without a class only when an IngressClass of ours is the default or --watch-ingress-without-class is
 * set; with no IngressClass object at all, as if one named --ingress-class were ours and the default.
 * The rule's table runs through compile() and through the kube source's status write-back, which must
 * agree; then the real CLI with a folder that holds another controller's IngressClass. Also: names the
 * API server would refuse (a Service `9web.v2`) are refused at load with the API's message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { compile } from '../../src/compile/compile.ts';
import { KUBE_RESOURCES } from '../../src/sources/kube-api.ts';
import { KubeRecords } from '../../src/sources/kube-records.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { getJson, rawRequest } from '../helpers/http.ts';
import { ingress as ingressManifest, serviceWithPods, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startPods } from '../helpers/pods.ts';
import type { ConfigView } from '../helpers/reload.ts';
import { runSwitchyard, startSwitchyard } from '../helpers/switchyard.ts';
import { backend, service, storeView, type Obj } from '../unit/support/k8s.ts';

afterEach(cleanupAll);

const OURS = 'switchyard.dev/ingress-controller';
const NGINX = 'k8s.io/ingress-nginx';

interface ClassSpec {
  readonly name: string;
  readonly controller?: string;
  readonly isDefault?: boolean;
}

interface Row {
  readonly classes: readonly ClassSpec[];
  /** spec.ingressClassName and the legacy annotation of the Ingress under test. */
  readonly spec?: string;
  readonly annotation?: string;
  readonly flags?: { readonly ingressClass?: string; readonly ingressControllerName?: string; readonly watchIngressWithoutClass?: boolean };
  /** undefined: served; otherwise a part of the INGRESS_CLASS_IGNORED message. */
  readonly why?: string;
}

const ROWS: Record<string, Row> = {
  'no IngressClass known, no class: served (the implied default)': { classes: [] },
  'no IngressClass known, the --ingress-class name: served': { classes: [], spec: 'switchyard' },
  'no IngressClass known, another name: ignored': { classes: [], spec: 'nginx', why: 'spec.ingressClassName "nginx" is not "switchyard"' },
  'no IngressClass known, legacy annotation of ours: served': { classes: [], annotation: 'switchyard' },
  'no IngressClass known, legacy annotation of another: ignored': { classes: [], annotation: 'nginx', why: 'annotation kubernetes.io/ingress.class "nginx" is not "switchyard"' },
  'no IngressClass known, --ingress-class edge, no class: served': { classes: [], flags: { ingressClass: 'edge' } },
  'no IngressClass known, --ingress-class edge, name switchyard: ignored': { classes: [], spec: 'switchyard', flags: { ingressClass: 'edge' }, why: 'is not "edge"' },
  'a class of ours, named: served': { classes: [{ name: 'sy', controller: OURS }], spec: 'sy' },
  'a class of ours, not default, no class: ignored': { classes: [{ name: 'sy', controller: OURS }], why: 'no ingress class, and no IngressClass of controller "switchyard.dev/ingress-controller" is the default' },
  'a class of ours, default, no class: served': { classes: [{ name: 'sy', controller: OURS, isDefault: true }] },
  'another controller is the default, no class: ignored': { classes: [{ name: 'nginx', controller: NGINX, isDefault: true }], why: 'no ingress class' },
  'another controller only, no class, --watch-ingress-without-class: served': { classes: [{ name: 'nginx', controller: NGINX }], flags: { watchIngressWithoutClass: true } },
  "another controller's class, named: ignored": { classes: [{ name: 'nginx', controller: NGINX }], spec: 'nginx', why: 'IngressClass "nginx" has controller "k8s.io/ingress-nginx", not "switchyard.dev/ingress-controller"' },
  'IngressClasses exist, the --ingress-class name without an object: ignored': { classes: [{ name: 'nginx', controller: NGINX }], spec: 'switchyard', why: 'spec.ingressClassName "switchyard" names no existing IngressClass' },
  'IngressClasses exist, legacy annotation of ours: served': { classes: [{ name: 'nginx', controller: NGINX }], annotation: 'switchyard' },
  "another controller's class named, legacy annotation of ours: served (either suffices)": { classes: [{ name: 'nginx', controller: NGINX }], spec: 'nginx', annotation: 'switchyard' },
  'a class of ours named, legacy annotation of another: served': { classes: [{ name: 'sy', controller: OURS }], spec: 'sy', annotation: 'nginx' },
  'neither serves: both reasons': { classes: [{ name: 'nginx', controller: NGINX }], spec: 'nginx', annotation: 'traefik', why: 'not "switchyard.dev/ingress-controller"; annotation kubernetes.io/ingress.class "traefik" is not "switchyard"' },
  'a class without spec.controller: ignored': { classes: [{ name: 'bare' }], spec: 'bare', why: 'IngressClass "bare" has no spec.controller' },
  'a default class without spec.controller does not make class-less Ingresses ours': { classes: [{ name: 'bare', isDefault: true }], why: 'no ingress class' },
  'a custom --ingress-controller-name: its classes are ours': { classes: [{ name: 'edge', controller: 'example.com/edge' }], spec: 'edge', flags: { ingressControllerName: 'example.com/edge' } },
  'a custom --ingress-controller-name: the default one is not': { classes: [{ name: 'sy', controller: OURS, isDefault: true }], flags: { ingressControllerName: 'example.com/edge' }, why: 'no ingress class' },
};

function classObject(c: ClassSpec): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: c.name, ...(c.isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    ...(c.controller !== undefined ? { spec: { controller: c.controller } } : {}),
  };
}

function ingressObject(row: Row): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'probe', namespace: 'shop', ...(row.annotation !== undefined ? { annotations: { 'kubernetes.io/ingress.class': row.annotation } } : {}) },
    spec: {
      ...(row.spec !== undefined ? { ingressClassName: row.spec } : {}),
      rules: [{ host: 'probe.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('web', 80) }] } }],
    },
  };
}

const flagsOf = (row: Row) => ({ ingressClass: 'switchyard', ...row.flags });

describe('which Ingresses are served (compile)', () => {
  it.each(Object.entries(ROWS))('%s', (_name, row) => {
    const state = compile(storeView([service('web', [{ port: 80 }], { namespace: 'shop' }), ...row.classes.map(classObject), ingressObject(row)]), { clusterDomain: 'cluster.local', ...flagsOf(row) });
    const ignored = state.diagnostics.filter((d) => d.code === 'INGRESS_CLASS_IGNORED');
    if (row.why === undefined) {
      expect(ignored).toEqual([]);
      expect(state.routes.list.map((r) => `${r.host}${r.path} ${r.ingress}`)).toEqual(['probe.example/ shop/probe']);
    } else {
      expect(state.routes.list).toEqual([]);
      expect(ignored.map((d) => [d.severity, d.kind, d.namespace, d.name])).toEqual([['info', 'Ingress', 'shop', 'probe']]);
      expect(ignored[0]!.message).toContain(row.why);
    }
  });
});

describe('which Ingresses get their status written (kube source) agrees with compile', () => {
  it.each(Object.entries(ROWS))('%s', (_name, row) => {
    const records = new KubeRecords(pino({ level: 'silent' }));
    for (const c of row.classes) records.upsert(KUBE_RESOURCES.IngressClass, classObject(c));
    records.upsert(KUBE_RESOURCES.Ingress, ingressObject(row));
    expect(records.rejected()).toEqual([]);
    expect(records.servedIngresses(flagsOf(row)).map((t) => t.name)).toEqual(row.why === undefined ? ['probe'] : []);
  });
});

describe('the real CLI', () => {
  it("a folder with another controller's IngressClass: an Ingress without class gets 404 and a diagnostic saying why; the legacy annotation is still served", async () => {
    const [pod] = await startPods(['web-1'], { hosts: [2] });
    const dir = await tempManifestDir();
    const classless = ingressManifest({ name: 'classless', namespace: 'shop', rules: [{ host: 'open.example', paths: [{ path: '/', service: 'web' }] }] });
    delete (classless['spec'] as Record<string, unknown>)['ingressClassName'];
    const legacy = ingressManifest({ name: 'legacy', namespace: 'shop', rules: [{ host: 'legacy.example', paths: [{ path: '/', service: 'web' }] }] });
    delete (legacy['spec'] as Record<string, unknown>)['ingressClassName'];
    (legacy['metadata'] as Record<string, unknown>)['annotations'] = { 'kubernetes.io/ingress.class': 'switchyard' };
    const nginxClass: Manifest = classObject({ name: 'nginx', controller: NGINX });
    await writeManifest(dir, 'all.yaml', [...serviceWithPods('web', 'shop', [pod!]), nginxClass, classless, legacy]);
    const sy = await startSwitchyard({ manifests: dir });

    const get = (host: string) => rawRequest(sy.ingress, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect((await get('open.example')).status).toBe(404);
    expect(pod!.requests).toHaveLength(0);
    const served = await get('legacy.example');
    expect(served.status).toBe(200);
    expect(pod!.requests).toHaveLength(1);

    const config = await getJson<ConfigView>(sy.admin, '/api/v1/config');
    const ignored = config.body.diagnostics.filter((d) => d.code === 'INGRESS_CLASS_IGNORED');
    expect(ignored.map((d) => [d.severity, d.namespace, d.name])).toEqual([['info', 'shop', 'classless']]);
    expect(ignored[0]!.message).toBe(
      'not served: no ingress class, and no IngressClass of controller "switchyard.dev/ingress-controller" is the default (ingressclass.kubernetes.io/is-default-class: "true") nor is --watch-ingress-without-class set',
    );
  });

  it('a Service named 9web.v2 is refused at start-up with the message of the API server', async () => {
    const dir = await tempManifestDir();
    const bad = service('9web.v2', [{ port: 80 }], { namespace: 'shop' });
    const file = await writeManifest(dir, 'svc.yaml', [bad as Manifest]);
    const run = await runSwitchyard(['--manifests', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(
      `SWY_ERR_MANIFEST_INVALID: ${file}:5 document 0 field metadata.name: Invalid value: "9web.v2": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    );
    expect(run.stdout).not.toMatch(/listening role=ingress/);
  });
});
