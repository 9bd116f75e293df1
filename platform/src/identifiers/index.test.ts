import { describe, expect, it } from 'vitest';
import { isOrganisationNumber, isPersonNumber } from './index.js';

// Control digits worked out by hand: 150580456|5|6 (sums 160 and 159), 974760673 (Brønnøysundregistrene, sum 173).
const PERSON = '15058045656';
const D_NUMBER = '41017012337';
const OTHER_PERSON = '01018512366';
const ORGANISATION = '974760673';
const OTHER_ORGANISATION = '991825827';

describe('isPersonNumber and isOrganisationNumber', () => {
  it.each([PERSON, D_NUMBER, OTHER_PERSON])('accepts the fødselsnummer %s', (value) => {
    expect(isPersonNumber(value)).toBe(true);
  });

  it.each([
    ['a wrong second control digit', '15058045657'],
    ['a wrong first control digit (the second one computed over it)', '15058045648'],
    ['10 digits', '1505804565'],
    ['12 digits', '150580456560'],
    ['a letter', '1505804565a'],
    ['spaces', '150580 45656'],
  ])('refuses %s', (_, value) => {
    expect(isPersonNumber(value)).toBe(false);
  });

  it.each([ORGANISATION, OTHER_ORGANISATION])('accepts the organisasjonsnummer %s', (value) => {
    expect(isOrganisationNumber(value)).toBe(true);
  });

  it.each([
    ['a wrong control digit', '974760674'],
    ['8 digits', '97476067'],
    ['10 digits', '9747606730'],
    ['a letter', '97476067x'],
  ])('refuses %s', (_, value) => {
    expect(isOrganisationNumber(value)).toBe(false);
  });
});
