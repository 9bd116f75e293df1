import { createHash, randomBytes } from 'node:crypto';
import fx from '@azure/functions';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { azureHandler, parseSetCookie } from './index.js';

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');

let releaseSecondChunk: () => void = () => {};

const app = new Hono();
app.all('/echo', async (c) =>
  c.json({
    method: c.req.method,
    path: c.req.path,
    tags: c.req.queries('tag') ?? [],
    q: c.req.query('q') ?? null,
    multi: c.req.header('x-multi') ?? null,
    requestId: c.req.header('x-request-id') ?? null,
    body: ['GET', 'HEAD'].includes(c.req.method) ? null : await c.req.text(),
  }),
);
app.post('/md5', async (c) => {
  const hash = createHash('md5');
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of c.req.raw.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
    chunks += 1;
  }
  return c.json({ md5: hash.digest('hex'), bytes, chunks });
});
app.get('/stream', () => {
  const second = new Promise<void>((resolve) => {
    releaseSecondChunk = resolve;
  });
  let step = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      step += 1;
      if (step === 1) return controller.enqueue(new TextEncoder().encode('first;'));
      if (step === 2) {
        await second;
        return controller.enqueue(new TextEncoder().encode('second;'));
      }
      controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/plain' } });
});
app.get('/cookies', (c) => {
  c.header('Set-Cookie', 'session=abc%20def; Path=/; HttpOnly; Secure; SameSite=Lax', { append: true });
  c.header('Set-Cookie', 'theme=dark; Max-Age=3600; Domain=example.no; Expires=Wed, 21 Oct 2037 07:28:00 GMT', {
    append: true,
  });
  return c.text('ok', 202);
});
app.get('/status/:code', (c) => c.body(null, Number(c.req.param('code')) as 204));

const handler = azureHandler(app);
const context = () => new fx.InvocationContext({ invocationId: 'b5a0c1d2-0000-4000-8000-000000000001' });
const url = (path: string) => `http://localhost:7071${path}`;

async function call(request: fx.HttpRequest): Promise<fx.HttpResponse> {
  return new fx.HttpResponse((await handler(request, context())) as fx.HttpResponseInit);
}

/** An HttpRequest whose body streams, built the way the Functions host builds it with enableHttpStream. */
function streamedRequest(path: string, body: ReadableStream<Uint8Array>, headers?: Headers): fx.HttpRequest {
  const nativeRequest = new Request(url(path), { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
  return new fx.HttpRequest({ nativeRequest } as unknown as fx.HttpRequestInit);
}

describe('azureHandler', () => {
  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])(
    'passes method %s and its body through',
    async (method) => {
      const body = ['GET'].includes(method) ? undefined : { string: `payload for ${method}` };
      const response = await call(new fx.HttpRequest({ url: url('/echo'), method, ...(body ? { body } : {}) }));
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ method, path: '/echo', body: body ? body.string : null });
    },
  );

  it('answers HEAD with the GET headers and no body', async () => {
    const response = await call(new fx.HttpRequest({ url: url('/echo'), method: 'HEAD' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.text()).toBe('');
  });

  it('keeps the query string, repeated keys and encoded values included', async () => {
    const response = await call(new fx.HttpRequest({ url: url('/echo?tag=a&tag=b&q=x%20y%26z'), method: 'GET' }));
    expect(await response.json()).toMatchObject({ tags: ['a', 'b'], q: 'x y&z' });
  });

  it('keeps every value of a multi-valued request header', async () => {
    const headers = new Headers();
    headers.append('x-multi', 'one');
    headers.append('x-multi', 'two');
    const response = await call(streamedRequest('/echo', new Blob(['b']).stream(), headers));
    expect(await response.json()).toMatchObject({ multi: 'one, two' });
  });

  it('uses the invocation id as X-Request-Id when the caller sent none, and keeps a caller id', async () => {
    const own = await call(new fx.HttpRequest({ url: url('/echo'), method: 'GET' }));
    expect(await own.json()).toMatchObject({ requestId: 'b5a0c1d2-0000-4000-8000-000000000001' });
    const callers = await call(
      new fx.HttpRequest({ url: url('/echo'), method: 'GET', headers: { 'x-request-id': 'c-1' } }),
    );
    expect(await callers.json()).toMatchObject({ requestId: 'c-1' });
  });

  it('streams a several-MB request body to the app intact, in many chunks', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 7);
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= data.length) return controller.close();
        controller.enqueue(data.subarray(offset, offset + 65536));
        offset += 65536;
      },
    });
    const response = await call(streamedRequest('/md5', body));
    const result = (await response.json()) as { md5: string; bytes: number; chunks: number };
    expect(result).toMatchObject({ md5: md5(data), bytes: data.length });
    expect(result.chunks).toBeGreaterThan(1);
  });

  it('streams the response body chunk by chunk instead of buffering it', async () => {
    const response = await call(new fx.HttpRequest({ url: url('/stream'), method: 'GET' }));
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    // The app only produces its second chunk after the first one has reached us; a buffering adapter would hang here.
    expect(decoder.decode((await reader.read()).value)).toBe('first;');
    releaseSecondChunk();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    expect(rest).toBe('second;');
  });

  it('keeps the status code, including bodiless 204', async () => {
    expect((await call(new fx.HttpRequest({ url: url('/status/204'), method: 'GET' }))).status).toBe(204);
    expect((await call(new fx.HttpRequest({ url: url('/nowhere'), method: 'GET' }))).status).toBe(404);
  });

  it('turns several Set-Cookie headers into Azure cookies, none lost', async () => {
    const init = (await handler(
      new fx.HttpRequest({ url: url('/cookies'), method: 'GET' }),
      context(),
    )) as fx.HttpResponseInit;
    expect(init.status).toBe(202);
    expect(new Headers(init.headers as Headers).has('set-cookie')).toBe(false);
    expect(new fx.HttpResponse(init).cookies).toEqual([
      { name: 'session', value: 'abc def', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' },
      { name: 'theme', value: 'dark', maxAge: 3600, domain: 'example.no', expires: new Date('2037-10-21T07:28:00Z') },
    ]);
  });

  it('answers 503 problem+json and retries later when the app fails to start', async () => {
    let attempts = 0;
    const failing = azureHandler(async () => {
      attempts += 1;
      throw new Error('database unreachable');
    });
    const first = new fx.HttpResponse(
      (await failing(new fx.HttpRequest({ url: url('/health'), method: 'GET' }), context())) as fx.HttpResponseInit,
    );
    expect(first.status).toBe(503);
    expect(first.headers.get('content-type')).toBe('application/problem+json');
    expect(await first.text()).not.toContain('database unreachable');
    await failing(new fx.HttpRequest({ url: url('/health'), method: 'GET' }), context());
    expect(attempts).toBe(2);
  });
});

describe('parseSetCookie', () => {
  it('keeps = inside a value and ignores unknown attributes', () => {
    expect(parseSetCookie('token=a=b==; Partitioned; Priority=High')).toEqual({ name: 'token', value: 'a=b==' });
  });

  it('drops an unparseable Expires and a non-numeric Max-Age instead of passing them on', () => {
    expect(parseSetCookie('a=1; Expires=soon; Max-Age=never; SameSite=None')).toEqual({
      name: 'a',
      value: '1',
      sameSite: 'None',
    });
  });
});
