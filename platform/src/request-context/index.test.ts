import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging/index.js';
import { type PlatformEnv, REQUEST_ID_HEADER, requestContext, resolveRequestId } from './index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function appWithLog() {
  const lines: string[] = [];
  const app = new Hono<PlatformEnv>();
  app.use('*', requestContext(createLogger({ level: 'info', sink: (line) => lines.push(line) })));
  app.get('/echo', (c) => c.json({ requestId: c.var.requestId }));
  app.get('/raw', () => new Response('raw', { status: 201 }));
  return { app, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('resolveRequestId', () => {
  it.each(['abc', 'trace-1.2:3_x', 'A'.repeat(128)])('keeps an acceptable caller id %s', (id) => {
    expect(resolveRequestId(id)).toBe(id);
  });

  it.each(['', 'has space', 'new\nline', 'A'.repeat(129), '<script>', 'ø'])('replaces %j with a new UUID', (id) => {
    expect(resolveRequestId(id)).toMatch(UUID);
  });

  it('creates a new UUID when the caller sent none', () => {
    expect(resolveRequestId(undefined)).toMatch(UUID);
  });
});

describe('requestContext', () => {
  it('echoes an acceptable X-Request-Id and exposes it to handlers', async () => {
    const { app } = appWithLog();
    const response = await app.request('/echo', { headers: { [REQUEST_ID_HEADER]: 'caller-42' } });
    expect(response.headers.get(REQUEST_ID_HEADER)).toBe('caller-42');
    expect(await response.json()).toEqual({ requestId: 'caller-42' });
  });

  it('answers a new id when the caller id is unacceptable', async () => {
    const { app } = appWithLog();
    const response = await app.request('/echo', { headers: { [REQUEST_ID_HEADER]: 'bad id with spaces' } });
    expect(response.headers.get(REQUEST_ID_HEADER)).toMatch(UUID);
  });

  it('adds the id to responses the handler built itself', async () => {
    const { app } = appWithLog();
    const response = await app.request('/raw', { headers: { [REQUEST_ID_HEADER]: 'raw-1' } });
    expect(response.status).toBe(201);
    expect(response.headers.get(REQUEST_ID_HEADER)).toBe('raw-1');
  });

  it('logs one line per request with method, path, status, ms and request id, but no query or credentials', async () => {
    const { app, records } = appWithLog();
    await app.request('/echo?token=secret-in-query', {
      headers: { [REQUEST_ID_HEADER]: 'log-1', Authorization: 'Bearer abc', Cookie: 'sid=def' },
    });
    const lines = records();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      message: 'request',
      method: 'GET',
      path: '/echo',
      status: 200,
      requestId: 'log-1',
    });
    expect(typeof lines[0]?.ms).toBe('number');
    expect(JSON.stringify(lines)).not.toMatch(/secret-in-query|Bearer abc|sid=def/);
  });
});
