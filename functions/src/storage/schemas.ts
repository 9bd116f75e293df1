import { z } from '@hono/zod-openapi';

/** An org or app name: a DNS-1123 label (lower case letters, digits, inner '-', at most 63 characters). */
export const Name = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label: a-z, 0-9 and inner -, at most 63');

/** A two-letter ISO 639-1 language code, e.g. `nb`. */
export const Language = z.string().regex(/^[a-z]{2}$/, 'must be a two-letter ISO 639-1 language code, e.g. nb');

/** `{org}/{app}` as Altinn's `appId` query parameter and `Application.id` spell it. */
export const AppId = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
  message: 'must be {org}/{app}, each a DNS-1123 label',
});

/** Path parameters naming one org. */
export const OrgParams = z.strictObject({ org: Name });

/** Path parameters naming one app. */
export const AppParams = z.strictObject({ org: Name, app: Name });

/** Path parameters naming one app's texts in one language. */
export const TextParams = z.strictObject({ org: Name, app: Name, language: Language });

const LanguageString = z.record(Language, z.string().min(1)).openapi('LanguageString');

const ContentType = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9*][A-Za-z0-9!#$&^_.+*-]*$/, 'must look like type/subtype');

// Altinn's Application, DataType and ApplicationLogic carry many more fields than are named here
// (processId, presentationFields, onEntry, enablePdfCreation, shadowFields, ...). Apps send their
// applicationmetadata.json as it is, so fields not named are kept and answered back unchanged.
const ApplicationLogic = z
  .looseObject({
    autoCreate: z.boolean().optional(),
    classRef: z.string().optional(),
    schemaRef: z.string().optional(),
    allowAnonymousOnStateless: z.boolean().optional(),
    autoDeleteOnProcessEnd: z.boolean().optional(),
    disallowUserCreate: z.boolean().optional(),
    disallowUserDelete: z.boolean().optional(),
  })
  .openapi('ApplicationLogic');

/** One kind of data element an app's instances may hold. */
export const DataType = z
  .looseObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'must be 1-100 of A-Z, a-z, 0-9, ., _ and -'),
    description: LanguageString.optional(),
    allowedContentTypes: z.array(ContentType),
    maxSize: z.number().int().positive().optional().openapi({ description: 'Largest element, in MB' }),
    maxCount: z.number().int().openapi({ description: 'Most elements per instance; 0 or less means unlimited' }),
    minCount: z.number().int().nonnegative(),
    taskId: z.string().min(1).optional(),
    appLogic: ApplicationLogic.optional(),
  })
  .superRefine((dataType, ctx) => {
    if (dataType.maxCount > 0 && dataType.minCount > dataType.maxCount) {
      ctx.addIssue({ code: 'custom', path: ['minCount'], message: 'must not exceed maxCount when maxCount > 0' });
    }
  })
  .openapi('DataType');

const DataTypes = z.array(DataType).superRefine((dataTypes, ctx) => {
  const seen = new Set<string>();
  dataTypes.forEach((dataType, index) => {
    if (seen.has(dataType.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: 'duplicate data type id' });
    seen.add(dataType.id);
  });
});

const PartyTypesAllowed = z
  .strictObject({
    bankruptcyEstate: z.boolean().default(false),
    organisation: z.boolean().default(false),
    person: z.boolean().default(false),
    subUnit: z.boolean().default(false),
  })
  .openapi('PartyTypesAllowed');

const Stamp = z.string().nullable();

/**
 * An Application as callers send it. `id` and `org` may be echoed back but must match the path; the server sets
 * `created`, `createdBy`, `lastChanged` and `lastChangedBy`, so values sent for them are ignored.
 */
export const ApplicationInput = z
  .looseObject({
    id: AppId.optional(),
    org: Name.optional(),
    title: LanguageString.default({}),
    dataTypes: DataTypes.default([]),
    partyTypesAllowed: PartyTypesAllowed.default({
      bankruptcyEstate: false,
      organisation: false,
      person: false,
      subUnit: false,
    }),
    created: Stamp.optional(),
    createdBy: Stamp.optional(),
    lastChanged: Stamp.optional(),
    lastChangedBy: Stamp.optional(),
  })
  .openapi('ApplicationInput');

/** What callers send for an Application. */
export type ApplicationInput = z.infer<typeof ApplicationInput>;

/** An app's metadata as stored and answered (Altinn Storage's Application). */
export const Application = z
  .looseObject({
    id: z.string(),
    org: z.string(),
    title: LanguageString,
    dataTypes: z.array(DataType),
    partyTypesAllowed: PartyTypesAllowed,
    created: z.string(),
    createdBy: Stamp,
    lastChanged: z.string(),
    lastChangedBy: Stamp,
  })
  .openapi('Application');

/** An app's metadata as stored and answered. */
export type Application = z.infer<typeof Application>;

/** Every app of one org. */
export const ApplicationList = z.object({ applications: z.array(Application) }).openapi('ApplicationList');

const TextVariable = z
  .strictObject({ key: z.string().min(1), dataSource: z.string().min(1), defaultValue: z.string().optional() })
  .openapi('TextResourceVariable');

const TextResourceElement = z
  .strictObject({ id: z.string().min(1), value: z.string(), variables: z.array(TextVariable).optional() })
  .openapi('TextResourceElement');

const TextResources = z.array(TextResourceElement).superRefine((resources, ctx) => {
  const seen = new Set<string>();
  resources.forEach((resource, index) => {
    if (seen.has(resource.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: 'duplicate text id' });
    seen.add(resource.id);
  });
});

/**
 * An app's texts in one language as callers send them. `id`, `org` and `language` may be echoed back but must
 * match the path; server-set timestamps sent back are ignored.
 */
export const TextResourceInput = z
  .strictObject({
    id: z.string().optional(),
    org: Name.optional(),
    language: Language.optional(),
    resources: TextResources,
    created: Stamp.optional(),
    createdBy: Stamp.optional(),
    lastChanged: Stamp.optional(),
    lastChangedBy: Stamp.optional(),
  })
  .openapi('TextResourceInput');

/** What callers send for an app's texts. */
export type TextResourceInput = z.infer<typeof TextResourceInput>;

/** An app's texts in one language as stored and answered (Altinn Storage's TextResource; `id` is `org-app-language`). */
export const TextResource = z
  .object({
    id: z.string(),
    org: z.string(),
    language: z.string(),
    resources: z.array(TextResourceElement),
    created: z.string(),
    createdBy: Stamp,
    lastChanged: z.string(),
    lastChangedBy: Stamp,
  })
  .openapi('TextResource');

/** An app's texts in one language as stored and answered. */
export type TextResource = z.infer<typeof TextResource>;
