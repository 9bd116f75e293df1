import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../platform/src/logging/index.js';
import { openProvisionerHarness, type ProvisionerHarness } from '../../../test/support/provisioner.js';
import { ProviderError } from '../providers/types.js';
import { backoffMs, createReconciler } from './index.js';

let h: ProvisionerHarness;
beforeEach(async () => {
  h = await openProvisionerHarness();
});
afterEach(async () => {
  await h.close();
});

const app = { image: 'registry.test/ttd/forms:1.0.0', minReplicas: 1, maxReplicas: 3 };

async function start(method: string, path: string, body?: unknown): Promise<string> {
  const response = await h.call(method, path, body);
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

async function operation(id: string): Promise<Record<string, any>> {
  return (await (await h.call('GET', `/operations/${id}`)).json()) as Record<string, any>;
}

describe('retries and final errors', () => {
  it('waits Retry-After on a 429 and then goes on', async () => {
    h.provider.failures.set('ensureCluster', [new ProviderError('TooManyRequests', 'throttled', true, 30_000)]);
    const id = await start('PUT', '/clusters/ttd', {});
    const before = h.clock.now.getTime();
    await h.provisioner.reconciler.pass();
    const retrying = await operation(id);
    expect(retrying).toMatchObject({ status: 'Running', attempts: 1 });
    expect(Date.parse(retrying.nextAttemptAt) - before).toBe(30_000);
    expect(retrying.conditions).toContainEqual(expect.objectContaining({ type: 'Progressing', reason: 'Retrying' }));
    // Not due yet: a pass now does nothing.
    expect(await h.provisioner.reconciler.pass()).toBe(0);
    await h.settle();
    expect(await operation(id)).toMatchObject({ status: 'Succeeded', attempts: 0 });
  });

  it('fails at once on a final error, with its code as the reason, and marks the cluster Failed', async () => {
    h.provider.failures.set('ensureCluster', [
      new ProviderError(
        'QuotaExceeded',
        'Operation could not be completed as it results in exceeding approved quota',
        false,
      ),
    ]);
    const id = await start('PUT', '/clusters/ttd', {});
    await h.settle();
    const failed = await operation(id);
    expect(failed).toMatchObject({ status: 'Failed', error: { code: 'QuotaExceeded' } });
    expect(failed.completedAt).not.toBeNull();
    const cluster = (await (await h.call('GET', '/clusters/ttd')).json()) as Record<string, any>;
    expect(cluster.status.phase).toBe('Failed');
    expect(cluster.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'QuotaExceeded' }),
    );
    // The same spec again retries a failed cluster.
    const retry = await h.call('PUT', '/clusters/ttd', {});
    expect(retry.status).toBe(202);
    await h.settle();
    expect(((await (await h.call('GET', '/clusters/ttd')).json()) as any).status.phase).toBe('Ready');
  });

  it('gives up after the configured attempts with a clear condition', async () => {
    const errors = Array.from({ length: 20 }, () => new ProviderError('InternalServerError', 'ARM answered 500', true));
    h.provider.failures.set('ensureCluster', errors);
    const id = await start('PUT', '/clusters/ttd', {});
    await h.settle(100);
    const failed = await operation(id);
    expect(failed.status).toBe('Failed');
    expect(failed.attempts).toBe(12);
    expect(failed.error.message).toContain('Gave up after 12 attempts');
  });

  it('retries an unexpected error (not a ProviderError) as InternalError', async () => {
    h.provider.failures.set('applyApp', [new Error('socket hang up') as ProviderError]);
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    const id = await start('PUT', '/clusters/ttd/apps/forms', app);
    await h.provisioner.reconciler.pass();
    expect((await operation(id)).conditions).toContainEqual(
      expect.objectContaining({
        reason: 'Retrying',
        message: expect.stringContaining('InternalError: socket hang up'),
      }),
    );
    await h.settle();
    expect((await operation(id)).status).toBe('Succeeded');
  });

  it('fails a rollout that is not done within the progress deadline, keeping the serving release', async () => {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    await start('PUT', '/clusters/ttd/apps/forms', app);
    await h.settle();
    h.provider.rolloutPolls = Number.POSITIVE_INFINITY;
    const id = await start('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:2.0.0' });
    await h.settle(400);
    const failed = await operation(id);
    expect(failed.error.code).toBe('ProgressDeadlineExceeded');
    const view = (await (await h.call('GET', '/clusters/ttd/apps/forms')).json()) as Record<string, any>;
    expect(view.status).toMatchObject({ phase: 'Failed', servingRevision: 1, desiredRevision: 2 });
  });

  it("fails with the provider's rollout failure reason", async () => {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    h.provider.failure = { reason: 'ImagePullFailed', message: 'no such image' };
    const id = await start('PUT', '/clusters/ttd/apps/forms', app);
    await h.settle();
    expect((await operation(id)).error).toEqual({ code: 'ImagePullFailed', message: 'no such image' });
  });
});

describe('failed rollouts', () => {
  async function deployedTwice(body: Record<string, unknown> = {}): Promise<string> {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    await start('PUT', '/clusters/ttd/apps/forms', { ...app, ...body });
    await h.settle();
    h.provider.revisionFailures.set(2, { reason: 'CrashLoopBackOff', message: 'replica forms-2 crashed 3 times' });
    return start('PUT', '/clusters/ttd/apps/forms', { ...app, ...body, image: 'registry.test/ttd/forms:2.0.0' });
  }

  it('rolls back to the serving release by itself, recording the failure, the rollback, events and logs', async () => {
    const id = await deployedTwice();
    await h.settle();
    const failed = await operation(id);
    expect(failed.status).toBe('Failed');
    expect(failed.error).toMatchObject({ code: 'CrashLoopBackOff', rolledBackTo: 1 });
    expect(failed.error.message).toContain('Rolled back to release 1');
    expect(failed.logs).toEqual([
      expect.objectContaining({
        revision: 2,
        lines: [expect.objectContaining({ line: 'revision 2 failed to start' })],
      }),
    ]);
    const reasons = failed.events.map((e: { reason: string }) => e.reason);
    expect(reasons).toEqual([
      'Accepted',
      'Applying',
      'RollingOut',
      'CrashLoopBackOff',
      'RollingBack',
      'CrashLoopBackOff',
    ]);
    expect(failed.events.at(-1)).toMatchObject({ type: 'Warning', source: 'reconciler' });
    const applied = h.provider.calls.filter((c) => c.method === 'applyApp').map((c) => c.arg as Record<string, any>);
    expect(applied.at(-1)).toMatchObject({ rollback: true, release: { revision: 1 } });
    const view = (await (await h.call('GET', '/clusters/ttd/apps/forms')).json()) as Record<string, any>;
    // The app runs the good release again and says why the new one is not serving.
    expect(view.status).toMatchObject({ phase: 'Ready', desiredRevision: 1, servingRevision: 1 });
    expect(view.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Available', status: 'True', reason: 'RolledBack' }),
    );
    expect(view.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True', reason: 'RolledBack' }),
    );
    expect(view.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'CrashLoopBackOff' }),
    );
    // The app's timeline holds both operations' events, newest first.
    const events = (await (await h.call('GET', '/clusters/ttd/apps/forms/events')).json()) as Record<string, any>;
    expect(events.events[0]).toMatchObject({ operationId: id, reason: 'CrashLoopBackOff' });
    expect(new Set(events.events.map((e: { operationId: string }) => e.operationId)).size).toBe(2);
    // Neither the drift check nor a scale brings the failed release back.
    expect(await h.provisioner.reconciler.checkDrift()).toBe(0);
    const scaled = (await (await h.call('POST', '/clusters/ttd/apps/forms/scale', { replicas: 2 })).json()) as Record<
      string,
      any
    >;
    expect(scaled).toMatchObject({ kind: 'app.scale', revision: 1 });
  });

  it('leaves the failure in place without rolling back when autoRollback is off', async () => {
    const id = await deployedTwice({ autoRollback: false });
    await h.settle();
    const failed = await operation(id);
    expect(failed.error).toEqual({ code: 'CrashLoopBackOff', message: 'replica forms-2 crashed 3 times' });
    expect(h.provider.calls.filter((c) => c.method === 'applyApp')).toHaveLength(2);
    const view = (await (await h.call('GET', '/clusters/ttd/apps/forms')).json()) as Record<string, any>;
    expect(view.spec.autoRollback).toBe(false);
  });

  it('reports a rollback that fails too, naming both failures', async () => {
    const id = await deployedTwice();
    h.provider.revisionFailures.set(1, { reason: 'ImagePullFailed', message: 'image gone' });
    await h.settle();
    const failed = await operation(id);
    expect(failed.error.code).toBe('CrashLoopBackOff');
    expect(failed.error.message).toContain('The rollback to release 1 failed too: ImagePullFailed');
    expect(failed.error.rolledBackTo).toBeUndefined();
  });

  it("uses the app's own progress deadline", async () => {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    h.provider.rolloutPolls = Number.POSITIVE_INFINITY;
    const id = await start('PUT', '/clusters/ttd/apps/forms', { ...app, progressDeadlineSeconds: 2 });
    await h.settle(100);
    const failed = await operation(id);
    expect(failed.error.code).toBe('ProgressDeadlineExceeded');
    // Two seconds plus the grace the provider gets to name the cause, not the default minute.
    expect(Date.parse(failed.completedAt) - Date.parse(failed.startedAt)).toBeLessThan(10_000);
    const applied = h.provider.calls.find((c) => c.method === 'applyApp')?.arg as Record<string, any>;
    expect(applied.progressDeadlineMs).toBe(2000);
  });
});

describe('resuming and sharing work', () => {
  it('resumes a provider operation from its stored state in a new reconciler (a restart)', async () => {
    h.provider.clusterPolls = 2;
    const id = await start('PUT', '/clusters/ttd', {});
    await h.provisioner.reconciler.pass();
    expect((await operation(id)).phase).toBe('provision');
    // A new process: a new reconciler on the same database, after the old one's lease ran out.
    h.clock.advance(120_000);
    const restarted = createReconciler({
      db: h.db,
      provider: h.provider,
      edge: h.edge,
      logger: createLogger({ level: 'error' }),
      now: () => h.clock.now,
      pollMs: 500,
    });
    await restarted.pass();
    const states = h.provider.calls.filter((c) => c.method === 'ensureCluster').map((c) => c.arg);
    expect(states).toEqual([undefined, { polls: 1, region: 'norwayeast' }]);
    h.clock.advance(5_000);
    await restarted.pass();
    expect((await operation(id)).status).toBe('Succeeded');
  });

  it('never lets two reconcilers step the same operation at once', async () => {
    h.provider.clusterPolls = 5;
    await start('PUT', '/clusters/ttd', {});
    await start('PUT', '/clusters/brg', {});
    const second = createReconciler({
      db: h.db,
      provider: h.provider,
      edge: h.edge,
      logger: createLogger({ level: 'error' }),
      now: () => h.clock.now,
    });
    const [a, b] = await Promise.all([h.provisioner.reconciler.pass(), second.pass()]);
    expect(a + b).toBe(2);
    const targets = h.provider.calls.filter((c) => c.method === 'ensureCluster').map((c) => c.target);
    expect(targets.sort()).toEqual(['brg', 'ttd']);
  });

  it('repairs drift: a cluster or app that vanished is made again', async () => {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    await start('PUT', '/clusters/ttd/apps/forms', app);
    await h.settle();
    expect(await h.provisioner.reconciler.checkDrift()).toBe(0);
    // The provider lost everything (the local host restarted).
    h.provider.clusters.clear();
    h.provider.apps.clear();
    const callsBefore = h.provider.calls.length;
    expect(await h.provisioner.reconciler.checkDrift()).toBe(1);
    await h.settle();
    expect(await h.provisioner.reconciler.checkDrift()).toBe(1);
    await h.settle();
    expect(h.provider.clusters.has('ttd')).toBe(true);
    // The cluster is made again from the ingress it had, so the edge's route to it stays valid.
    expect(h.provider.calls.slice(callsBefore).find((c) => c.method === 'ensureCluster')?.arg).toEqual({
      ingressUrl: 'http://ingress.test/ttd',
    });
    expect(h.provider.apps.get('ttd/forms')?.desired.release.revision).toBe(1);
    const ops = (await (await h.call('GET', '/clusters/ttd/apps/forms/operations')).json()) as Record<string, any>;
    expect(ops.operations[0]).toMatchObject({
      kind: 'app.deploy',
      cause: 'Drift',
      status: 'Succeeded',
      createdBy: 'reconciler',
    });
  });
});

describe('a workload that vanishes mid-rollout (the local host restarted)', () => {
  /** Runs passes, moving the clock, until the operation is in `phase`. */
  async function untilPhase(id: string, phase: string): Promise<void> {
    for (let i = 0; i < 20; i++) {
      if ((await operation(id)).phase === phase) return;
      await h.provisioner.reconciler.pass();
      h.clock.advance(500);
    }
    throw new Error(`operation ${id} never reached ${phase}`);
  }

  it('applies the desired release again and completes, rather than failing at the deadline and rolling back', async () => {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    await start('PUT', '/clusters/ttd/apps/forms', app);
    await h.settle();
    h.provider.rolloutPolls = 2;
    const id = await start('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:2.0.0' });
    await untilPhase(id, 'rollout');
    h.provider.apps.clear();
    await h.settle();
    const done = await operation(id);
    expect(done).toMatchObject({ status: 'Succeeded', error: null });
    expect(done.events).toContainEqual(
      expect.objectContaining({ source: 'reconciler', type: 'Warning', reason: 'WorkloadMissing' }),
    );
    const applied = h.provider.calls.filter((c) => c.method === 'applyApp').map((c) => c.arg as Record<string, any>);
    expect(applied.slice(-2).map((a) => [a.release.revision, a.rollback])).toEqual([
      [2, false],
      [2, false],
    ]);
    expect(h.provider.apps.get('ttd/forms')?.desired.release.revision).toBe(2);
    const view = (await (await h.call('GET', '/clusters/ttd/apps/forms')).json()) as Record<string, any>;
    expect(view.status).toMatchObject({ phase: 'Ready', servingRevision: 2, desiredRevision: 2 });
  });

  it('applies the release being rolled back to again when the workload vanishes during the rollback', async () => {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    await start('PUT', '/clusters/ttd/apps/forms', app);
    await h.settle();
    h.provider.revisionFailures.set(2, { reason: 'CrashLoopBackOff', message: 'replica forms-2 crashed 3 times' });
    h.provider.rolloutPolls = 2;
    const id = await start('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:2.0.0' });
    await untilPhase(id, 'rollback-wait');
    h.provider.apps.clear();
    await h.settle();
    const failed = await operation(id);
    expect(failed.error).toMatchObject({ code: 'CrashLoopBackOff', rolledBackTo: 1 });
    const applied = h.provider.calls.filter((c) => c.method === 'applyApp').map((c) => c.arg as Record<string, any>);
    expect(applied.slice(-2).map((a) => [a.release.revision, a.rollback])).toEqual([
      [1, true],
      [1, true],
    ]);
    expect(h.provider.apps.get('ttd/forms')?.desired.release.revision).toBe(1);
  });

  it('makes a scaled workload again with its release, not only its replica count', async () => {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    await start('PUT', '/clusters/ttd/apps/forms', app);
    await h.settle();
    h.provider.rolloutPolls = 2;
    const id = await start('POST', '/clusters/ttd/apps/forms/scale', { replicas: 3 });
    await untilPhase(id, 'rollout');
    h.provider.apps.clear();
    await h.settle();
    expect(await operation(id)).toMatchObject({ status: 'Succeeded' });
    expect(h.provider.apps.get('ttd/forms')).toMatchObject({
      desired: { release: { revision: 1 } },
      scale: { replicas: 3 },
    });
  });
});

describe('provider events on the timeline', () => {
  it("keeps whole-second events of the rollout's first second, each once, and none from before", async () => {
    await start('PUT', '/clusters/ttd', {});
    await h.settle();
    await start('PUT', '/clusters/ttd/apps/forms', app);
    await h.settle();
    // The rollout starts 400 ms into a second; Kubernetes stamps its events with that whole second.
    h.clock.advance(1000 - (h.clock.now.getTime() % 1000) + 400);
    const base = Math.floor(h.clock.now.getTime() / 1000) * 1000;
    const second = (offset: number) => new Date(base + offset * 1000).toISOString().replace('.000Z', 'Z');
    const event = (at: string, message: string, id?: string) => ({
      at,
      type: 'Normal' as const,
      reason: 'ScalingReplicaSet',
      message,
      ...(id ? { id } : {}),
    });
    h.provider.events.push(event(second(-1), 'Scaled down replica set forms-old to 0'));
    h.provider.rolloutPolls = 2;
    const id = await start('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:2.0.0' });
    await h.provisioner.reconciler.pass();
    expect((await operation(id)).phase).toBe('rollout');
    h.provider.events.push(event(second(0), 'Scaled up replica set forms-new to 1'));
    h.clock.advance(500);
    await h.provisioner.reconciler.pass();
    // The next read gives the same event again, one more of that second, and two alike but for their ids.
    h.provider.events.push(
      event(second(0), 'Scaled down replica set forms-old to 0'),
      event(second(1), 'Created pod forms-new-a', 'uid-a'),
      event(second(1), 'Created pod forms-new-a', 'uid-b'),
    );
    await h.settle();
    const done = await operation(id);
    expect(done.status).toBe('Succeeded');
    const fromProvider = done.events
      .filter((e: { source: string }) => e.source === 'provider')
      .map((e: { at: string; message: string }) => [Date.parse(e.at), e.message]);
    expect(fromProvider).toEqual([
      [base, 'Scaled up replica set forms-new to 1'],
      [base, 'Scaled down replica set forms-old to 0'],
      [base + 1000, 'Created pod forms-new-a'],
      [base + 1000, 'Created pod forms-new-a'],
    ]);
  });
});

describe('backoff', () => {
  it('doubles from the base up to the cap, with at most 20 % jitter', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 1000, 5000, () => 0))).toEqual([1000, 2000, 4000, 5000]);
    expect(backoffMs(1, 1000, 5000, () => 1)).toBe(800);
  });
});
