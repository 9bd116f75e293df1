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

/** What is wrong with `value` as a fødselsnummer, or undefined when it is one; for 400 answers naming the field. */
export function personNumberError(value: string): string | undefined {
  if (!/^\d{11}$/.test(value)) return 'must be an 11-digit fødselsnummer';
  return isPersonNumber(value) ? undefined : 'has invalid mod-11 control digits';
}

/** What is wrong with `value` as an organisasjonsnummer, or undefined when it is one; for 400 answers naming the field. */
export function organisationNumberError(value: string): string | undefined {
  if (!/^\d{9}$/.test(value)) return 'must be a 9-digit organisasjonsnummer';
  return isOrganisationNumber(value) ? undefined : 'has an invalid mod-11 control digit';
}
