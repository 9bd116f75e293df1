import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegisterHarness, type RegisterHarness } from '../../../test/support/register.js';
import { manualClock, problemOf } from '../../../test/support/storage.js';
import { LAST_NAME_HEADER, SSN_HEADER } from './persons.js';

const SOPHIE = { ssn: '01817550181', lastName: 'Salt' };
const LIMIT = 3;
const WINDOW_MS = 60 * 60_000;

let h: RegisterHarness;
let clock: ReturnType<typeof manualClock>;
let ttd: Record<string, string>;

beforeEach(async () => {
  clock = manualClock('2026-03-01T12:00:00Z');
  h = await openRegisterHarness({ lockout: { limit: LIMIT, windowMs: WINDOW_MS }, now: clock.now });
  ttd = await h.org('ttd');
});
afterEach(() => h.close());

const lookup = (caller: Record<string, string>, ssn: string, lastName: string) =>
  h.register('GET', 'persons', { ...caller, [SSN_HEADER]: ssn, [LAST_NAME_HEADER]: lastName });

const failures = async () =>
  (
    await h.db.query<{ caller: string }>(
      "SELECT caller FROM person_lookup_failures WHERE caller NOT LIKE 'found:%' ORDER BY failed_at",
    )
  ).map((row) => row.caller);

describe('GET persons', () => {
  it('answers the person when ssn and last name both match (last name without case or extra spaces)', async () => {
    const response = await lookup(ttd, SOPHIE.ssn, '  SALT ');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ssn: SOPHIE.ssn, name: 'Sophie Salt', lastName: 'Salt' });
    expect(await failures()).toEqual([]);
  });

  it('lets end users look persons up too', async () => {
    expect((await lookup(await h.user(1002, 510002), SOPHIE.ssn, SOPHIE.lastName)).status).toBe(200);
  });

  it('answers 404 and counts a failure when the last name does not match, or the person is unknown', async () => {
    const wrongName = await lookup(ttd, SOPHIE.ssn, 'Pepper');
    expect(wrongName.status).toBe(404);
    expect((await problemOf(wrongName)).detail).toBe('No person with that national identity number and last name.');
    expect((await lookup(ttd, '15058045656', 'Salt')).status).toBe(404);
    expect(await failures()).toEqual(['org:ttd', 'org:ttd']);
  });

  it.each([
    ['a missing ssn header', { [LAST_NAME_HEADER]: 'Salt' }, SSN_HEADER, 'required'],
    [
      'an ssn failing mod-11',
      { [SSN_HEADER]: '01817550182', [LAST_NAME_HEADER]: 'Salt' },
      SSN_HEADER,
      'has invalid mod-11 control digits',
    ],
    [
      'a short ssn',
      { [SSN_HEADER]: '123', [LAST_NAME_HEADER]: 'Salt' },
      SSN_HEADER,
      'must be an 11-digit fødselsnummer',
    ],
    ['a missing last name', { [SSN_HEADER]: SOPHIE.ssn }, LAST_NAME_HEADER, 'required'],
  ])('answers 400 naming the header for %s, without counting a failure', async (_, headers, header, detail) => {
    const response = await h.register('GET', 'persons', { ...ttd, ...headers });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).errors).toEqual([{ field: `header.${header}`, detail }]);
    expect(await failures()).toEqual([]);
  });

  it('answers 401 without a token', async () => {
    const response = await h.register('GET', 'persons', { [SSN_HEADER]: SOPHIE.ssn, [LAST_NAME_HEADER]: 'Salt' });
    expect(response.status).toBe(401);
  });
});

describe('GET persons lockout', () => {
  it('answers 429 with Retry-After once a caller has used up its failures, even for a correct lookup', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await lookup(ttd, SOPHIE.ssn, `Wrong${i}`)).status).toBe(404);
    const locked = await lookup(ttd, SOPHIE.ssn, SOPHIE.lastName);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('3600');
    expect((await problemOf(locked)).type).toBe('urn:altinn-platform:problem:too-many-requests');
    // Refused tries are not counted: the lock does not grow by being knocked on.
    expect(await failures()).toHaveLength(LIMIT);
  });

  it('does not count correct lookups as failures', async () => {
    for (let i = 0; i < LIMIT - 1; i++) expect((await lookup(ttd, SOPHIE.ssn, 'Wrong')).status).toBe(404);
    for (let i = 0; i < 5; i++) expect((await lookup(ttd, SOPHIE.ssn, SOPHIE.lastName)).status).toBe(200);
    expect(await failures()).toHaveLength(LIMIT - 1);
    expect((await lookup(ttd, SOPHIE.ssn, 'Wrong')).status).toBe(404);
    expect((await lookup(ttd, SOPHIE.ssn, SOPHIE.lastName)).status).toBe(429);
  });

  it('counts per caller: another org and a user are not locked out by ttd', async () => {
    for (let i = 0; i < LIMIT; i++) await lookup(ttd, SOPHIE.ssn, 'Wrong');
    expect((await lookup(ttd, SOPHIE.ssn, SOPHIE.lastName)).status).toBe(429);
    expect((await lookup(await h.org('skd'), SOPHIE.ssn, SOPHIE.lastName)).status).toBe(200);
    expect((await lookup(await h.user(1002, 510002), SOPHIE.ssn, SOPHIE.lastName)).status).toBe(200);
  });

  it('is a sliding window: Retry-After shrinks, and the lookup works again once the oldest failure is an hour old', async () => {
    await lookup(ttd, SOPHIE.ssn, 'Wrong');
    clock.set('2026-03-01T12:10:00Z');
    await lookup(ttd, SOPHIE.ssn, 'Wrong');
    await lookup(ttd, SOPHIE.ssn, 'Wrong');
    clock.set('2026-03-01T12:30:00Z');
    expect((await lookup(ttd, SOPHIE.ssn, SOPHIE.lastName)).headers.get('retry-after')).toBe('1800');
    clock.set('2026-03-01T13:00:00Z');
    expect((await lookup(ttd, SOPHIE.ssn, SOPHIE.lastName)).status).toBe(200);
    // One more failure fills the window again, until the 12:10 failures leave it.
    expect((await lookup(ttd, SOPHIE.ssn, 'Wrong')).status).toBe(404);
    const locked = await lookup(ttd, SOPHIE.ssn, SOPHIE.lastName);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('600');
    expect((await problemOf(locked)).status).toBe(429);
  });
});
