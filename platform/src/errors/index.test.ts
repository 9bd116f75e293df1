import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../logging/index.js';
import { type PlatformEnv, requestContext } from '../request-context/index.js';
import { fieldErrors, handleError, handleNotFound, Problem } from './index.js';

function app() {
  const lines: string[] = [];
  const hono = new Hono<PlatformEnv>();
  hono.use('*', requestContext(createLogger({ level: 'info', sink: (line) => lines.push(line) })));
  hono.onError(handleError);
  hono.notFound(handleNotFound);
  hono.get('/locked', () => {
    throw new Problem(409, { kind: 'data-element-locked', detail: 'The data element is locked.' });
  });
  hono.get('/limited', () => {
    throw new Problem(429, { kind: 'rate-limited', detail: 'Slow down.', headers: { 'Retry-After': '3' } });
  });
  hono.get('/hono', () => {
    throw new HTTPException(401, { res: new Response(null, { headers: { 'WWW-Authenticate': 'Bearer' } }) });
  });
  hono.get('/crash', () => {
    throw new Error('connection string AccountKey=topsecret leaked');
  });
  return { hono, logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const headers = { 'X-Request-Id': 'req-1' };

describe('handleError', () => {
  it('answers a thrown Problem as application/problem+json with type URN, title, status, detail, instance and request id', async () => {
    const response = await app().hono.request('/locked', { headers });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toEqual({
      type: 'urn:altinn-platform:problem:data-element-locked',
      title: 'Conflict',
      status: 409,
      detail: 'The data element is locked.',
      instance: '/locked',
      requestId: 'req-1',
    });
    expect(response.headers.get('x-request-id')).toBe('req-1');
  });

  it("keeps a Problem's extra headers such as Retry-After", async () => {
    const response = await app().hono.request('/limited');
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
  });

  it("turns hono's own HTTPException into a problem of the same status, keeping its headers", async () => {
    const response = await app().hono.request('/hono');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.json()).toMatchObject({ type: 'urn:altinn-platform:problem:unauthorized', status: 401 });
  });

  it('answers an unexpected error 500 without internals and logs its detail with the request id', async () => {
    const { hono, logs } = app();
    const response = await hono.request('/crash', { headers });
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body).toMatchObject({ type: 'urn:altinn-platform:problem:internal', status: 500, requestId: 'req-1' });
    expect(JSON.stringify(body)).not.toMatch(/topsecret|AccountKey|stack|Error:/);
    const logged = logs().find((line) => line.message === 'unhandled error');
    expect(logged).toMatchObject({ level: 'error', requestId: 'req-1', path: '/crash' });
    expect(JSON.stringify(logged)).toContain('AccountKey=topsecret');
  });
});

describe('handleNotFound', () => {
  it('answers unknown paths 404 problem+json naming method and path', async () => {
    const response = await app().hono.request('/nowhere', { method: 'DELETE', headers });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({
      type: 'urn:altinn-platform:problem:not-found',
      detail: 'No resource at DELETE /nowhere.',
      instance: '/nowhere',
      requestId: 'req-1',
    });
  });
});

describe('fieldErrors', () => {
  const schema = z.strictObject({
    name: z.string(),
    items: z.array(z.strictObject({ id: z.number() })),
  });

  it('names nested and array fields, and each unknown field separately', () => {
    const result = schema.safeParse({ items: [{ id: 'x', colour: 'red' }], extra: 1, more: 2 });
    expect(result.success).toBe(false);
    const errors = fieldErrors((result as { error: z.ZodError }).error, 'json');
    expect(errors.map((e) => e.field).sort()).toEqual(['extra', 'items[0].colour', 'items[0].id', 'more', 'name']);
    expect(errors.find((e) => e.field === 'extra')?.detail).toBe('unknown field');
  });

  it('prefixes query and path parameters with where they came from', () => {
    const result = z.object({ page: z.coerce.number() }).safeParse({ page: 'two' });
    expect(fieldErrors((result as { error: z.ZodError }).error, 'query')[0]?.field).toBe('query.page');
    expect(fieldErrors((result as { error: z.ZodError }).error, 'param')[0]?.field).toBe('path.page');
  });
});
