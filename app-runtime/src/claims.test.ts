import { describe, expect, it } from 'vitest';
import { claimsOf } from './claims.js';
import { partyIdOf } from './platform-link.js';

const jwt = (claims: unknown) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('claimsOf', () => {
  it("reads a JWT's claims without verifying it", () => {
    expect(claimsOf(jwt({ 'urn:altinn:userid': '1001', 'urn:altinn:partyid': 510001 }))).toEqual({
      'urn:altinn:userid': '1001',
      'urn:altinn:partyid': 510001,
    });
  });

  it('answers no claims for what is not a JWT', () => {
    for (const token of ['not-a-jwt', '', 'a.b.c', jwt('a string'), jwt([1])]) expect(claimsOf(token)).toEqual({});
  });

  it('gives the app its party id as text', () => {
    expect(partyIdOf(jwt({ 'urn:altinn:partyid': 510001 }))).toBe('510001');
    expect(partyIdOf(jwt({}))).toBeUndefined();
    expect(partyIdOf('not-a-jwt')).toBeUndefined();
  });
});
