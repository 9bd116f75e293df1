import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import { principalOf } from '../../../../platform/src/auth/index.js';
import type { BlobStore } from '../../../../platform/src/blob/index.js';
import type { Database } from '../../../../platform/src/db/index.js';
import { Problem } from '../../../../platform/src/errors/index.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import { recordStorageEvent } from '../events/storage-events.js';
import type { InstanceLinks } from '../instances/instance-links.js';
import type { DataElement } from '../models/data-element-schemas.js';
import { type Instance, InstanceParams } from '../models/instance-schemas.js';
import { dataElementRepository } from '../repositories/data-element-repository.js';
import { instanceGuidOf, instanceRepository } from '../repositories/instance-repository.js';
import { storageRepository } from '../repositories/repository.js';
import { callerIdOf } from '../shared/access.js';
import { instanceNotFound, invalidField, problemContent } from '../shared/problems.js';

// Altinn Storage's `POST instances/{partyId}/{guid}/sign` (SignController, SigningService): stores a signature
// document (the signee and the SHA-256 of each signed element) as a locked data element of the signature data type,
// replacing the signee's earlier one, and records a Signed event.

/** Altinn's Signee. */
const Signee = z.looseObject({
  userId: z.string().nullable().optional(),
  systemUserId: z.guid().nullable().optional(),
  personNumber: z.string().nullable().optional(),
  organisationNumber: z.string().nullable().optional(),
});
type Signee = z.infer<typeof Signee>;

/** Altinn's SignRequest as app-lib's SignClient sends it. */
const SignRequest = z
  .looseObject({
    signatureDocumentDataType: z.string().min(1),
    generatedFromTask: z.string().nullable().optional(),
    dataElementSignatures: z
      .array(z.looseObject({ dataElementId: z.guid(), signed: z.boolean() }))
      .nullable()
      .optional(),
    signee: Signee.nullable().optional(),
  })
  .openapi('SignRequest');

const signRoute = createRoute({
  method: 'post',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/sign',
  summary: 'Sign data elements: store a signature document as a data element of `signatureDocumentDataType`',
  request: { params: InstanceParams, body: { required: true, content: json(SignRequest) } },
  responses: {
    201: { description: 'The signature document is created', content: { 'text/plain': { schema: z.string() } } },
    400: { description: 'No signee, or a data type the app does not declare', content: problemContent },
    404: { description: 'No such instance or data element', content: problemContent },
  },
});

const sameSignee = (a: Signee | undefined, b: Signee) =>
  a !== undefined &&
  (a.userId ?? null) === (b.userId ?? null) &&
  (a.systemUserId ?? null) === (b.systemUserId ?? null) &&
  (a.personNumber ?? null) === (b.personNumber ?? null) &&
  (a.organisationNumber ?? null) === (b.organisationNumber ?? null);

async function readAll(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(body).arrayBuffer());
}

/** What the sign route needs. */
interface SignRoutesOptions {
  db: Database;
  blob: BlobStore;
  container: string;
  now: () => Date;
  links: InstanceLinks;
}

/** The SHA-256 (base64) of a data element's content; 404 when the element or its content is gone. */
async function sha256Of(
  { db, blob, container }: SignRoutesOptions,
  instance: Instance,
  dataElementId: string,
): Promise<string> {
  const element = await dataElementRepository(db).findDataElement(instanceGuidOf(instance), dataElementId);
  const content = element && (await blob.download(container, element.blobStoragePath));
  if (!content) throw new Problem(404, { kind: 'not-found', detail: `Data element ${dataElementId} does not exist.` });
  return createHash('sha256')
    .update(await readAll(content.body))
    .digest('base64');
}

/** The signee's earlier signature documents of `dataType` on the instance. */
async function earlierDocuments(
  { db, blob, container }: SignRoutesOptions,
  instance: Instance,
  dataType: string,
  signee: Signee,
): Promise<DataElement[]> {
  const found: DataElement[] = [];
  for (const element of await dataElementRepository(db).listDataElements(instanceGuidOf(instance))) {
    if (element.dataType !== dataType) continue;
    const content = await blob.download(container, element.blobStoragePath);
    if (!content) continue;
    try {
      const document = JSON.parse((await readAll(content.body)).toString('utf8')) as { signeeInfo?: Signee };
      if (sameSignee(document.signeeInfo, signee)) found.push(element);
    } catch {
      // not a signature document: left alone, as Altinn's
    }
  }
  return found;
}

/** Adds `POST instances/{partyId}/{guid}/sign`. */
export function addSignRoutes(api: PlatformApp, options: SignRoutesOptions): void {
  const { db, blob, container, now, links } = options;

  api.openapi(signRoute, async (c) => {
    const { instanceOwnerPartyId: partyId, instanceGuid } = c.req.valid('param');
    const request = c.req.valid('json');
    const signee = request.signee ?? {};
    if (!signee.userId && !signee.systemUserId) {
      throw invalidField('signee', "The 'UserId' or 'SystemUserId' parameter must be defined for signee.");
    }
    const principal = principalOf(c);
    const performedBy = callerIdOf(principal);
    const instance = await instanceRepository(db).findInstance(partyId, instanceGuid.toLowerCase());
    if (!instance) throw instanceNotFound(partyId, instanceGuid);
    const dataType = request.signatureDocumentDataType;
    const [org = '', app = ''] = instance.appId.split('/');
    const application = await storageRepository(db).findApplication(org, app);
    if (!application?.dataTypes?.some((type) => type.id === dataType)) {
      throw invalidField('signatureDocumentDataType', `${dataType} is not a data type of ${instance.appId}`);
    }
    const guid = instanceGuidOf(instance);
    const signedTime = now().toISOString();
    const id = randomUUID();
    const dataElementSignatures = [];
    for (const signature of request.dataElementSignatures ?? []) {
      const dataElementId = signature.dataElementId.toLowerCase();
      dataElementSignatures.push({
        dataElementId,
        sha256Hash: await sha256Of(options, instance, dataElementId),
        signed: signature.signed,
      });
    }
    const signeeInfo = {
      userId: signee.userId ?? null,
      personNumber: signee.personNumber ?? null,
      organisationNumber: signee.organisationNumber ?? null,
      systemUserId: signee.systemUserId ?? null,
    };
    const document = Buffer.from(
      JSON.stringify({ id, instanceGuid: guid, signedTime, signeeInfo, dataElementSignatures }, null, 2),
    );
    const earlier = await earlierDocuments(options, instance, dataType, signeeInfo);
    const blobStoragePath = `${instance.appId}/${guid}/data/${id}`;
    await blob.ensureContainer(container);
    await blob.upload(container, blobStoragePath, Readable.from([document]), { contentType: 'application/json' });
    try {
      await db.transaction(async (tx) => {
        const current = await instanceRepository(tx).lockInstance(partyId, guid);
        if (!current) throw instanceNotFound(partyId, instanceGuid);
        const elements = dataElementRepository(tx);
        const element: DataElement = {
          id,
          instanceGuid: guid,
          dataType,
          filename: `${dataType}.json`,
          contentType: 'application/json',
          blobStoragePath,
          selfLinks: links.element(current.id, current.appId, { id } as DataElement).selfLinks,
          size: document.length,
          contentHash: createHash('md5').update(document).digest('base64'),
          locked: true, // as Altinn's: a signature never changes
          refs: [],
          isRead: true,
          tags: [],
          ...(request.generatedFromTask
            ? { references: [{ relation: 'GeneratedFrom', value: request.generatedFromTask, valueType: 'Task' }] }
            : {}),
          fileScanResult: 'NotApplicable',
          created: signedTime,
          createdBy: performedBy,
          lastChanged: signedTime,
          lastChangedBy: performedBy,
        };
        for (const old of earlier) await elements.deleteDataElement(guid, old.id);
        await elements.insertDataElement(element);
        const replaced = new Set(earlier.map((old) => old.id));
        const data = [...current.data.filter((item) => !replaced.has(String(item.id))), element];
        const updated = { ...current, data, lastChanged: signedTime, lastChangedBy: performedBy };
        await instanceRepository(tx).updateInstance(updated);
        await recordStorageEvent(tx, updated, 'Signed', principal, signedTime);
      });
    } catch (error) {
      await blob.delete(container, blobStoragePath).catch(() => false);
      throw error;
    }
    for (const old of earlier) await blob.delete(container, old.blobStoragePath).catch(() => false);
    return c.text('SignDocument is created', 201);
  });
}
