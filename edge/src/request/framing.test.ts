import { SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, routeOrg, upstreamHits } from '../../test/helpers';

// What the Worker can see of an ambiguously framed request (workerd's HTTP/1.1 parser has already
// taken it apart): both Content-Length and Transfer-Encoding, a transfer coding other than chunked,
// or a Content-Length that is not one number. Each is refused before it reaches an app or the admin API.

beforeAll(async () => {
  await routeOrg('smuggle');
});

async function send(path: string, headers: Record<string, string>, marker: string): Promise<Response> {
  return SELF.fetch(`https://edge.test${path}`, {
    method: 'POST',
    headers: { ...headers, 'x-test-marker': marker },
    body: '0\r\n\r\n',
  });
}

describe('request framing', () => {
  it('refuses a request with both Content-Length and Transfer-Encoding with 400, without reaching the app', async () => {
    const marker = `clte-${crypto.randomUUID()}`;
    const res = await send('/smuggle/app/', { 'content-length': '5', 'transfer-encoding': 'chunked' }, marker);
    const problem = await expectProblem(res, 400);
    expect(problem.type).toBe('urn:altinn-platform:problem:malformed-request');
    expect(problem.detail).toContain('Content-Length and Transfer-Encoding');
    expect(await upstreamHits(marker)).toBe(0);
  });

  it('refuses a transfer coding other than chunked, and a Content-Length that is not one number', async () => {
    for (const headers of <Record<string, string>[]>[
      { 'transfer-encoding': 'chunked, identity' },
      { 'transfer-encoding': 'xchunked' },
      { 'content-length': '5, 5' },
    ]) {
      const marker = `te-${crypto.randomUUID()}`;
      const problem = await expectProblem(await send('/smuggle/app/', headers, marker), 400);
      expect(problem.type).toBe('urn:altinn-platform:problem:malformed-request');
      expect(await upstreamHits(marker)).toBe(0);
    }
  });

  it('refuses it on the admin and egress paths too', async () => {
    for (const path of ['/_edge/routes/smuggle', '/_egress/https/api.example.no/']) {
      const res = await send(path, { 'content-length': '5', 'transfer-encoding': 'chunked' }, 'admin');
      expect((await expectProblem(res, 400)).type).toBe('urn:altinn-platform:problem:malformed-request');
    }
  });

  it('passes a plain chunked body and a plain Content-Length body', async () => {
    for (const headers of <Record<string, string>[]>[{ 'transfer-encoding': 'chunked' }, { 'content-length': '5' }]) {
      const res = await send('/smuggle/app/', headers, `ok-${crypto.randomUUID()}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { bodyBytes: number }).bodyBytes).toBe(5);
    }
  });
});
