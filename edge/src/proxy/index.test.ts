import { env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { admin, expectProblem, routeOrg, upstreamBase, upstreamHits } from '../../test/helpers';
import type { Received } from '../../test/upstream';

const EDGE = 'https://edge.test';

async function received(res: Response): Promise<Received> {
  expect(res.status).toBe(200);
  return (await res.json()) as Received;
}

/** All values the upstream saw for `name`. */
function seen(r: Received, name: string): string[] {
  return r.headers.filter(([k]) => k === name).map(([, v]) => v);
}

beforeAll(async () => {
  await routeOrg('ttd');
});

describe('proxy: routing', () => {
  it('forwards /{org}/{app}/... to {clusterBase}/{org}/{app}/... with method, path and query intact', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/frontend-test/api/v1/data?a=1&a=2&b=%20x`, {
      method: 'PATCH',
      body: 'x',
    });
    const r = await received(res);
    expect(r.method).toBe('PATCH');
    expect(r.url).toBe('/ttd/frontend-test/api/v1/data?a=1&a=2&b=%20x');
    expect(res.headers.get('x-upstream')).toBe('yes');
  });

  it('forwards the bare app path without a trailing slash', async () => {
    const r = await received(await SELF.fetch(`${EDGE}/ttd/bare`));
    expect(r.url).toBe('/ttd/bare');
  });

  it('keeps the path prefix of a cluster base URL', async () => {
    await routeOrg('prefixed', `${upstreamBase()}/ingress/v2/`);
    const r = await received(await SELF.fetch(`${EDGE}/prefixed/app/x`));
    expect(r.url).toBe('/ingress/v2/prefixed/app/x');
  });

  it('sends a pinned app to its own cluster instead of the org cluster', async () => {
    await routeOrg('pinorg', `http://127.0.0.1:${inject('deadPort')}`);
    await admin('PUT', '/routes/pinorg/pinned', { clusterBase: `${upstreamBase()}/pinned-cluster` });
    const r = await received(await SELF.fetch(`${EDGE}/pinorg/pinned/`));
    expect(r.url).toBe('/pinned-cluster/pinorg/pinned/');
    await expectProblem(await SELF.fetch(`${EDGE}/pinorg/other/`), 502);
  });

  it('passes redirects through to the client instead of following them', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=redirect`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/elsewhere');
  });

  it('passes upstream error statuses and null-body statuses through unchanged', async () => {
    for (const code of [404, 500, 503]) {
      const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=status&code=${code}`);
      expect(res.status).toBe(code);
      expect(await res.text()).toBe(`status ${code}`);
    }
    const noContent = await SELF.fetch(`${EDGE}/ttd/app/?mode=status&code=204`);
    expect(noContent.status).toBe(204);
    expect(await noContent.text()).toBe('');
  });

  it('answers HEAD with the upstream status and headers and no body', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(await res.text()).toBe('');
  });
});

describe('proxy: request headers (RFC 9110)', () => {
  it('strips hop-by-hop fields, including those named in Connection', async () => {
    const r = await received(
      await SELF.fetch(`${EDGE}/ttd/app/`, {
        headers: {
          connection: 'keep-alive, x-private-hop, X-Other-Hop',
          'x-private-hop': 'must not pass',
          'x-other-hop': 'must not pass',
          'keep-alive': 'timeout=5',
          'proxy-connection': 'keep-alive',
          'proxy-authorization': 'Basic c2VjcmV0',
          te: 'trailers',
          trailer: 'x-checksum',
          upgrade: 'websocket',
          'x-end-to-end': 'kept',
        },
      }),
    );
    for (const name of [
      'x-private-hop',
      'x-other-hop',
      'keep-alive',
      'proxy-connection',
      'proxy-authorization',
      'te',
      'trailer',
      'upgrade',
    ]) {
      expect(seen(r, name), name).toEqual([]);
    }
    expect(seen(r, 'x-end-to-end')).toEqual(['kept']);
  });

  it('strips every field a malformed Connection names instead of failing with 500', async () => {
    for (const connection of ['x-private-hop x-other-hop', 'close, x(odd, x-private-hop;q=1, X-Other-Hop']) {
      const res = await SELF.fetch(`${EDGE}/ttd/app/`, {
        headers: { connection, 'x-private-hop': 'must not pass', 'x-other-hop': 'must not pass', 'x-end': 'kept' },
      });
      const r = await received(res);
      expect(seen(r, 'x-private-hop'), connection).toEqual([]);
      expect(seen(r, 'x-other-hop'), connection).toEqual([]);
      expect(seen(r, 'x-end')).toEqual(['kept']);
    }
  });

  it('adds Via with the edge pseudonym after any Via the client sent', async () => {
    const plain = await received(await SELF.fetch(`${EDGE}/ttd/app/`));
    expect(seen(plain, 'via')).toEqual(['1.1 altinn-edge']);
    const chained = await received(await SELF.fetch(`${EDGE}/ttd/app/`, { headers: { via: '1.1 corporate-proxy' } }));
    expect(seen(chained, 'via')).toEqual(['1.1 corporate-proxy, 1.1 altinn-edge']);
  });

  it('answers 508 to a Via loop and never reaches the upstream', async () => {
    const vias = ['1.1 altinn-edge', '1.0 proxy-a, 1.1 ALTINN-EDGE (Cloudflare)', 'HTTP/1.1 altinn-edge'];
    for (const [i, via] of vias.entries()) {
      const marker = `loop-${i}-${crypto.randomUUID()}`;
      const res = await SELF.fetch(`${EDGE}/ttd/app/`, { headers: { via, 'x-test-marker': marker } });
      const problem = await expectProblem(res, 508);
      expect(problem.type).toBe('urn:altinn-platform:problem:proxy-loop');
      expect(await upstreamHits(marker)).toBe(0);
    }
    // The counter does count what gets through.
    const marker = `control-${crypto.randomUUID()}`;
    expect((await SELF.fetch(`${EDGE}/ttd/app/`, { headers: { 'x-test-marker': marker } })).status).toBe(200);
    expect(await upstreamHits(marker)).toBe(1);
  });

  it('sets X-Forwarded-For and Forwarded from CF-Connecting-IP, never from client-sent values', async () => {
    const r = await received(
      await SELF.fetch(`${EDGE}/ttd/app/`, {
        headers: {
          'cf-connecting-ip': '203.0.113.7',
          'x-forwarded-for': '10.0.0.1, 127.0.0.1',
          forwarded: 'for=10.0.0.1;proto=http',
          'x-forwarded-proto': 'gopher',
          'x-forwarded-host': 'evil.example',
          'x-forwarded-port': '1',
          'x-real-ip': '10.0.0.2',
          'true-client-ip': '10.0.0.3',
        },
      }),
    );
    expect(seen(r, 'x-forwarded-for')).toEqual(['203.0.113.7']);
    expect(seen(r, 'forwarded')).toEqual(['for=203.0.113.7;host=edge.test;proto=https']);
    expect(seen(r, 'x-forwarded-proto')).toEqual(['https']);
    expect(seen(r, 'x-forwarded-host')).toEqual(['edge.test']);
    for (const name of ['x-forwarded-port', 'x-real-ip', 'true-client-ip', 'cf-connecting-ip']) {
      expect(seen(r, name), name).toEqual([]);
    }
  });

  it('quotes an IPv6 client in Forwarded', async () => {
    const r = await received(
      await SELF.fetch(`http://edge.test/ttd/app/`, { headers: { 'cf-connecting-ip': '2001:db8::7' } }),
    );
    expect(seen(r, 'forwarded')).toEqual(['for="[2001:db8::7]";host=edge.test;proto=http']);
    expect(seen(r, 'x-forwarded-for')).toEqual(['2001:db8::7']);
    expect(seen(r, 'x-forwarded-proto')).toEqual(['http']);
  });

  it('drops a forged X-Forwarded-For even when the client IP is unknown', async () => {
    const r = await received(await SELF.fetch(`${EDGE}/ttd/app/`, { headers: { 'x-forwarded-for': '198.51.100.66' } }));
    expect(seen(r, 'x-forwarded-for')).toEqual([]);
    expect(seen(r, 'forwarded')).toEqual(['for=unknown;host=edge.test;proto=https']);
  });

  it('sends the cluster host as Host and keeps multi-valued and end-to-end fields', async () => {
    const headers = new Headers();
    headers.append('accept', 'text/html');
    headers.append('accept', 'application/json');
    headers.set('authorization', 'Bearer app-token');
    headers.set('cookie', 'AltinnStudioRuntime=abc');
    const r = await received(await SELF.fetch(`${EDGE}/ttd/app/`, { headers }));
    expect(seen(r, 'host')).toEqual([`127.0.0.1:${inject('upstreamPort')}`]);
    expect(seen(r, 'accept')).toEqual(['text/html, application/json']);
    expect(seen(r, 'authorization')).toEqual(['Bearer app-token']);
    expect(seen(r, 'cookie')).toEqual(['AltinnStudioRuntime=abc']);
  });

  it('forwards a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await SELF.fetch(`${EDGE}/ttd/app/`, { headers: { 'x-request-id': 'abc-123' } });
    expect(seen(await received(kept), 'x-request-id')).toEqual(['abc-123']);
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await SELF.fetch(`${EDGE}/ttd/app/`, { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = replaced.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen(await received(replaced), 'x-request-id')).toEqual([id]);
  });
});

describe('proxy: response headers', () => {
  it('strips hop-by-hop fields from the response, keeps Set-Cookie fields apart and appends Via', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=hop`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream-private')).toBeNull();
    expect(res.headers.get('keep-alive')).toBeNull();
    expect(res.headers.get('proxy-authenticate')).toBeNull();
    expect(res.headers.get('x-kept')).toBe('yes');
    expect(res.headers.getAll('set-cookie')).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(res.headers.get('via')).toBe('1.1 ingress, 1.1 altinn-edge');
  });
});

describe('proxy: bodies', () => {
  it('streams a large request body to the upstream intact, with its Content-Length', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 31) % 251;
    const md5 = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('MD5', bytes))));
    const r = await received(
      await SELF.fetch(`${EDGE}/ttd/app/upload`, {
        method: 'POST',
        body: bytes,
        headers: { 'content-type': 'application/octet-stream' },
      }),
    );
    expect(r.bodyBytes).toBe(size);
    expect(r.bodyMd5).toBe(md5);
    expect(seen(r, 'content-length')).toEqual([String(size)]);
  });

  it('streams a request body of unknown length', async () => {
    const chunks = ['alpha-', 'beta-', 'gamma'];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const r = await received(await SELF.fetch(`${EDGE}/ttd/app/upload`, { method: 'PUT', body: stream }));
    expect(r.bodyBytes).toBe('alpha-beta-gamma'.length);
  });

  it('streams the response: the first chunk arrives before the upstream has finished', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=stream&chunks=4&interval=150`);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('chunk 0\n');
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('chunk 1\nchunk 2\nchunk 3\n');
  });
});

describe('proxy: content coding and length', () => {
  it('keeps the Content-Length of a fixed-length response', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=sized`);
    expect(res.headers.get('content-length')).toBe('11');
    expect(await res.text()).toBe('hello world');
  });

  it('passes a gzip-coded response through so that the client decodes the original bytes', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=gzip`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('compressible '.repeat(500));
  });

  it('forwards Accept-Encoding so that an identity-only client gets identity', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=gzip`, { headers: { 'accept-encoding': 'identity' } });
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(await res.text()).toBe('compressible '.repeat(500));
  });
});

describe('proxy: errors as problem+json', () => {
  it('answers 404 for an unknown org', async () => {
    const problem = await expectProblem(await SELF.fetch(`${EDGE}/nosuchorg/app/`), 404);
    expect(problem.type).toBe('urn:altinn-platform:problem:route-not-found');
    expect(problem.instance).toBe('/nosuchorg/app/');
    expect(problem.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 for an app its org does not list when the org routes listed apps only', async () => {
    expect((await admin('PUT', '/routes/strict', { clusterBase: upstreamBase(), listedAppsOnly: true })).status).toBe(
      201,
    );
    await admin('PUT', '/routes/strict/known', {});
    expect((await SELF.fetch(`${EDGE}/strict/known/`)).status).toBe(200);
    const problem = await expectProblem(await SELF.fetch(`${EDGE}/strict/unknown/`), 404);
    expect(problem.detail).toContain('No app unknown');
  });

  it('answers 404 for paths that are not DNS-1123 org/app names, and for the root', async () => {
    await expectProblem(await SELF.fetch(`${EDGE}/TTD/app/`), 404);
    await expectProblem(await SELF.fetch(`${EDGE}/ttd/app_x/`), 404);
    await expectProblem(await SELF.fetch(`${EDGE}/ttd`), 404);
    await expectProblem(await SELF.fetch(`${EDGE}/`), 404);
  });

  it('answers 503 with Retry-After for a disabled app, without reaching the upstream', async () => {
    await admin('PUT', '/routes/ttd/closed', { disabled: true, retryAfterSeconds: 120 });
    const marker = `disabled-${crypto.randomUUID()}`;
    const res = await SELF.fetch(`${EDGE}/ttd/closed/`, { headers: { 'x-test-marker': marker } });
    const problem = await expectProblem(res, 503);
    expect(problem.type).toBe('urn:altinn-platform:problem:app-disabled');
    expect(res.headers.get('retry-after')).toBe('120');
    expect(await upstreamHits(marker)).toBe(0);

    await admin('PUT', '/routes/ttd/closed2', { disabled: true });
    const byDefault = await SELF.fetch(`${EDGE}/ttd/closed2/`);
    await expectProblem(byDefault, 503);
    expect(byDefault.headers.get('retry-after')).toBe('300');
  });

  it('answers 504 when the upstream sends no headers within UPSTREAM_TIMEOUT_MS', async () => {
    const problem = await expectProblem(await SELF.fetch(`${EDGE}/ttd/app/?mode=slow&ms=3000`), 504);
    expect(problem.type).toBe('urn:altinn-platform:problem:upstream-timeout');
    expect(problem.detail).toContain('400 ms');
  });

  it('does not time out a response whose headers came in time but whose body streams longer', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=stream&chunks=4&interval=200`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\n');
  });

  it('starts the timeout when the upload is complete: a slow upload longer than the timeout succeeds', async () => {
    let sent = 0;
    const slowBody = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 5) return controller.close();
        await new Promise((r) => setTimeout(r, 150));
        controller.enqueue(new TextEncoder().encode(`part ${sent};`));
        sent += 1;
      },
    });
    // 5 x 150 ms = 750 ms of upload against an UPSTREAM_TIMEOUT_MS of 400 ms.
    const r = await received(await SELF.fetch(`${EDGE}/ttd/app/upload`, { method: 'POST', body: slowBody }));
    expect(r.bodyBytes).toBe('part 0;'.length * 5);
  });

  it('answers 504 when the upload is complete and the upstream then sends no headers in time', async () => {
    const res = await SELF.fetch(`${EDGE}/ttd/app/?mode=slow&ms=3000`, { method: 'POST', body: 'small body' });
    await expectProblem(res, 504);
  });

  it('answers 502 when the cluster refuses the connection', async () => {
    await routeOrg('deadorg', `http://127.0.0.1:${inject('deadPort')}`);
    const problem = await expectProblem(await SELF.fetch(`${EDGE}/deadorg/app/`), 502);
    expect(problem.type).toBe('urn:altinn-platform:problem:upstream-unreachable');
    expect(problem.detail).not.toContain('127.0.0.1');
  });
});

describe('proxy: route cache', () => {
  it('serves from the isolate cache without reading KV, and an admin write takes effect at once', async () => {
    await routeOrg('cached');
    expect((await SELF.fetch(`${EDGE}/cached/app/`)).status).toBe(200);
    // Removed behind the edge's back: the cached answer still routes within the TTL.
    await env.ROUTES.delete('org/cached');
    expect((await SELF.fetch(`${EDGE}/cached/app/`)).status).toBe(200);
    // Through the admin API the change is seen at once.
    await routeOrg('cached', `http://127.0.0.1:${inject('deadPort')}`);
    await expectProblem(await SELF.fetch(`${EDGE}/cached/app/`), 502);
  });

  it('serves a burst of concurrent first requests for an uncached app', async () => {
    await routeOrg('burstorg');
    const responses = await Promise.all(Array.from({ length: 20 }, () => SELF.fetch(`${EDGE}/burstorg/app/`)));
    for (const res of responses) await res.arrayBuffer();
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
  });
});
