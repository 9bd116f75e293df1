import { describe, expect, it } from 'vitest';
import { openStorageHarness } from '../../../test/support/storage.js';
import { apiDefinitions } from '../apis.js';
import { STORAGE_PREFIX } from './index.js';

describe('storage API', () => {
  it('is registered as the storage API under /storage/api/v1', () => {
    expect(apiDefinitions.find((api) => api.name === 'storage')?.prefix).toBe('/storage/api/v1');
  });

  it('describes every storage path and method in /storage/api/v1/openapi.json', async () => {
    const storage = await openStorageHarness();
    try {
      const response = await storage.call('GET', 'openapi.json');
      expect(response.status).toBe(200);
      const doc = (await response.json()) as { info: { title: string }; paths: Record<string, object> };
      expect(doc.info.title).toMatch(/Storage/);
      const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
      );
      const base = STORAGE_PREFIX;
      expect(operations.sort()).toEqual(
        [
          `POST ${base}/applications`,
          `POST ${base}/applications/{org}/{app}`,
          `GET ${base}/applications/{org}/{app}`,
          `PUT ${base}/applications/{org}/{app}`,
          `DELETE ${base}/applications/{org}/{app}`,
          `GET ${base}/applications/{org}`,
          `GET ${base}/applications`,
          `POST ${base}/applications/{org}/{app}/texts`,
          `POST ${base}/applications/{org}/{app}/texts/{language}`,
          `GET ${base}/applications/{org}/{app}/texts/{language}`,
          `PUT ${base}/applications/{org}/{app}/texts/{language}`,
          `DELETE ${base}/applications/{org}/{app}/texts/{language}`,
          `POST ${base}/instances`,
          `GET ${base}/instances`,
          `GET ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}`,
          `DELETE ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/process`,
          `GET ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/process/history`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/readstatus`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/substatus`,
          `POST ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/complete`,
          `POST ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/events`,
          `GET ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/events`,
          `GET ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/events/{eventGuid}`,
          `POST ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/data`,
          `GET ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/dataelements`,
          `GET ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}`,
          `DELETE ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}/lock`,
          `DELETE ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/data/{dataGuid}/lock`,
          `POST ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/lock`,
          `PATCH ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/lock`,
          `POST ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/sign`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/dataelements/{dataGuid}`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/datavalues`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/presentationtexts`,
          `PUT ${base}/instances/{instanceOwnerPartyId}/{instanceGuid}/process/instanceandevents`,
        ].sort(),
      );
    } finally {
      await storage.close();
    }
  });

  it('answers unknown storage paths with 401 without a token and a 404 problem with one', async () => {
    const storage = await openStorageHarness();
    try {
      const anonymous = await storage.call('GET', 'nothing', undefined, { authorization: '' });
      expect(anonymous.status).toBe(401);
      const response = await storage.call('GET', 'nothing');
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    } finally {
      await storage.close();
    }
  });

  it("serves its OpenAPI description and application metadata without a token (Altinn's anonymous reads), texts only with one", async () => {
    const storage = await openStorageHarness();
    try {
      expect((await storage.call('GET', 'openapi.json', undefined, { authorization: '' })).status).toBe(200);
      expect((await storage.call('GET', 'applications/ttd', undefined, { authorization: '' })).status).toBe(200);
      expect((await storage.call('GET', 'applications/ttd/x/texts/nb', undefined, { authorization: '' })).status).toBe(
        401,
      );
      expect((await storage.call('POST', 'applications?appId=ttd/x', {}, { authorization: '' })).status).toBe(401);
    } finally {
      await storage.close();
    }
  });
});
