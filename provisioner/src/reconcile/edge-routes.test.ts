import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../providers/types.js';
import { edgeRoutesClient } from './edge-routes.js';

/** A loopback server that records what the client sent and answers as told. */
let server: Server;
let base: string;
const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
let answer: { status: number; headers?: Record<string, string> } = { status: 200 };

async function bodyOf(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization,
      body: await bodyOf(req),
    });
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
  answer = { status: 200 };
});

describe('edge routes client', () => {
  it('puts the org with listedAppsOnly and lists apps, with the admin bearer token', async () => {
    const edge = edgeRoutesClient({ baseUrl: base, token: 'edge-admin-token-123' });
    await edge.putOrg('ttd', 'http://127.0.0.1:9000');
    await edge.putApp('ttd', 'forms');
    expect(seen).toEqual([
      {
        method: 'PUT',
        url: '/_edge/routes/ttd',
        auth: 'Bearer edge-admin-token-123',
        body: JSON.stringify({ clusterBase: 'http://127.0.0.1:9000', listedAppsOnly: true }),
      },
      { method: 'PUT', url: '/_edge/routes/ttd/forms', auth: 'Bearer edge-admin-token-123', body: '{}' },
    ]);
  });

  it('takes a 404 on delete as done', async () => {
    answer = { status: 404 };
    const edge = edgeRoutesClient({ baseUrl: base, token: 't'.repeat(16) });
    await expect(edge.deleteApp('ttd', 'forms')).resolves.toBeUndefined();
    await expect(edge.deleteOrg('ttd')).resolves.toBeUndefined();
  });

  it('makes 429 and 5xx retryable (with Retry-After) and other refusals final', async () => {
    const edge = edgeRoutesClient({ baseUrl: base, token: 't'.repeat(16) });
    answer = { status: 429, headers: { 'retry-after': '7' } };
    const throttled = await edge.putApp('ttd', 'forms').catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ProviderError);
    expect(throttled).toMatchObject({ code: 'EdgeUnavailable', retryable: true, retryAfterMs: 7000 });
    answer = { status: 401 };
    expect(await edge.putApp('ttd', 'forms').catch((e: unknown) => e)).toMatchObject({
      code: 'EdgeRejected',
      retryable: false,
    });
  });

  it('makes an edge that does not answer retryable', async () => {
    const edge = edgeRoutesClient({ baseUrl: 'http://127.0.0.1:1', token: 't'.repeat(16) });
    expect(await edge.putOrg('ttd', 'http://x.test').catch((e: unknown) => e)).toMatchObject({
      code: 'EdgeUnavailable',
      retryable: true,
    });
  });
});
