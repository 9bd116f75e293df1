import { z } from '@hono/zod-openapi';
import { personNumberError } from '../../../platform/src/identifiers/index.js';
import { checkedString, Party } from '../register/schemas.js';

/** The languages a user may choose, as Altinn's profile settings. */
export const LANGUAGES = ['nb', 'nn', 'en'] as const;

/** A user's own settings. */
export const ProfileSettingPreference = z
  .object({
    language: z.enum(LANGUAGES),
    preSelectedPartyId: z
      .number()
      .int()
      .openapi({ description: "The preselected party's id; 0 when none (an int, as Altinn's model)" }),
    doNotPromptForParty: z.boolean(),
  })
  .openapi('ProfileSettingPreference');

/** Altinn's UserProfile: the user, their own party and their settings. */
export const UserProfile = z
  .object({
    userId: z.number().int(),
    userUuid: z.string(),
    userName: z.string().nullable(),
    isReserved: z.boolean(),
    phoneNumber: z.string().nullable(),
    email: z.string().nullable(),
    partyId: z.number().int(),
    party: Party,
    userType: z
      .number()
      .int()
      .openapi({ description: '1 identified by fødselsnummer, 2 self-identified, 3 enterprise' }),
    profileSettingPreference: ProfileSettingPreference,
  })
  .openapi('UserProfile');
export type UserProfile = z.infer<typeof UserProfile>;

/** Body of the settings update: the settings to change; those left out are kept. */
export const ProfileSettingUpdate = z
  .strictObject({
    language: z.enum(LANGUAGES, { error: `must be one of ${LANGUAGES.join(', ')}` }).optional(),
    preSelectedPartyId: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .nullable()
      .optional()
      .openapi({ description: 'A party the user may represent; 0 or null clears it' }),
    doNotPromptForParty: z.boolean().optional(),
  })
  .openapi('ProfileSettingUpdate');
export type ProfileSettingUpdate = z.infer<typeof ProfileSettingUpdate>;

/** Body of `POST users`: the fødselsnummer as a JSON string. */
export const SsnBody = checkedString(personNumberError).openapi({ example: '01817550181' });

/** Path parameter of `users/{userId}`. */
export const UserIdParams = z.strictObject({
  userId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).openapi({ type: 'integer' }),
});

/** Path parameter of `users/byuuid/{userUuid}`. */
export const UserUuidParams = z.strictObject({ userUuid: z.uuid({ error: 'must be a UUID' }) });
