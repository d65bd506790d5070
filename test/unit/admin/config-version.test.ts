/**
 * The version Switchyard reports on the admin port: /api/v1/config and switchyard_build_info both say
 * package.json's version and the Node.js running it (as `switchyard --version` does).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { testAdmin } from './admin-fixture.ts';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const admin = () => testAdmin();

describe('the version on the admin port', () => {
  it('GET /api/v1/config has version (package.json) and nodeVersion', async () => {
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    const res = await admin().inject({ method: 'GET', url: '/api/v1/config' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: PACKAGE_VERSION, nodeVersion: process.version });
  });

  it('switchyard_build_info carries the same version', async () => {
    const res = await admin().inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`switchyard_build_info{version="${PACKAGE_VERSION}",node_version="${process.version}"} 1`);
  });
});
