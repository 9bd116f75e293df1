import { z } from '@hono/zod-openapi';
import { organisationNumberError, personNumberError } from '../../../platform/src/identifiers/index.js';

/** Altinn's PartyType: 1 person, 2 organisation, 3 self-identified, 4 sub-unit, 5 bankruptcy estate. */
export const PARTY_TYPES = { person: 1, organisation: 2, selfIdentified: 3, subUnit: 4, bankruptcyEstate: 5 } as const;

/** One of the PARTY_TYPES numbers. */
export type PartyType = (typeof PARTY_TYPES)[keyof typeof PARTY_TYPES];

const text = z.string().nullable();

/** A person as the national population register knows them (Altinn's Person). */
export const Person = z
  .object({
    ssn: z.string(),
    name: z.string(),
    firstName: text,
    middleName: text,
    lastName: z.string(),
    telephoneNumber: text,
    mobileNumber: text,
    mailingAddress: text,
    mailingPostalCode: text,
    mailingPostalCity: text,
    addressMunicipalNumber: text,
    addressMunicipalName: text,
    addressStreetName: text,
    addressHouseNumber: text,
    addressHouseLetter: text,
    addressPostalCode: text,
    addressCity: text,
    dateOfDeath: text,
  })
  .openapi('Person');
export type Person = z.infer<typeof Person>;

/** An organisation (or sub-unit, or bankruptcy estate) as the central coordinating register knows it. */
export const Organization = z
  .object({
    orgNumber: z.string(),
    name: z.string(),
    unitType: text,
    telephoneNumber: text,
    mobileNumber: text,
    faxNumber: text,
    eMailAddress: text,
    internetAddress: text,
    mailingAddress: text,
    mailingPostalCode: text,
    mailingPostalCity: text,
    businessAddress: text,
    businessPostalCode: text,
    businessPostalCity: text,
    unitStatus: text,
  })
  .openapi('Organization');
export type Organization = z.infer<typeof Organization>;

/** The detail fields of Person kept in a party's `details` (the rest have columns). */
export const PERSON_DETAILS = [
  'telephoneNumber',
  'mobileNumber',
  'mailingAddress',
  'mailingPostalCode',
  'mailingPostalCity',
  'addressMunicipalNumber',
  'addressMunicipalName',
  'addressStreetName',
  'addressHouseNumber',
  'addressHouseLetter',
  'addressPostalCode',
  'addressCity',
  'dateOfDeath',
] as const;

/** The detail fields of Organization kept in a party's `details`. */
export const ORGANIZATION_DETAILS = [
  'telephoneNumber',
  'mobileNumber',
  'faxNumber',
  'eMailAddress',
  'internetAddress',
  'mailingAddress',
  'mailingPostalCode',
  'mailingPostalCity',
  'businessAddress',
  'businessPostalCode',
  'businessPostalCity',
  'unitStatus',
] as const;

const partyFields = {
  partyId: z.number().int(),
  partyUuid: z.string(),
  partyTypeName: z.number().int().min(1).max(5).openapi({
    description: '1 person, 2 organisation, 3 self-identified, 4 sub-unit, 5 bankruptcy estate',
  }),
  orgNumber: text,
  ssn: text,
  unitType: text,
  name: z.string(),
  isDeleted: z.boolean(),
  onlyHierarchyElementWithNoAccess: z.boolean(),
  person: Person.nullable(),
  organization: Organization.nullable(),
};

/** A sub-unit as listed in its parent's `childParties`. */
export const ChildParty = z.object({ ...partyFields, childParties: z.null() }).openapi('ChildParty');
export type ChildParty = z.infer<typeof ChildParty>;

/** Altinn's Party: a person, organisation, self-identified user, sub-unit or bankruptcy estate. */
export const Party = z.object({ ...partyFields, childParties: z.array(ChildParty).nullable() }).openapi('Party');
export type Party = z.infer<typeof Party>;

/** Path parameter of `parties/{partyId}`. */
export const PartyIdParams = z.strictObject({
  partyId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).openapi({ type: 'integer' }),
});

/**
 * Body of `parties/lookup`: exactly one of `ssn` and `orgNo`. App-lib serializes Altinn's PartyLookup with both
 * members, the unused one `null` (`{"ssn":null,"orgNo":"310500003"}`), so null counts as absent.
 */
export const PartyLookup = z
  .strictObject({
    ssn: checkedString(personNumberError).nullable().optional(),
    orgNo: checkedString(organisationNumberError).nullable().optional(),
  })
  .refine((body) => (body.ssn == null) !== (body.orgNo == null), {
    message: 'give exactly one of ssn and orgNo',
  })
  .openapi('PartyLookup');

/** Body of `parties/partylist`: party ids. */
export const PartyIds = z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(1000);

/** A string checked by `error` (e.g. a mod-11 check), which says what is wrong or undefined when nothing is. */
export function checkedString(error: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const problem = error(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** Path parameter of `organizations/{orgNr}`. */
export const OrgNrParams = z.strictObject({ orgNr: checkedString(organisationNumberError) });
