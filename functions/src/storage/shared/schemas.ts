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

/** Text per language, as Altinn's `Dictionary<string, string>` (e.g. `{ "nb": "Søknad" }`). */
const LanguageString = z.record(z.string(), z.string().nullable()).openapi('LanguageString');

// Altinn's Application, DataType and ApplicationLogic carry many more fields than are named here
// (processId, presentationFields, onEntry, enablePdfCreation, shadowFields, ...). Apps send their
// applicationmetadata.json as it is, so fields not named are kept and answered back unchanged. Storage
// validates no more than Altinn's model binding does: what Newtonsoft reads into Altinn's model is accepted.
const ApplicationLogic = z
  .looseObject({
    autoCreate: z.boolean().nullish(),
    classRef: z.string().nullish(),
    schemaRef: z.string().nullish(),
    allowAnonymousOnStateless: z.boolean().optional(),
    autoDeleteOnProcessEnd: z.boolean().optional(),
    disallowUserCreate: z.boolean().optional(),
    disallowUserDelete: z.boolean().optional(),
  })
  .openapi('ApplicationLogic');

/** A nullable .NET `int?`: null is dropped, as Altinn's serializer leaves null members out. */
const OptionalInt = z
  .number()
  .int()
  .nullish()
  .transform((value) => value ?? undefined);

/**
 * One kind of data element an app's instances may hold. `maxCount` and `minCount` are .NET `int`s (0 when left
 * out); a missing or null `allowedContentTypes` is kept as an empty list, which app-lib reads the same way
 * (no restriction).
 */
export const DataType = z
  .looseObject({
    id: z.string().min(1).max(255),
    description: LanguageString.nullish(),
    allowedContentTypes: z
      .array(z.string())
      .nullish()
      .transform((value) => value ?? []),
    maxSize: OptionalInt.openapi({ description: 'Largest element, in MB' }),
    maxCount: z
      .number()
      .int()
      .default(0)
      .openapi({ description: 'Most elements per instance; 0 or less means unlimited' }),
    minCount: z.number().int().default(0),
    taskId: z.string().nullish(),
    appLogic: ApplicationLogic.nullish(),
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
  .looseObject({
    bankruptcyEstate: z.boolean().default(false),
    organisation: z.boolean().default(false),
    person: z.boolean().default(false),
    subUnit: z.boolean().default(false),
  })
  .openapi('PartyTypesAllowed');

const NO_PARTY_TYPES = { bankruptcyEstate: false, organisation: false, person: false, subUnit: false };

const Stamp = z.string().nullable();

/**
 * An Application as callers send it. `id` and `org` may be echoed back but must match the path; the server sets
 * `created`, `createdBy`, `lastChanged` and `lastChangedBy`, so values sent for them are ignored.
 */
export const ApplicationInput = z
  .looseObject({
    id: AppId.optional(),
    org: Name.optional(),
    title: LanguageString.nullish().transform((value) => value ?? {}),
    dataTypes: DataTypes.nullish().transform((value) => value ?? []),
    partyTypesAllowed: PartyTypesAllowed.nullish().transform((value) => value ?? NO_PARTY_TYPES),
    validFrom: z.string().nullish(),
    validTo: z.string().nullish(),
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
    validFrom: z.string().nullish(),
    validTo: z.string().nullish().openapi({ description: 'Set when the application is deleted (soft delete)' }),
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

// Texts are read as Altinn's Newtonsoft model reads them: members it does not know are dropped, not refused.
const TextVariable = z
  .object({ key: z.string().nullish(), dataSource: z.string().nullish(), defaultValue: z.string().nullish() })
  .openapi('TextResourceVariable');

const TextResourceElement = z
  .object({ id: z.string().min(1), value: z.string().nullish(), variables: z.array(TextVariable).nullish() })
  .openapi('TextResourceElement');

const TextResources = z.array(TextResourceElement).superRefine((resources, ctx) => {
  const seen = new Set<string>();
  resources.forEach((resource, index) => {
    if (seen.has(resource.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: 'duplicate text id' });
    seen.add(resource.id);
  });
});

/**
 * An app's texts in one language as callers send them. `language` names the language (on PUT it must match the
 * path); `id` and `org` are set by the server from the path, as Altinn's, and timestamps sent back are ignored.
 */
export const TextResourceInput = z
  .object({
    id: z.string().nullish(),
    org: z.string().nullish(),
    language: Language.optional(),
    resources: TextResources.nullish().transform((value) => value ?? []),
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
