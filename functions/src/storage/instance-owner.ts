/** A mod-11 control digit over `digits` with `weights`; undefined when the remainder makes it 10 (no valid digit). */
function controlDigit(digits: readonly number[], weights: readonly number[]): number | undefined {
  const sum = weights.reduce((total, weight, index) => total + weight * (digits[index] ?? 0), 0);
  const control = (11 - (sum % 11)) % 11;
  return control === 10 ? undefined : control;
}

const digitsOf = (value: string) => [...value].map(Number);

/**
 * Whether `value` is a Norwegian fødselsnummer (or D-number, or synthetic test number): 11 digits whose two last
 * digits are the mod-11 control digits of the ones before them. The date part is not checked.
 */
export function isPersonNumber(value: string): boolean {
  if (!/^\d{11}$/.test(value)) return false;
  const digits = digitsOf(value);
  return (
    controlDigit(digits, [3, 7, 6, 1, 8, 9, 4, 5, 2]) === digits[9] &&
    controlDigit(digits, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) === digits[10]
  );
}

/** Whether `value` is a Norwegian organisasjonsnummer: 9 digits, the last the mod-11 control digit of the rest. */
export function isOrganisationNumber(value: string): boolean {
  if (!/^\d{9}$/.test(value)) return false;
  const digits = digitsOf(value);
  return controlDigit(digits, [3, 2, 7, 6, 5, 4, 3, 2]) === digits[8];
}

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
