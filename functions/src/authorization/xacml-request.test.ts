import { describe, expect, it } from 'vitest';
import { guardDecisionRequest } from './decision-access.js';
import { parseJsonKeepingMembers } from './json-members.js';
import { bindXacmlRequest, XacmlBindingError } from './xacml-request.js';

const attribute = (attributeId: string, value: string) => ({ attributeId, value });
const body = (subject: unknown[] = [attribute('urn:altinn:userid', '1001')]) => ({
  request: {
    accessSubject: [{ attribute: subject }],
    action: [{ attribute: [attribute('urn:oasis:names:tc:xacml:1.0:action:action-id', 'read')] }],
    resource: [{ attribute: [attribute('urn:altinn:org', 'ttd'), attribute('urn:altinn:app', 'demo')] }],
  },
});

const bindingError = (text: string): XacmlBindingError => {
  try {
    bindXacmlRequest(text);
  } catch (error) {
    if (error instanceof XacmlBindingError) return error;
    throw error;
  }
  throw new Error('bound');
};

describe('parseJsonKeepingMembers', () => {
  it('keeps duplicate members in order and reads every JSON value', () => {
    const parsed = parseJsonKeepingMembers('{"a":1,"a":[true,false,null,"x\\u0041"],"b":{"c":-1.5e2}}');
    expect(parsed).toMatchObject({
      members: [
        ['a', 1],
        ['a', [true, false, null, 'xA']],
        ['b', { members: [['c', -150]] }],
      ],
    });
  });

  it.each(['', '{', '{"a":}', '[1,]', '{"a":1}x', '"\u0001"', '01', `${'['.repeat(100)}${']'.repeat(100)}`])(
    'refuses %j',
    (text) => {
      expect(() => parseJsonKeepingMembers(text)).toThrow(/offset/);
    },
  );
});

describe('bindXacmlRequest', () => {
  it('binds camelCase and PascalCase alike into one shape, remembering the spelling', () => {
    const camel = bindXacmlRequest(JSON.stringify(body()));
    const pascal = bindXacmlRequest(
      JSON.stringify(body()).replace(
        /"([a-z])([A-Za-z]*)":/g,
        (_, a: string, b: string) => `"${a.toUpperCase()}${b}":`,
      ),
    );
    expect({ ...pascal, style: 'camel' }).toEqual(camel);
    expect(camel.style).toBe('camel');
    expect(pascal.style).toBe('pascal');
    expect(camel.accessSubject[0]?.attributes[0]).toEqual({
      attributeId: 'urn:altinn:userid',
      value: '1001',
      dataType: undefined,
      issuer: undefined,
      includeInResult: false,
    });
  });

  it.each([
    ['two members differing in case', '{"request":{"accessSubject":[],"AccessSubject":[]}}', 'more than once'],
    ['the same member twice', '{"request":{},"request":{}}', 'more than once'],
    ['a single subject object', '{"request":{"accessSubject":{"attribute":[]}}}', 'must be an array'],
    ['a number value', '{"request":{"action":[{"attribute":[{"attributeId":"a","value":1}]}]}}', 'must be a string'],
    [
      'a string includeInResult',
      '{"request":{"action":[{"attribute":[{"attributeId":"a","value":"1","includeInResult":"true"}]}]}}',
      'true or false',
    ],
    ['a subject in Category', '{"request":{"category":[{"attribute":[]}]}}', 'not supported'],
    ['a moved category', '{"request":{"resource":[{"categoryId":"urn:x","attribute":[]}]}}', 'CategoryId'],
    ['no request', '{"Foo":1}', 'is required'],
    ['not JSON', '{', 'is not JSON'],
    ['an array body', '[]', 'must be an object'],
  ])('refuses %s', (_, text, message) => {
    expect(bindingError(text).message).toContain(message);
  });
});

describe('guardDecisionRequest', () => {
  const user = {
    kind: 'token' as const,
    principal: { kind: 'user' as const, userId: 1001, partyId: 510001, authLevel: 2, scopes: [] },
    appIdentity: undefined,
  };
  const guard = (caller: Parameters<typeof guardDecisionRequest>[0], subject?: unknown[]) =>
    guardDecisionRequest(caller, bindXacmlRequest(JSON.stringify(body(subject))));

  it('lets a user ask about themself, with their own party and other attributes beside', () => {
    expect(() =>
      guard(user, [
        attribute('urn:altinn:authlevel', '2'),
        attribute('urn:altinn:userid', '1001'),
        attribute('urn:altinn:partyid', '510001'),
      ]),
    ).not.toThrow();
  });

  it.each([
    ['another user', [attribute('urn:altinn:userid', '1002')]],
    ['another spelling of the id', [attribute('urn:altinn:userid', '1001'), attribute('URN:ALTINN:USERID', '1002')]],
    ['another party as theirs', [attribute('urn:altinn:userid', '1001'), attribute('urn:altinn:partyid', '500000')]],
    ['an org beside', [attribute('urn:altinn:userid', '1001'), attribute('urn:altinn:org', 'ttd')]],
    ['no user id', [attribute('urn:altinn:authlevel', '2')]],
    ['two user ids', [attribute('urn:altinn:userid', '1001'), attribute('urn:altinn:userid', '1001')]],
  ])('refuses a user asking with %s', (_, subject) => {
    expect(() => guard(user, subject)).toThrow(/themself only/);
  });

  it("refuses a key asking about another org's resource, and lets it ask about its own", () => {
    expect(() => guard({ kind: 'app', org: 'brg', keyId: 'k' })).toThrow(/own apps only/);
    expect(() => guard({ kind: 'app', org: 'ttd', keyId: 'k' })).not.toThrow();
  });
});
