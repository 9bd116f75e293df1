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

  it('when full, evicts the oldest entry instead of flushing every route', async () => {
    await env.ROUTES.put('org/hot', JSON.stringify({ org: 'hot', clusterBase: 'http://hot.example' }));
    const resolver = new RouteResolver(() => 0, 3);
    await resolver.resolve(env.ROUTES, 'junk1', 'x', 5000);
    await resolver.resolve(env.ROUTES, 'hot', 'app', 5000);
    await resolver.resolve(env.ROUTES, 'junk2', 'x', 5000);
    await resolver.resolve(env.ROUTES, 'junk3', 'x', 5000);
    expect(resolver.size).toBe(3);
    await env.ROUTES.delete('org/hot');
    // Still cached: the flood evicted junk1, the oldest, not the hot route.
    expect(await resolver.resolve(env.ROUTES, 'hot', 'app', 5000)).toMatchObject({ kind: 'upstream' });
  });

  it('does not cache a lookup that was in flight when an admin write cleared the cache', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A KV read that started before the write and answers the old route after it.
    const slowOld = {
      get: async (key: string) => {
        await gate;
        return key === 'org/racy' ? { org: 'racy', clusterBase: 'http://old.example' } : null;
      },
    } as unknown as KVNamespace;
    const resolver = new RouteResolver(() => 0);
    const stale = resolver.resolve(slowOld, 'racy', 'app', 5000);
    await env.ROUTES.put('org/racy', JSON.stringify({ org: 'racy', clusterBase: 'http://new.example' }));
    resolver.clear();
    release();
    expect(await stale).toMatchObject({ clusterBase: 'http://old.example' });
    expect(await resolver.resolve(env.ROUTES, 'racy', 'app', 5000)).toMatchObject({
      clusterBase: 'http://new.example',
    });
  });
});
