import { createRoute, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/index.js';
import { createApi } from './index.js';
import { jsonDepth, unstorableFields } from './json-limits.js';

/** A small API with one JSON route and one route that streams its body, as Storage's data uploads do. */
function testApi() {
  const api = createApi({
    prefix: '/test/api/v1',
    title: 'test',
    version: '1',
    logger: silentLogger,
    json: { maxBytes: 1024, maxDepth: 8, streamsBody: (_method, path) => path.endsWith('/raw') },
  });
  const echo = createRoute({
    method: 'post',
    path: '/echo',
    request: { body: { content: { 'application/json': { schema: z.object({ name: z.string() }).passthrough() } } } },
    responses: { 200: { description: 'echo' } },
  });
  api.openapi(echo, (c) => c.json(c.req.valid('json'), 200));
  api.post('/raw', async (c) => c.text(String((await new Response(c.req.raw.body).arrayBuffer()).byteLength)));
  return api;
}

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  testApi().request(`/test/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('JSON body limits of every API', () => {
  it('answers a body within the limits as the route does', async () => {
    const response = await post('/echo', JSON.stringify({ name: 'ok', nested: [[{ a: 1 }]] }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'ok', nested: [[{ a: 1 }]] });
  });

  it('answers 413 problem+json past the size, by Content-Length and while reading a chunked body', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(2000) });
    const declared = await post('/echo', big);
    expect(declared.status).toBe(413);
    expect(declared.headers.get('content-type')).toBe('application/problem+json');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await testApi().request('/test/api/v1/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { type: string }).type).toMatch(/payload-too-large$/);
  });

  it('answers 400 for a body nested past the depth, without parsing it (50,000 levels)', async () => {
    const deep = `{"name":"x","d":${'['.repeat(50_000)}${']'.repeat(50_000)}}`;
    const response = await testApi().request('/test/api/v1/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: deep.slice(0, 1000),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/nested deeper than 8 levels/);
    expect(jsonDepth(deep)).toBe(50_001);
    expect(jsonDepth('{"a":"[[[[{{{{"}')).toBe(1);
  });

  it('answers 400 naming each field with NUL or an unpaired surrogate, in values and member names', async () => {
    const response = await post('/echo', '{"name":"a\\u0000b","list":["ok","\\ud800"],"k\\u0000":1}');
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field)).toEqual(['name', 'list[1]', 'k\u0000']);
    // An escaped backslash before u0000 is plain text, and a paired surrogate is a real character.
    expect((await post('/echo', '{"name":"\\\\u0000 and \\ud83d\\ude00"}')).status).toBe(200);
    expect(unstorableFields({ a: ['\ud83d\ude00'] })).toEqual([]);
  });

  it('leaves bodies a route streams itself alone, however large', async () => {
    const body = JSON.stringify({ name: 'y'.repeat(5000) });
    const response = await post('/raw', body);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(String(body.length));
  });
});
