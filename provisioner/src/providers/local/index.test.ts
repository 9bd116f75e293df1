import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alive, desired, release, steadyLoad, testProvider, until } from '../../../test/support/local.js';
import type { LocalProvider } from './index.js';

let provider: LocalProvider;
let ingressUrl: string;
const figures: Record<string, unknown> = {};

// Replicas are real processes on a shared machine: give every test room beyond the project's 30 s.
vi.setConfig({ testTimeout: 120_000 });

beforeAll(async () => {
  provider = testProvider();
  const step = await provider.ensureCluster('ttd', spec, undefined);
  if (step.kind !== 'done') throw new Error('cluster not ready');
  ingressUrl = step.result.ingressUrl;
});
afterAll(async () => {
  await provider.close();
  console.log('local provider figures', figures);
});

const spec = { region: 'local', kubernetesVersion: '1.33', nodeCount: 1, vmSize: 'local' };

async function complete(app: string) {
  return until(async () => {
    const status = await provider.rolloutStatus('ttd', app);
    return status.complete ? status : undefined;
  }, `${app} rollout to complete`);
}

function pids(app: string): number[] {
  return provider.replicas('ttd', app).flatMap((r) => (r.pid === null ? [] : [r.pid]));
}

describe('local provider ingress', () => {
  it('answers 404 problem+json for an app the cluster does not run', async () => {
    const res = await fetch(`${ingressUrl}/ttd/nothing/`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { type: string }).type).toBe('urn:altinn-platform:problem:not-found');
    expect((await fetch(`${ingressUrl}/other/nothing/`)).status).toBe(404);
    expect((await fetch(`${ingressUrl}/ttd/%E0%A4%A/`)).status).toBe(404);
  });

  it('returns the same ingress for the org on a second ensureCluster', async () => {
    const step = await provider.ensureCluster('ttd', spec, undefined);
    expect(step.kind === 'done' && step.result.ingressUrl).toBe(ingressUrl);
  });

  it('listens again on the port in the state handed back, or on any free port when it is taken', async () => {
    const taken = new URL(ingressUrl).port;
    const elsewhere = await provider.ensureCluster('brg', spec, { ingressUrl: `http://127.0.0.1:${taken}` });
    expect(elsewhere.kind === 'done' && new URL(elsewhere.result.ingressUrl).port).not.toBe(taken);
    const freed = elsewhere.kind === 'done' ? elsewhere.result.ingressUrl : '';
    await until(async () => (await provider.deleteCluster('brg', undefined)).kind === 'done', 'brg deleted');
    const again = await provider.ensureCluster('brg', spec, { ingressUrl: freed });
    expect(again.kind === 'done' && again.result.ingressUrl).toBe(freed);
    await until(async () => (await provider.deleteCluster('brg', undefined)).kind === 'done', 'brg deleted');
  });
});

describe('local provider rollouts', () => {
  it('fails a rollout of an image other than app-runtime with ImagePullFailed and answers 503 without replicas', async () => {
    await provider.applyApp('ttd', 'pull', desired(release(1, {}, 'ghcr.io/ttd/other:1'), 1));
    const status = await provider.rolloutStatus('ttd', 'pull');
    expect(status.failure?.reason).toBe('ImagePullFailed');
    expect(status.complete).toBe(false);
    expect(provider.replicas('ttd', 'pull')).toEqual([]);
    const res = await fetch(`${ingressUrl}/ttd/pull/`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await provider.deleteApp('ttd', 'pull', undefined)).toMatchObject({ kind: 'done' });
  });

  it('sends a replica no traffic until its readiness probe passes', async () => {
    const started = Date.now();
    // Applied twice at once, as two reconciler passes might: still one app with one replica.
    const slow = desired(release(1, { RUNTIME_READY_AFTER_MS: '1500' }), 1);
    await Promise.all([provider.applyApp('ttd', 'slow', slow), provider.applyApp('ttd', 'slow', slow)]);
    await until(() => provider.events('ttd', 'slow').some((e) => e.type === 'Started'), 'the replica to listen');
    // The process listens and answers, but is not ready: the ingress keeps it out.
    const early = await fetch(`${ingressUrl}/ttd/slow/`);
    expect(early.status).toBe(503);
    expect(provider.replicas('ttd', 'slow')[0]?.phase).toBe('Starting');
    await complete('slow');
    figures.slowReplicaStartToReadyMs = Date.now() - started;
    const res = await fetch(`${ingressUrl}/ttd/slow/`);
    expect(res.status).toBe(200);
    expect(provider.replicas('ttd', 'slow')).toHaveLength(1);
    const gone = pids('slow');
    await until(async () => (await provider.deleteApp('ttd', 'slow', undefined)).kind === 'done', 'slow deleted');
    expect(gone.filter(alive)).toEqual([]);
  });

  it('replaces a killed replica while a steady load through the ingress sees no failed request', async () => {
    const started = Date.now();
    await provider.applyApp('ttd', 'kill', desired(release(1), 2));
    await complete('kill');
    figures.twoReplicasApplyToCompleteMs = Date.now() - started;
    const load = steadyLoad(`${ingressUrl}/ttd/kill/`);
    await until(() => load.stats.ok > 50, 'load to run');
    const [victim, survivor] = pids('kill');
    process.kill(victim!, 'SIGKILL');
    await until(
      () => provider.replicas('ttd', 'kill').every((r) => r.ready && r.pid !== victim) && load.stats.ok > 200,
      'the killed replica to be replaced',
    );
    const result = await load.stop();
    figures.killLoad = { ok: result.ok, failed: result.failed, requestsPerSecond: result.perSecond };
    expect(result.failures).toEqual([]);
    expect(pids('kill')).toContain(survivor);
    expect(
      provider
        .replicas('ttd', 'kill')
        .map((r) => r.restarts)
        .sort(),
    ).toEqual([0, 1]);
    expect(provider.events('ttd', 'kill').some((e) => e.type === 'Exited' && e.signal === 'SIGKILL')).toBe(true);
  });

  it('rolls 1 -> 2 and back to 1 under steady load with no failed request, traffic moving only to ready replicas', async () => {
    const load = steadyLoad(`${ingressUrl}/ttd/kill/`, 2, { posts: true });
    await until(() => load.stats.ok > 20, 'load to run');
    const before = pids('kill');
    // Release 2 takes a while to be ready: traffic must stay on release 1 until it is.
    await provider.applyApp('ttd', 'kill', desired(release(2, { RUNTIME_READY_AFTER_MS: '500' }), 2));
    const rolling = await provider.rolloutStatus('ttd', 'kill');
    expect(rolling.complete).toBe(false);
    expect(rolling.revision).toBe(2);
    await complete('kill');
    const afterRollout = load.stats.releases.length;
    await until(() => load.stats.releases.length > afterRollout + 50, 'answers after the rollout');
    expect(new Set(load.stats.releases.slice(afterRollout))).toEqual(new Set(['2']));
    expect(before.filter(alive)).toEqual([]);

    await provider.applyApp('ttd', 'kill', desired(release(1), 2, true));
    await complete('kill');
    const afterRollback = load.stats.releases.length;
    await until(() => load.stats.releases.length > afterRollback + 50, 'answers after the rollback');
    const result = await load.stop();
    figures.rollingLoad = {
      ok: result.ok,
      posts: result.posts,
      failed: result.failed,
      requestsPerSecond: result.perSecond,
    };
    expect(result.posts).toBeGreaterThan(0);
    expect(result.failures).toEqual([]);
    expect(new Set(result.releases.slice(afterRollback))).toEqual(new Set(['1']));
    // maxSurge 1: never more than 3 replicas at once (2 desired + 1 new) besides those draining.
    const events = provider.events('ttd', 'kill');
    const firstReady2 = events.findIndex((e) => e.type === 'Ready' && e.revision === 2);
    const firstKilling1 = events.findIndex((e) => e.type === 'Killing' && e.revision === 1);
    expect(firstReady2).toBeGreaterThanOrEqual(0);
    expect(firstKilling1).toBeGreaterThan(firstReady2);
  });

  it('streams request bodies to a replica and strips hop-by-hop headers', async () => {
    const body = Buffer.alloc(1024 * 1024, 7);
    // fetch refuses a Connection header, so this one goes through node:http.
    const echo = await new Promise<{ bodyBytes: number; headers: Record<string, string> }>((resolve, reject) => {
      const req = http.request(
        `${ingressUrl}/ttd/kill/api/echo`,
        { method: 'POST', headers: { connection: 'x-hop', 'x-hop': 'one connection only', 'x-end-to-end': 'kept' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(text))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(echo.bodyBytes).toBe(body.byteLength);
    expect(echo.headers['x-end-to-end']).toBe('kept');
    expect(echo.headers['x-hop']).toBeUndefined();
  });

  it('forgets a request whose client went away mid-body, so draining never waits for it', async () => {
    const req = http.request(`${ingressUrl}/ttd/kill/api/echo`, {
      method: 'POST',
      headers: { 'content-length': '100000' },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(1000));
    await until(() => provider.replicas('ttd', 'kill').some((r) => r.inflight > 0), 'the request to arrive');
    req.destroy();
    await until(() => provider.replicas('ttd', 'kill').every((r) => r.inflight === 0), 'the request to be forgotten');
    expect((await fetch(`${ingressUrl}/ttd/kill/`)).status).toBe(200);
  });

  it('scales 1 -> 3 -> 1, spreading requests over all ready replicas', async () => {
    await provider.scaleApp('ttd', 'kill', { minReplicas: 1, maxReplicas: 5, replicas: 3 });
    expect((await complete('kill')).readyReplicas).toBe(3);
    expect(pids('kill')).toHaveLength(3);
    // One request at a time: every replica has none in flight, so the ingress takes them in turn.
    const answeredBy = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const answer = (await (await fetch(`${ingressUrl}/ttd/kill/`)).json()) as { replica: string };
      answeredBy.set(answer.replica, (answeredBy.get(answer.replica) ?? 0) + 1);
    }
    const ready = provider.replicas('ttd', 'kill').filter((r) => r.ready);
    expect([...answeredBy.keys()].sort()).toEqual(ready.map((r) => r.id).sort());
    for (const count of answeredBy.values()) expect(count).toBeGreaterThanOrEqual(10);
    await provider.scaleApp('ttd', 'kill', { minReplicas: 1, maxReplicas: 5, replicas: 1 });
    const status = await complete('kill');
    expect(status).toMatchObject({ replicas: 1, updatedReplicas: 1, readyReplicas: 1, oldReplicas: 0 });
    expect(pids('kill')).toHaveLength(1);
    expect((await fetch(`${ingressUrl}/ttd/kill/`)).status).toBe(200);
  });

  it('restarts a replica that crashes at start with growing backoff and reports CrashLoopBackOff', async () => {
    await provider.applyApp('ttd', 'crash', desired(release(1, { RUNTIME_FAIL_AT_START: '1' }), 1));
    const status = await until(async () => {
      const s = await provider.rolloutStatus('ttd', 'crash');
      return s.failure ? s : undefined;
    }, 'the rollout to fail');
    expect(status.failure?.reason).toBe('CrashLoopBackOff');
    expect(status.failure?.message).toContain('RUNTIME_FAIL_AT_START');
    const delays = provider
      .events('ttd', 'crash')
      .filter((e) => e.type === 'BackOff')
      .map((e) => e.backoffMs);
    expect(delays.slice(0, 3)).toEqual([250, 500, 1000]);
    expect(Object.values(provider.logs('ttd', 'crash'))[0]?.some((l) => l.stream === 'stderr')).toBe(true);
    await until(async () => (await provider.deleteApp('ttd', 'crash', undefined)).kind === 'done', 'crash deleted');
  });

  it('restarts a replica that stops answering its liveness probe after having been ready', async () => {
    await provider.applyApp('ttd', 'hang', desired(release(1, { RUNTIME_UNHEALTHY_AFTER_MS: '500' }), 1));
    await until(() => provider.replicas('ttd', 'hang')[0]?.restarts, 'the replica to be restarted');
    const types = provider.events('ttd', 'hang').map((e) => e.type);
    expect(types.indexOf('Unhealthy')).toBeGreaterThan(types.indexOf('Unready'));
    expect(types.indexOf('Unready')).toBeGreaterThan(types.indexOf('Ready'));
    expect(provider.events('ttd', 'hang').find((e) => e.type === 'Exited')?.signal).toBe('SIGKILL');
    await until(async () => (await provider.deleteApp('ttd', 'hang', undefined)).kind === 'done', 'hang deleted');
  });

  it('keeps all traffic on the running release while a new one crash-loops, and rolls back to it', async () => {
    await provider.applyApp('ttd', 'guard', desired(release(1), 1));
    await complete('guard');
    const load = steadyLoad(`${ingressUrl}/ttd/guard/`);
    await provider.applyApp('ttd', 'guard', desired(release(2, { RUNTIME_FAIL_AT_START: '1' }), 1));
    const failed = await until(async () => {
      const s = await provider.rolloutStatus('ttd', 'guard');
      return s.failure ? s : undefined;
    }, 'the rollout to fail');
    expect(failed).toMatchObject({ revision: 2, updatedReplicas: 1, readyReplicas: 1, oldReplicas: 1 });
    expect(failed.failure?.reason).toBe('CrashLoopBackOff');
    await provider.applyApp('ttd', 'guard', desired(release(1), 1, true));
    const back = await complete('guard');
    expect(back).toMatchObject({ revision: 1, updatedReplicas: 1, oldReplicas: 0 });
    const result = await load.stop();
    expect(result.failures).toEqual([]);
    expect(new Set(result.releases)).toEqual(new Set(['1']));
    expect(provider.replicas('ttd', 'guard').map((r) => r.revision)).toEqual([1]);
  });

  it('fails a rollout whose replica runs but never passes readiness within the deadline with ReadinessFailed', async () => {
    const never = desired(release(1, { RUNTIME_READY_AFTER_MS: '600000' }), 1);
    await provider.applyApp('ttd', 'deadline', { ...never, progressDeadlineMs: 600_000 });
    // Once the replica runs, the deadline is cut short (as an edited progressDeadlineSeconds): it has passed.
    await until(() => provider.events('ttd', 'deadline').some((e) => e.type === 'Started'), 'the replica to listen');
    await provider.applyApp('ttd', 'deadline', { ...never, progressDeadlineMs: 1 });
    const status = await until(async () => {
      const s = await provider.rolloutStatus('ttd', 'deadline');
      return s.failure ? s : undefined;
    }, 'the deadline to pass');
    expect(status).toMatchObject({
      complete: false,
      readyReplicas: 0,
      failure: { reason: 'ReadinessFailed' },
    });
    expect((await fetch(`${ingressUrl}/ttd/deadline/`)).status).toBe(503);
  });

  it('deletes an app and the cluster leaving no replica process behind', async () => {
    const running = pids('kill');
    expect(running.length).toBeGreaterThan(0);
    await until(async () => (await provider.deleteCluster('ttd', undefined)).kind === 'done', 'cluster deleted');
    expect(running.filter(alive)).toEqual([]);
    await expect(fetch(`${ingressUrl}/ttd/kill/`)).rejects.toThrow();
    expect(await provider.rolloutStatus('ttd', 'kill')).toMatchObject({ revision: null, complete: false });
  });
});

describe('closing the local provider', () => {
  it('stops every replica and ingress and refuses further work', async () => {
    const closing = testProvider();
    const step = await closing.ensureCluster('ttd', spec, undefined);
    await closing.applyApp('ttd', 'last', desired(release(1), 1));
    await until(() => closing.replicas('ttd', 'last')[0]?.pid, 'the replica to start');
    const pid = closing.replicas('ttd', 'last')[0]!.pid!;
    await closing.close();
    expect(alive(pid)).toBe(false);
    await expect(fetch(`${step.kind === 'done' ? step.result.ingressUrl : ''}/ttd/last/`)).rejects.toThrow();
    await expect(closing.applyApp('ttd', 'last', desired(release(1), 1))).rejects.toMatchObject({
      code: 'ProviderClosed',
    });
  });
});
