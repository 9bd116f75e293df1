import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, jsonBody, TTD, USERS, useReplayHost } from './harness.js';

/**
 * Replays of the Storage calls not walked elsewhere: InstanceClient.UpdateProcess and UpdateSubstatus,
 * DataClient.GetBinaryDataList and UnlockDataElement, and the Fiks arkiv client's instance calls (an org's
 * Maskinporten token), each raw as app-lib v8.12.7 builds it.
 */

const host = useReplayHost();
const S = '/storage/api/v1';
const APP = 'clientsreplay';
/** `HttpClient` defaults of app-lib's clients. */
const APPLIB = { Accept: 'application/json', 'Ocp-Apim-Subscription-Key': 'replay' };

type Json = Record<string, unknown>;

let org: string;
let user: string;

async function newInstance(): Promise<string> {
  const response = await host.send('POST', `${S}/instances?appId=${TTD.org}/${APP}`, {
    ...jsonBody({ instanceOwner: { partyId: String(USERS.sophie.partyId) } }),
    headers: { ...jsonBody({}).headers, ...bearer(org) },
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

/** DataClient.InsertBinaryData / FiksArkivInstanceClient.InsertBinaryData: raw bytes, Content-Disposition filename. */
function insert(instanceId: string, token: string, query = 'dataType=attachment') {
  return host.send('POST', `${S}/instances/${instanceId}/data?${query}`, {
    headers: {
      ...APPLIB,
      ...bearer(token),
      'Content-Type': 'application/pdf',
      'Content-Disposition': 'attachment; filename=arkiv.pdf',
    },
    body: '%PDF-1.4 replay',
  });
}

beforeAll(async () => {
  org = await host.orgToken();
  user = await host.userToken(USERS.sophie.ssn);
  const metadata = jsonBody({ dataTypes: [{ id: 'attachment', allowedContentTypes: ['application/pdf'] }] });
  const deployed = await host.send('POST', `${S}/applications/${TTD.org}/${APP}`, {
    headers: { ...metadata.headers, ...bearer(org) },
    body: metadata.body,
  });
  expect(deployed.status).toBeLessThan(300);
});

describe('InstanceClient', () => {
  // app-lib v8.12.7 src/Altinn.App.Core/Infrastructure/Clients/Storage/InstanceClient.cs UpdateProcess
  // (PUT instances/{instance.Id}/process with the ProcessState as JSON, the user's token)
  it('UpdateProcess: 200 with the instance carrying the new process state', async () => {
    const id = await newInstance();
    const state = {
      started: '2026-12-01T10:00:00Z',
      currentTask: { elementId: 'Task_1', flow: 2, altinnTaskType: 'data' },
    };
    const response = await host.send('PUT', `${S}/instances/${id}/process`, {
      headers: { ...APPLIB, ...bearer(user), 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(state),
    });
    expect(response.status).toBe(200);
    const instance = (await response.json()) as { process: { currentTask: { elementId: string } } };
    expect(instance.process.currentTask.elementId).toBe('Task_1');
  });

  // app-lib v8.12.7 src/Altinn.App.Core/Infrastructure/Clients/Storage/InstanceClient.cs UpdateSubstatus
  // (PUT instances/{p}/{g}/substatus with Substatus { label, description }, a service owner's token)
  it('UpdateSubstatus: 200 with status.substatus; an end user is refused 403', async () => {
    const id = await newInstance();
    const body = JSON.stringify({ label: 'received', description: 'Received by the archive' });
    const headers = { ...APPLIB, 'Content-Type': 'application/json; charset=utf-8' };
    const response = await host.send('PUT', `${S}/instances/${id}/substatus`, {
      headers: { ...headers, ...bearer(org) },
      body,
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: { substatus: Json } }).status.substatus).toEqual({
      label: 'received',
      description: 'Received by the archive',
    });
    const refused = await host.send('PUT', `${S}/instances/${id}/substatus`, {
      headers: { ...headers, ...bearer(user) },
      body,
    });
    expect(refused.status).toBe(403);
  });
});

describe('DataClient', () => {
  // app-lib v8.12.7 src/Altinn.App.Core/Infrastructure/Clients/Storage/DataClient.cs GetBinaryDataList
  // (GET instances/{p}/{g}/dataelements; reads dataElements[].id, dataType, contentType, filename)
  it('GetBinaryDataList: 200 with dataElements', async () => {
    const id = await newInstance();
    expect((await insert(id, org)).status).toBe(201);
    const response = await host.send('GET', `${S}/instances/${id}/dataelements`, {
      headers: { ...APPLIB, ...bearer(user) },
    });
    expect(response.status).toBe(200);
    const { dataElements } = (await response.json()) as { dataElements: { dataType: string; filename: string }[] };
    expect(dataElements.map((element) => [element.dataType, element.filename])).toEqual([['attachment', 'arkiv.pdf']]);
  });

  // app-lib v8.12.7 src/Altinn.App.Core/Infrastructure/Clients/Storage/DataClient.cs LockDataElement, then
  // UnlockDataElement (DELETE {ApiStorageEndpoint}instances/{p}/{g}/data/{dataGuid}/lock; reads the DataElement)
  it('UnlockDataElement: 200 with locked false after a lock', async () => {
    const id = await newInstance();
    const element = (await (await insert(id, org)).json()) as { id: string };
    const lockPath = `${S}/instances/${id}/data/${element.id}/lock`;
    const locked = await host.send('PUT', lockPath, { headers: { ...APPLIB, ...bearer(user) } });
    expect([200, 201]).toContain(locked.status);
    expect(((await locked.json()) as { locked: boolean }).locked).toBe(true);
    const unlocked = await host.send('DELETE', lockPath, { headers: { ...APPLIB, ...bearer(user) } });
    expect(unlocked.status).toBe(200);
    expect(((await unlocked.json()) as { locked: boolean }).locked).toBe(false);
  });
});

describe('FiksArkivInstanceClient (an org token)', () => {
  // app-lib v8.12.7 src/Altinn.App.Clients.Fiks/FiksArkiv/FiksArkivInstanceClient.cs GetInstance,
  // InsertBinaryData, DeleteBinaryData and MarkInstanceComplete, in the order the arkiv flow calls them
  it('GetInstance, InsertBinaryData, DeleteBinaryData and MarkInstanceComplete answer as app-lib expects', async () => {
    const id = await newInstance();
    const read = await host.send('GET', `${S}/instances/${id}`, { headers: { ...APPLIB, ...bearer(org) } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { id: string }).id).toBe(id);
    const inserted = await insert(id, org, 'dataType=attachment&generatedFromTask=Task_1');
    expect(inserted.status).toBe(201);
    const element = (await inserted.json()) as { id: string };
    const removed = await host.send('DELETE', `${S}/instances/${id}/data/${element.id}`, {
      headers: { ...APPLIB, ...bearer(org) },
    });
    expect(removed.status).toBe(200);
    const complete = await host.send('POST', `${S}/instances/${id}/complete`, {
      headers: { ...APPLIB, ...bearer(org) },
    });
    expect(complete.status).toBe(200);
    const confirmations = ((await complete.json()) as { completeConfirmations: { stakeholderId: string }[] })
      .completeConfirmations;
    expect(confirmations.map((confirmation) => confirmation.stakeholderId)).toEqual([TTD.org]);
  });
});
