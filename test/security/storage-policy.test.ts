import { describe, expect, it } from 'vitest';
import { bearer, jsonBody, TTD, USERS, useReplayHost } from '../altinn/harness.js';

/**
 * Storage asks the app's policy for an end user's access to another party's instances, as Altinn Storage asks its
 * PEP: holding some role for the party is not enough. Ola is REGN (accountant) for DDG Fitness AS; the app's policy
 * names only DAGL and PRIV, so he may neither read nor move its instances, while Sophie, DAGL there, may.
 */

const host = useReplayHost();
const APP = 'policyguard';
const DDG = 500000;
const POLICY = {
  rules: [
    {
      id: 'end-users',
      subjects: ['DAGL', 'PRIV'],
      actions: ['instantiate', 'read', 'write'],
      resources: [{ org: TTD.org, app: APP }],
    },
    {
      id: 'app-owner',
      subjects: ['urn:altinn:org'],
      actions: ['read', 'write'],
      resources: [{ org: TTD.org, app: APP }],
    },
  ],
};

async function deployAndCreate(): Promise<string> {
  const org = await host.orgToken();
  const meta = jsonBody({ dataTypes: [{ id: 'model', allowedContentTypes: ['application/xml'] }] });
  const app = await host.send('POST', `/storage/api/v1/applications/${TTD.org}/${APP}`, {
    headers: { ...bearer(org), ...meta.headers },
    body: meta.body,
  });
  expect(app.status).toBeLessThan(300);
  const policy = jsonBody(POLICY);
  const stored = await host.send('PUT', `/authorization/api/v1/policies/${TTD.org}/${APP}`, {
    headers: { ...bearer(org), ...policy.headers },
    body: policy.body,
  });
  expect(stored.status).toBe(200);
  const template = jsonBody({ instanceOwner: { partyId: String(DDG) } });
  const created = await host.send('POST', `/storage/api/v1/instances?appId=${TTD.org}/${APP}`, {
    headers: { ...bearer(org), ...template.headers },
    body: template.body,
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { id: string }).id;
}

describe("Storage asks the app's policy for another party's instances", () => {
  it('refuses a role the policy does not name (REGN), for reads and process writes, and leaves the instance as it was', async () => {
    const id = await deployAndCreate();
    const ola = await host.userToken(USERS.ola.ssn);
    const sophie = await host.userToken(USERS.sophie.ssn);

    expect((await host.send('GET', `/storage/api/v1/instances/${id}`, { headers: bearer(ola) })).status).toBe(403);
    const state = jsonBody({
      state: { started: new Date().toISOString(), currentTask: { elementId: 'Task_1', flow: 2 } },
      events: [],
    });
    const moved = await host.send('PUT', `/storage/api/v1/instances/${id}/process/instanceandevents`, {
      headers: { ...bearer(ola), ...state.headers },
      body: state.body,
    });
    expect(moved.status).toBe(403);
    expect(moved.headers.get('content-type')).toBe('application/problem+json');

    const read = await host.send('GET', `/storage/api/v1/instances/${id}`, { headers: bearer(sophie) });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { process?: { currentTask?: unknown } }).process?.currentTask).toBeUndefined();
  });

  it('lets the role the policy names (DAGL) read and write', async () => {
    const id = await deployAndCreate();
    const sophie = await host.userToken(USERS.sophie.ssn);
    const state = jsonBody({
      state: { started: new Date().toISOString(), currentTask: { elementId: 'Task_1', flow: 2 } },
      events: [],
    });
    const moved = await host.send('PUT', `/storage/api/v1/instances/${id}/process/instanceandevents`, {
      headers: { ...bearer(sophie), ...state.headers },
      body: state.body,
    });
    expect(moved.status).toBe(200);
  });
});
