import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/index.js';
import { createApi } from './index.js';

function partyApi() {
  const app = createApi({ prefix: '/register/api/v1', title: 'Register', version: '1.2.3', logger: silentLogger });
  const route = createRoute({
    method: 'post',
    path: '/parties/{partyId}',
    request: {
      params: z.object({ partyId: z.coerce.number().int().positive() }),
      query: z.strictObject({ include: z.enum(['roles', 'none']).optional() }),
      body: {
        content: {
          'application/json': {
            schema: z.strictObject({ name: z.string().min(1), orgNumber: z.string().regex(/^\d{9}$/) }),
          },
        },
      },
    },
    responses: {
      201: { description: 'Created', content: { 'application/json': { schema: z.object({ id: z.number() }) } } },
    },
  });
  app.openapi(route, (c) => c.json({ id: c.req.valid('param').partyId }, 201));
  return app;
}

const post = (path: string, body: unknown) =>
  partyApi().request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('createApi', () => {
  it('serves valid requests under its prefix', async () => {
    const response = await post('/register/api/v1/parties/5', { name: 'Digdir', orgNumber: '991825827' });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ id: 5 });
  });

  it('describes itself as OpenAPI 3.1 at {prefix}/openapi.json with its routes under the prefix', async () => {
    const response = await partyApi().request('/register/api/v1/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { openapi: string; info: object; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual({ title: 'Register', version: '1.2.3' });
    expect(Object.keys(doc.paths)).toEqual(['/register/api/v1/parties/{partyId}']);
  });

  it('answers 400 problem+json naming each invalid body field, unknown fields included', async () => {
    const response = await post('/register/api/v1/parties/5', { name: '', orgNumber: '12', isAdmin: true });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const body = (await response.json()) as { type: string; detail: string; errors: { field: string }[] };
    expect(body.type).toBe('urn:altinn-platform:problem:validation');
    expect(body.errors.map((e) => e.field).sort()).toEqual(['isAdmin', 'name', 'orgNumber']);
    expect(body.detail).toMatch(/^Invalid body: /);
    expect(body.detail).toContain('isAdmin (unknown field)');
    expect(body.detail).toContain('orgNumber (');
  });

  it('answers 400 naming a bad path parameter', async () => {
    const response = await post('/register/api/v1/parties/-1', { name: 'x', orgNumber: '991825827' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { field: string }[] };
    expect(body.errors.map((e) => e.field)).toEqual(['path.partyId']);
  });

  it('answers 400 naming an unknown query parameter', async () => {
    const response = await post('/register/api/v1/parties/5?colour=red', { name: 'x', orgNumber: '991825827' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { field: string; detail: string }[] };
    expect(body.errors).toEqual([{ field: 'query.colour', detail: 'unknown field' }]);
  });

  it('answers 400 problem+json for malformed JSON instead of a 500', async () => {
    const response = await partyApi().request('/register/api/v1/parties/5', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'urn:altinn-platform:problem:bad-request', status: 400 });
  });

  it('answers 404 problem+json with a request id for unknown paths under the prefix', async () => {
    const response = await partyApi().request('/register/api/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(await response.json()).toMatchObject({ status: 404, instance: '/register/api/v1/nothing-here' });
  });

  it('refuses a prefix that is not a path', () => {
    expect(() => createApi({ prefix: 'storage', title: 't', version: '1', logger: silentLogger })).toThrow(/prefix/);
    expect(() => createApi({ prefix: '/storage/', title: 't', version: '1', logger: silentLogger })).toThrow(/prefix/);
  });
});
