import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { RouteResolver } from '.';

describe('RouteResolver', () => {
  it('caches an answer for the TTL and reads KV again after it', async () => {
    let now = 1_000;
    const resolver = new RouteResolver(() => now);
    await env.ROUTES.put('org/ttlorg', JSON.stringify({ org: 'ttlorg', clusterBase: 'http://a.example' }));
    expect(await resolver.resolve(env.ROUTES, 'ttlorg', 'app', 5000)).toEqual({
      kind: 'upstream',
      clusterBase: 'http://a.example',
    });
    await env.ROUTES.put('org/ttlorg', JSON.stringify({ org: 'ttlorg', clusterBase: 'http://b.example' }));
    now += 4999;
    expect(await resolver.resolve(env.ROUTES, 'ttlorg', 'app', 5000)).toMatchObject({
      clusterBase: 'http://a.example',
    });
    now += 2;
    expect(await resolver.resolve(env.ROUTES, 'ttlorg', 'app', 5000)).toMatchObject({
      clusterBase: 'http://b.example',
    });
  });

  it('caches "unknown" too, and forgets everything on clear()', async () => {
    const resolver = new RouteResolver(() => 0);
    expect(await resolver.resolve(env.ROUTES, 'lateorg', 'app', 5000)).toEqual({ kind: 'unknown', reason: 'org' });
    await env.ROUTES.put('org/lateorg', JSON.stringify({ org: 'lateorg', clusterBase: 'http://late.example' }));
    expect(await resolver.resolve(env.ROUTES, 'lateorg', 'app', 5000)).toEqual({ kind: 'unknown', reason: 'org' });
    resolver.clear();
    expect(await resolver.resolve(env.ROUTES, 'lateorg', 'app', 5000)).toMatchObject({ kind: 'upstream' });
  });

  it('lets a disabled app entry win over the org route, and a pinned cluster over the org cluster', async () => {
    const resolver = new RouteResolver(() => 0);
    await env.ROUTES.put('org/mixorg', JSON.stringify({ org: 'mixorg', clusterBase: 'http://org.example' }));
    await env.ROUTES.put('app/mixorg/off', JSON.stringify({ org: 'mixorg', app: 'off', disabled: true }));
    await env.ROUTES.put(
      'app/mixorg/pin',
      JSON.stringify({ org: 'mixorg', app: 'pin', disabled: false, clusterBase: 'http://pin.example' }),
    );
    expect(await resolver.resolve(env.ROUTES, 'mixorg', 'off', 5000)).toEqual({
      kind: 'disabled',
      retryAfterSeconds: 300,
    });
    expect(await resolver.resolve(env.ROUTES, 'mixorg', 'pin', 5000)).toEqual({
      kind: 'upstream',
      clusterBase: 'http://pin.example',
    });
    expect(await resolver.resolve(env.ROUTES, 'mixorg', 'other', 5000)).toEqual({
      kind: 'upstream',
      clusterBase: 'http://org.example',
    });
  });
});
