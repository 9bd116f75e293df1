import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openProvisionerHarness, type ProvisionerHarness } from '../../../test/support/provisioner.js';

let h: ProvisionerHarness;
beforeEach(async () => {
  h = await openProvisionerHarness();
});
afterEach(async () => {
  await h.close();
});

const app = { image: 'registry.test/ttd/forms:1.0.0', minReplicas: 2, maxReplicas: 2 };

async function view(): Promise<Record<string, any>> {
  return (await (await h.call('GET', '/clusters/ttd/apps/forms')).json()) as Record<string, any>;
}

describe("an app's view tells the health of its serving and desired release", () => {
  it('counts unknown replicas as null while old ones run, and both releases once the new one serves', async () => {
    expect((await h.call('PUT', '/clusters/ttd', {})).status).toBe(202);
    await h.settle();
    expect((await h.call('PUT', '/clusters/ttd/apps/forms', app)).status).toBe(202);
    await h.settle();
    expect((await view()).status.health).toEqual({
      serving: { revision: 1, replicas: 2, readyReplicas: 2 },
      desired: { revision: 1, replicas: 2, readyReplicas: 2 },
    });
    h.provider.rolloutPolls = Number.POSITIVE_INFINITY;
    expect(
      (await h.call('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:2.0.0' })).status,
    ).toBe(202);
    await h.provisioner.reconciler.pass();
    // The scripted provider gives only totals: with old replicas running, whose ready ones they are is unknown.
    expect((await view()).status.health).toEqual({
      serving: { revision: 1, replicas: null, readyReplicas: null },
      desired: { revision: 2, replicas: 0, readyReplicas: null },
    });
    h.provider.rolloutPolls = 1;
    await h.settle();
    expect((await view()).status.health).toEqual({
      serving: { revision: 2, replicas: 2, readyReplicas: 2 },
      desired: { revision: 2, replicas: 2, readyReplicas: 2 },
    });
  });

  it("uses the provider's counts per release when it gives them", async () => {
    expect((await h.call('PUT', '/clusters/ttd', {})).status).toBe(202);
    await h.settle();
    expect((await h.call('PUT', '/clusters/ttd/apps/forms', app)).status).toBe(202);
    await h.settle();
    h.provider.rolloutPolls = Number.POSITIVE_INFINITY;
    expect(
      (await h.call('PUT', '/clusters/ttd/apps/forms', { ...app, image: 'registry.test/ttd/forms:2.0.0' })).status,
    ).toBe(202);
    await h.provisioner.reconciler.pass();
    const rolloutStatus = h.provider.rolloutStatus.bind(h.provider);
    h.provider.rolloutStatus = async (org, name) => ({
      ...(await rolloutStatus(org, name)),
      releases: [
        { revision: 2, replicas: 1, readyReplicas: 0 },
        { revision: 1, replicas: 2, readyReplicas: 2 },
      ],
    });
    expect((await view()).status.health).toEqual({
      serving: { revision: 1, replicas: 2, readyReplicas: 2 },
      desired: { revision: 2, replicas: 1, readyReplicas: 0 },
    });
  });
});
