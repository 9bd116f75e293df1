import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openProvisionerHarness, type ProvisionerHarness } from '../../../test/support/provisioner.js';

let h: ProvisionerHarness;
beforeEach(async () => {
  h = await openProvisionerHarness();
});
afterEach(async () => {
  await h.close();
});

const app = { image: 'registry.test/ttd/forms:1.0.0', minReplicas: 1, maxReplicas: 3 };

async function json(response: Response): Promise<Record<string, any>> {
  return (await response.json()) as Record<string, any>;
}

async function operationCount(): Promise<number> {
  const rows = await h.db.query<{ n: unknown }>('SELECT count(*) AS n FROM operations');
  return Number(rows[0]?.n);
}

/** Creates ttd's cluster and lets the reconciler finish it. */
async function readyCluster(org = 'ttd'): Promise<void> {
  expect((await h.call('PUT', `/clusters/${org}`, {})).status).toBe(202);
  await h.settle();
}

/** Deploys `app` to ttd with an org token and lets it roll out. */
async function deployed(body: Record<string, unknown> = app): Promise<Record<string, any>> {
  const response = await h.call('PUT', '/clusters/ttd/apps/forms', body, await h.orgToken('ttd'));
  expect(response.status).toBe(202);
  const operation = await json(response);
  await h.settle();
  return operation;
}

describe('access', () => {
  it('answers 401 with a Bearer challenge without a token and for a bad one', async () => {
    const none = await h.call('GET', '/clusters', undefined, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    const bad = await h.call('GET', '/clusters', undefined, 'not-a-valid-token');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('refuses a user token, and an org token without altinn:appdeploy, with 403', async () => {
    const user = await h.auth.issuer.userToken({ userId: 1001, partyId: 510001, authLevel: 3 });
    expect((await h.call('GET', '/clusters', undefined, user)).status).toBe(403);
    const noScope = await h.orgToken('ttd', ['altinn:serviceowner/instances.read']);
    expect((await h.call('GET', '/clusters', undefined, noScope)).status).toBe(403);
  });

  it('lets only the admin create or delete clusters', async () => {
    const ttd = await h.orgToken('ttd');
    const put = await h.call('PUT', '/clusters/ttd', {}, ttd);
    expect(put.status).toBe(403);
    expect(await operationCount()).toBe(0);
    await readyCluster();
    expect((await h.call('DELETE', '/clusters/ttd', undefined, ttd)).status).toBe(403);
    expect((await h.call('GET', '/clusters/ttd', undefined, ttd)).status).toBe(200);
  });

  it('keeps an org to its own apps, cluster and operations', async () => {
    await readyCluster();
    const operation = await deployed();
    const other = await h.orgToken('brg');
    expect((await h.call('PUT', '/clusters/ttd/apps/x', app, other)).status).toBe(403);
    expect((await h.call('GET', '/clusters/ttd/apps/forms', undefined, other)).status).toBe(403);
    expect((await h.call('GET', '/clusters/ttd', undefined, other)).status).toBe(403);
    expect((await h.call('GET', `/operations/${operation.id}`, undefined, other)).status).toBe(404);
    expect(await json(await h.call('GET', '/clusters', undefined, other))).toEqual({ clusters: [] });
  });
});

describe('clusters', () => {
  it('answers 202 with the operation, which the reconciler takes to Succeeded; the edge gets the route', async () => {
    const response = await h.call('PUT', '/clusters/ttd', { region: 'norwayeast', nodeCount: 2 });
    expect(response.status).toBe(202);
    const operation = await json(response);
    expect(response.headers.get('location')).toBe(`/provisioner/api/v1/operations/${operation.id}`);
    expect(operation).toMatchObject({ kind: 'cluster.apply', status: 'NotStarted', target: { org: 'ttd' } });
    await h.provisioner.reconciler.pass();
    const running = await json(await h.call('GET', `/operations/${operation.id}`));
    expect(running.status).toBe('Running');
    expect(running.conditions).toContainEqual(
      expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'Provisioning', observedGeneration: 1 }),
    );
    await h.settle();
    const done = await json(await h.call('GET', `/operations/${operation.id}`));
    expect(done).toMatchObject({ status: 'Succeeded', error: null });
    const cluster = await json(await h.call('GET', '/clusters/ttd'));
    expect(cluster.status).toMatchObject({
      phase: 'Ready',
      observedGeneration: 1,
      ingressUrl: 'http://ingress.test/ttd',
    });
    expect(cluster.spec).toEqual({
      region: 'norwayeast',
      kubernetesVersion: '1.33',
      nodeCount: 2,
      vmSize: 'Standard_D4s_v5',
    });
    expect(h.edge.orgs.get('ttd')).toBe('http://ingress.test/ttd');
  });

  it('starts no new operation for the same spec again, and updates for a changed one', async () => {
    await readyCluster();
    const again = await h.call('PUT', '/clusters/ttd', {});
    expect(again.status).toBe(200);
    expect(await operationCount()).toBe(1);
    const changed = await h.call('PUT', '/clusters/ttd', { nodeCount: 5 });
    expect(changed.status).toBe(202);
    await h.settle();
    const cluster = await json(await h.call('GET', '/clusters/ttd'));
    expect(cluster).toMatchObject({ generation: 2, status: { observedGeneration: 2, phase: 'Ready' } });
  });

  it('joins a running operation for the same spec and refuses a different one with 409', async () => {
    const first = await json(await h.call('PUT', '/clusters/ttd', {}));
    const same = await h.call('PUT', '/clusters/ttd', {});
    expect(same.status).toBe(202);
    expect((await json(same)).id).toBe(first.id);
    const other = await h.call('PUT', '/clusters/ttd', { nodeCount: 9 });
    expect(other.status).toBe(409);
    expect(await json(other)).toMatchObject({ type: 'urn:altinn-platform:problem:conflict', operationId: first.id });
    expect(await operationCount()).toBe(1);
  });

  it('refuses names that are not DNS-1123 labels and bad specs with 400 naming the field', async () => {
    for (const org of ['TTD', 'ttd_x', '-ttd', 'a'.repeat(64)]) {
      const response = await h.call('PUT', `/clusters/${org}`, {});
      expect(response.status).toBe(400);
      expect((await json(response)).errors[0].field).toBe('path.org');
    }
    const cases: [unknown, string][] = [
      [{ nodeCount: 0 }, 'nodeCount'],
      [{ nodeCount: 3, maxNodes: 2 }, 'maxNodes'],
      [{ kubernetesVersion: 'latest' }, 'kubernetesVersion'],
      [{ vmSize: 'big' }, 'vmSize'],
      [{ colour: 'blue' }, 'colour'],
    ];
    for (const [body, field] of cases) {
      const response = await h.call('PUT', '/clusters/ttd', body);
      expect(response.status).toBe(400);
      expect((await json(response)).errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect((await h.call('PUT', '/clusters/ttd', '{not json')).status).toBe(400);
    expect(await operationCount()).toBe(0);
  });

  it('refuses to delete a cluster with apps unless forced, then removes apps, routes and cluster', async () => {
    await readyCluster();
    await deployed();
    const refused = await h.call('DELETE', '/clusters/ttd');
    expect(refused.status).toBe(409);
    expect((await json(refused)).detail).toContain('forms');
    const forced = await h.call('DELETE', '/clusters/ttd?force=true');
    expect(forced.status).toBe(202);
    await h.settle();
    expect((await h.call('GET', '/clusters/ttd')).status).toBe(404);
    expect(h.provider.apps.size).toBe(0);
    expect(h.provider.clusters.size).toBe(0);
    expect(h.edge.orgs.has('ttd')).toBe(false);
    expect(h.edge.changes.slice(-2)).toEqual(['deleteApp ttd/forms', 'deleteOrg ttd']);
    expect((await h.call('DELETE', '/clusters/ttd')).status).toBe(404);
  });
});

describe('apps', () => {
  beforeEach(async () => {
    await readyCluster();
  });

  it('rolls a release out, then lists it at the edge and as serving', async () => {
    const operation = await deployed({ ...app, env: { FEATURE: 'on' }, config: { title: 'Forms' } });
    expect(operation).toMatchObject({ kind: 'app.deploy', revision: 1 });
    const view = await json(await h.call('GET', '/clusters/ttd/apps/forms'));
    expect(view.spec).toMatchObject({ revision: 1, image: app.image, version: '1.0.0', port: 5005, replicas: 1 });
    expect(view.status).toMatchObject({
      phase: 'Ready',
      desiredRevision: 1,
      servingRevision: 1,
      observedGeneration: 1,
    });
    expect(view.status.rollout).toMatchObject({ revision: 1, complete: true });
    expect(h.edge.apps.has('ttd/forms')).toBe(true);
    const applied = h.provider.calls.find((c) => c.method === 'applyApp')?.arg as Record<string, any>;
    expect(applied.release).toMatchObject({ revision: 1, env: { FEATURE: 'on' }, config: { title: 'Forms' } });
    expect(applied.rollback).toBe(false);
  });

  it('starts nothing for the same spec, a new release for a changed one, and 409 while one runs', async () => {
    await deployed();
    const same = await h.call('PUT', '/clusters/ttd/apps/forms', app, await h.orgToken('ttd'));
    expect(same.status).toBe(200);
    const before = await operationCount();
    const second = await json(
      await h.call('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:2.0.0' }),
    );
    expect(second).toMatchObject({ kind: 'app.deploy', revision: 2 });
    const joined = await h.call('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:2.0.0' });
    expect((await json(joined)).id).toBe(second.id);
    const clash = await h.call('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:3.0.0' });
    expect(clash.status).toBe(409);
    expect((await json(clash)).operationId).toBe(second.id);
    expect(await operationCount()).toBe(before + 1);
    await h.settle();
    const releases = await json(await h.call('GET', '/clusters/ttd/apps/forms/releases'));
    expect(releases.releases.map((r: { revision: number }) => r.revision)).toEqual([2, 1]);
    expect(releases).toMatchObject({ desiredRevision: 2, servingRevision: 2 });
  });

  it('refuses bad replica bounds and names with 400, and an app without cluster with 404', async () => {
    const cases: [unknown, string][] = [
      [{ ...app, minReplicas: 4, maxReplicas: 2 }, 'minReplicas'],
      [{ ...app, minReplicas: -1 }, 'minReplicas'],
      [{ ...app, replicas: 9 }, 'replicas'],
      [{ ...app, image: 'Not An Image' }, 'image'],
      [{ ...app, env: { 'BAD-NAME': 'x' } }, 'env.BAD-NAME'],
      [{ ...app, env: { NODE_OPTIONS: '--import data:text/javascript,process.exit()' } }, 'env.NODE_OPTIONS'],
      [{ ...app, env: { PLATFORM_URL: 'http://evil.test' } }, 'env.PLATFORM_URL'],
      [{ ...app, minReplicas: 0 }, 'minReplicas'],
      [{ ...app, resources: { requests: { cpu: 'lots' } } }, 'resources.requests.cpu'],
      [{ minReplicas: 1 }, 'image'],
    ];
    for (const [body, field] of cases) {
      const response = await h.call('PUT', '/clusters/ttd/apps/forms', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await json(response)).errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const badName = await h.call('PUT', '/clusters/ttd/apps/Forms', app);
    expect((await json(badName)).errors[0].field).toBe('path.app');
    // ttd + '-' + 60 characters = 64: each is a DNS label, but the namespace `ttd-{app}` would not be.
    const tooLong = await h.call('PUT', `/clusters/ttd/apps/${'a'.repeat(60)}`, app);
    expect(tooLong.status).toBe(400);
    expect(tooLong.headers.get('content-type')).toContain('application/problem+json');
    expect((await json(tooLong)).errors[0].field).toBe('path.app');
    expect((await h.call('GET', `/clusters/ttd/apps/${'a'.repeat(59)}`)).status).toBe(404);
    expect((await h.call('PUT', '/clusters/nope/apps/forms', app)).status).toBe(404);
    expect(await operationCount()).toBe(1);
  });

  it('scales within bounds and refuses a target outside them', async () => {
    await deployed();
    const scaled = await h.call('POST', '/clusters/ttd/apps/forms/scale', { replicas: 3 });
    expect(scaled.status).toBe(202);
    expect((await json(scaled)).kind).toBe('app.scale');
    await h.settle();
    expect(h.provider.apps.get('ttd/forms')?.scale.replicas).toBe(3);
    const view = await json(await h.call('GET', '/clusters/ttd/apps/forms'));
    expect(view.spec.replicas).toBe(3);
    for (const body of [{ replicas: 4 }, { replicas: -1 }, { minReplicas: 5 }, {}]) {
      expect((await h.call('POST', '/clusters/ttd/apps/forms/scale', body)).status).toBe(400);
    }
    expect((await h.call('POST', '/clusters/ttd/apps/forms/scale', { replicas: 3 })).status).toBe(200);
  });

  it('rolls back to the previously served release, or a named one; 404 for an unknown one', async () => {
    await deployed();
    await deployed({ ...app, image: 'registry.test/ttd/forms:2.0.0' });
    const back = await h.call('POST', '/clusters/ttd/apps/forms/rollback');
    expect(back.status).toBe(202);
    expect(await json(back)).toMatchObject({ kind: 'app.rollback', revision: 1 });
    await h.settle();
    const applied = h.provider.calls.filter((c) => c.method === 'applyApp').at(-1)?.arg as Record<string, any>;
    expect(applied).toMatchObject({ rollback: true, release: { revision: 1, image: app.image } });
    const view = await json(await h.call('GET', '/clusters/ttd/apps/forms'));
    expect(view.status).toMatchObject({ desiredRevision: 1, servingRevision: 1, phase: 'Ready' });
    const forward = await h.call('POST', '/clusters/ttd/apps/forms/rollback', { revision: 2 });
    expect((await json(forward)).revision).toBe(2);
    await h.settle();
    const unknown = await h.call('POST', '/clusters/ttd/apps/forms/rollback', { revision: 9 });
    expect(unknown.status).toBe(404);
    expect((await h.call('POST', '/clusters/ttd/apps/forms/rollback', { revision: 'x' })).status).toBe(400);
  });

  it('has nothing to roll back to after one release: 404', async () => {
    await deployed();
    expect((await h.call('POST', '/clusters/ttd/apps/forms/rollback')).status).toBe(404);
  });

  it('removes the route before the workload on delete', async () => {
    await deployed();
    expect((await h.call('DELETE', '/clusters/ttd/apps/forms')).status).toBe(202);
    await h.settle();
    expect((await h.call('GET', '/clusters/ttd/apps/forms')).status).toBe(404);
    expect(h.journal.slice(-2)).toEqual(['edge deleteApp ttd/forms', 'provider deleteApp ttd/forms']);
    expect((await h.call('DELETE', '/clusters/ttd/apps/forms')).status).toBe(404);
  });

  it('waits for a cluster that is still provisioning before applying', async () => {
    await h.call('PUT', '/clusters/brg', {});
    h.provider.clusterPolls = 3;
    const operation = await json(await h.call('PUT', '/clusters/brg/apps/forms', app));
    await h.provisioner.reconciler.pass();
    const waiting = await json(await h.call('GET', `/operations/${operation.id}`));
    expect(waiting.conditions).toContainEqual(expect.objectContaining({ reason: 'WaitingForCluster' }));
    expect(h.provider.calls.some((c) => c.method === 'applyApp' && c.target === 'brg/forms')).toBe(false);
    await h.settle();
    expect((await json(await h.call('GET', `/operations/${operation.id}`))).status).toBe('Succeeded');
  });
});
