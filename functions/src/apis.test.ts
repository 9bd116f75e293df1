import { describe, expect, it } from 'vitest';
import { type ApiEntry, apiDefinitions, azureRouteOf, dispatchApis } from './apis.js';

const answering = (name: string, prefix: string): ApiEntry => ({
  name,
  prefix,
  app: { fetch: (request) => new Response(`${name} ${new URL(request.url).pathname}`) },
});

describe('API registry', () => {
  it('gives every API a unique name and a unique prefix', () => {
    const names = apiDefinitions.map((api) => api.name);
    const prefixes = apiDefinitions.map((api) => api.prefix);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it('registers the root API as a catch-all and prefixed APIs as catch-alls below their prefix', () => {
    expect(azureRouteOf({ prefix: '' })).toBe('{*path}');
    expect(azureRouteOf({ prefix: '/storage/api/v1' })).toBe('storage/api/v1/{*path}');
  });
});

describe('dispatchApis', () => {
  const dispatch = dispatchApis([
    answering('root', ''),
    answering('storage', '/storage/api/v1'),
    answering('storage-admin', '/storage/api/v1/admin'),
  ]);
  const served = async (path: string) => (await dispatch(new Request(`http://host${path}`))).text();

  it('sends a request to the API with the longest matching prefix', async () => {
    expect(await served('/storage/api/v1/instances')).toBe('storage /storage/api/v1/instances');
    expect(await served('/storage/api/v1/admin/x')).toBe('storage-admin /storage/api/v1/admin/x');
    expect(await served('/storage/api/v1')).toBe('storage /storage/api/v1');
  });

  it('does not treat a longer path segment as being under a prefix', async () => {
    expect(await served('/storage/api/v10/instances')).toBe('root /storage/api/v10/instances');
  });

  it('falls back to the root API for everything else', async () => {
    expect(await served('/health')).toBe('root /health');
  });
});
