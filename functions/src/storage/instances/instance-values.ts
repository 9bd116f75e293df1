import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import type { Database } from '../../../../platform/src/db/index.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import { Instance, InstanceParams } from '../models/instance-schemas.js';
import { instanceRepository } from '../repositories/instance-repository.js';
import { instanceChanged, instanceNotFound, problemContent } from '../shared/problems.js';
import { instanceEtag } from './instance-etag.js';
import type { InstanceLinks } from './instance-links.js';

// An instance's presentation texts and data values (Altinn's PresentationTexts and DataValues): string maps the app
// keeps up to date; a key sent with an empty or null value is removed.

const StringMap = z.record(z.string(), z.string().nullable());

const routeOf = (segment: 'presentationtexts' | 'datavalues', field: 'texts' | 'values', name: string) =>
  createRoute({
    method: 'put',
    path: `/instances/{instanceOwnerPartyId}/{instanceGuid}/${segment}`,
    summary: `Merge ${field} into the instance's ${name}; a key with an empty or null value is removed`,
    request: {
      params: InstanceParams,
      body: { required: true, content: json(z.looseObject({ [field]: StringMap }).openapi(name)) },
    },
    responses: {
      200: { description: 'The updated instance', content: json(Instance) },
      400: { description: `Invalid path, or no ${field} map`, content: problemContent },
      404: { description: 'No such instance', content: problemContent },
    },
  });

/** `map` with `changes` merged in: keys with an empty or null value removed, others set. */
function merged(map: unknown, changes: Record<string, string | null>): Record<string, string> {
  const result: Record<string, string> = { ...((map ?? {}) as Record<string, string>) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === '') delete result[key];
    else result[key] = value;
  }
  return result;
}

/** Adds `PUT instances/{partyId}/{guid}/presentationtexts` and `.../datavalues`. */
export function addInstanceValueRoutes(api: PlatformApp, options: { db: Database; links: InstanceLinks }): void {
  const { db, links } = options;

  const merge = (
    partyId: string,
    instanceGuid: string,
    field: 'presentationTexts' | 'dataValues',
    changes: Record<string, string | null>,
  ) =>
    db.transaction(async (tx) => {
      const repository = instanceRepository(tx);
      const found = await repository.lockVersionedInstance(partyId, instanceGuid.toLowerCase());
      if (!found) throw instanceNotFound(partyId, instanceGuid);
      // As Altinn's: only the map changes, lastChanged stays (these are the app's bookkeeping, not the user's).
      const instance: Instance = { ...found.instance, [field]: merged(found.instance[field], changes) };
      const version = await repository.updateInstance(instance, found.version);
      if (version === undefined) throw instanceChanged(partyId, instanceGuid);
      return { instance, etag: instanceEtag(version) };
    });

  const texts = routeOf('presentationtexts', 'texts', 'PresentationTexts');
  api.openapi(texts, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const updated = await merge(
      instanceOwnerPartyId,
      instanceGuid,
      'presentationTexts',
      c.req.valid('json').texts ?? {},
    );
    return c.json(links.instance(updated.instance), 200, { ETag: updated.etag });
  });

  const values = routeOf('datavalues', 'values', 'DataValues');
  api.openapi(values, async (c) => {
    const { instanceOwnerPartyId, instanceGuid } = c.req.valid('param');
    const updated = await merge(instanceOwnerPartyId, instanceGuid, 'dataValues', c.req.valid('json').values ?? {});
    return c.json(links.instance(updated.instance), 200, { ETag: updated.etag });
  });
}
