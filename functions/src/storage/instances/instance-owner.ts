import { isOrganisationNumber, isPersonNumber } from '../../../../platform/src/identifiers/index.js';

/** Who an instance query is about, from `X-Ai-InstanceOwnerIdentifier`. */
export type InstanceOwnerIdentifier = { personNumber: string } | { organisationNumber: string };

/**
 * Reads `Person:<fødselsnummer>` or `Organisation:<organisasjonsnummer>` (prefix in any case); a message saying
 * what is wrong when it is neither.
 */
export function parseInstanceOwnerIdentifier(value: string): InstanceOwnerIdentifier | { error: string } {
  const colon = value.indexOf(':');
  const kind = colon < 0 ? '' : value.slice(0, colon).toLowerCase();
  const number = value.slice(colon + 1);
  if (kind === 'person') {
    return isPersonNumber(number)
      ? { personNumber: number }
      : { error: 'Person: must be followed by an 11-digit fødselsnummer with valid control digits' };
  }
  if (kind === 'organisation') {
    return isOrganisationNumber(number)
      ? { organisationNumber: number }
      : { error: 'Organisation: must be followed by a 9-digit organisasjonsnummer with a valid control digit' };
  }
  return { error: 'must be Person:<fødselsnummer> or Organisation:<organisasjonsnummer>' };
}
