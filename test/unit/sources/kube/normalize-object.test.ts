/** normalizeObject: the manifests' validation path for one object from the API server. */
import { describe, expect, it } from 'vitest';
import { parseManifest, normalizeObject } from '../../../../src/sources/normalize.ts';

const ORIGIN = { source: 'kubernetes' };
const service = (spec: unknown) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec });

describe('normalizeObject', () => {
  it('yields the same record as a manifest file, with its own origin', () => {
    const raw = service({ ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    const fromApi = normalizeObject(raw, ORIGIN, 'Service shop/web');
    const fromFile = parseManifest(JSON.stringify(raw), 'web.json', 'manifests');
    expect(fromApi.error).toBeUndefined();
    expect(fromApi.record).toEqual({ ...fromFile.records[0], origin: ORIGIN });
  });

  it('accepts a Date creationTimestamp (as the client deserialises list items)', () => {
    const raw = { ...service({}), metadata: { name: 'web', namespace: 'shop', creationTimestamp: new Date('2025-01-02T03:04:05Z') } };
    expect(normalizeObject(raw, ORIGIN, 'Service shop/web').record?.meta.creationTimestamp).toBe('2025-01-02T03:04:05.000Z');
  });

  it.each([
    ['a bad field', service({ ports: [{ port: 70000 }] }), 'Service shop/web field spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ['a rule of Kubernetes validation', service({ ports: [{ port: 80 }, { port: 81 }] }), 'Service shop/web field spec.ports[0].name: Required value: a Service with more than one port names each of them'],
    ['a wrong apiVersion', { ...service({}), apiVersion: 'v2' }, 'Service shop/web field apiVersion: Unsupported value: "v2": supported values: "v1"'],
    ['no kind', { apiVersion: 'v1', metadata: { name: 'x' } }, 'Service shop/web field kind: Required value'],
    ['not an object', 'text', 'Service shop/web field (document): Invalid value: "text": must be a Kubernetes object'],
  ])('rejects %s, naming the object and the field', (_name, raw, message) => {
    const r = normalizeObject(raw, ORIGIN, 'Service shop/web');
    expect(r.record).toBeUndefined();
    expect(r.error?.code).toBe('SWY_ERR_MANIFEST_INVALID');
    expect(r.error?.message.startsWith(message), r.error?.message).toBe(true);
    expect(r.error?.location?.file).toBe('Service shop/web');
  });

  it('skips a kind it does not read', () => {
    expect(normalizeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, ORIGIN, 'ConfigMap x')).toEqual({ skipped: 'ConfigMap' });
  });
});
