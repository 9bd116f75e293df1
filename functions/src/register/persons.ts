import { createRoute } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { principalOf } from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { jsonContent, problemContent } from '../../../platform/src/errors/openapi.js';
import { personNumberError } from '../../../platform/src/identifiers/index.js';
import { callerKeyOf, type IdentityLookupPolicy, type LockoutPolicy, lookupWithLockout } from './lockout.js';
import { partyRepository } from './repository.js';
import { Person } from './schemas.js';

/** The header naming the person looked up, as Altinn's. */
export const SSN_HEADER = 'X-Ai-NationalIdentityNumber';

/** The header with the person's last name, which must match too. */
export const LAST_NAME_HEADER = 'X-Ai-LastName';

const problem = (description: string) => ({ description, content: problemContent });

const lookup = createRoute({
  method: 'get',
  path: '/persons',
  summary: `Find a person by ${SSN_HEADER} and ${LAST_NAME_HEADER} (Base64 of the UTF-8 name, as app-lib sends it; both must match); failed tries are counted per caller`,
  responses: {
    200: { description: 'The person', content: jsonContent(Person) },
    400: problem('A header is missing, or the fødselsnummer is malformed or fails its mod-11 check'),
    401: problem('No valid platform token'),
    404: problem('No person with that fødselsnummer and last name (counted as a failed try)'),
    429: problem('Too many failed tries by this caller; `Retry-After` says when to try again'),
  },
});

function invalidHeader(header: string, detail: string): Problem {
  const field = `header.${header}`;
  return new Problem(400, {
    kind: 'validation',
    title: 'Invalid request',
    detail: `Invalid ${field} (${detail}).`,
    errors: [{ field, detail }],
  });
}

/** Last names compare without case and surrounding or repeated spaces. */
const normalised = (name: string) => name.trim().replace(/\s+/g, ' ').toLocaleLowerCase('nb');

/**
 * The last names a header value may mean: app-lib's PersonClient sends the name Base64-encoded (UTF-8), as Altinn
 * Register reads it (HTTP headers carry no `æøå`); a value that is not Base64 of UTF-8 text is taken as it is.
 */
export function lastNamesOf(header: string): string[] {
  const names = [header];
  const value = header.trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) {
    try {
      const decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'base64'));
      // Control characters mean binary, not a name.
      if (decoded.trim() !== '' && !/\p{Cc}/u.test(decoded)) names.unshift(decoded);
    } catch {
      // Not UTF-8: the header is the name itself.
    }
  }
  return names;
}

/** What the persons route needs. */
export interface PersonRoutesOptions {
  db: Database;
  /** The failure lockout, and with an IdentityLookupPolicy the quota of finds too. */
  lockout: LockoutPolicy | IdentityLookupPolicy;
  now: () => Date;
}

/** Adds `GET persons` to the Register: any authenticated caller, with a lockout after too many failed tries. */
export function addPersonRoutes(api: PlatformApp, options: PersonRoutesOptions): void {
  api.openapi(lookup, async (c) => {
    const caller = callerKeyOf(principalOf(c));
    const ssn = c.req.header(SSN_HEADER)?.trim();
    const lastName = c.req.header(LAST_NAME_HEADER);
    if (!ssn) throw invalidHeader(SSN_HEADER, 'required');
    const ssnError = personNumberError(ssn);
    if (ssnError) throw invalidHeader(SSN_HEADER, ssnError);
    if (!lastName?.trim()) throw invalidHeader(LAST_NAME_HEADER, 'required');
    const person = await lookupWithLockout(
      options.db,
      { caller, policy: options.lockout, now: options.now() },
      async (tx) => {
        const party = await partyRepository(tx).bySsn(ssn);
        const found = party?.person;
        const wanted = lastNamesOf(lastName).map(normalised);
        return found && wanted.includes(normalised(found.lastName)) ? found : undefined;
      },
    );
    if (!person) {
      throw new Problem(404, {
        kind: 'not-found',
        detail: 'No person with that national identity number and last name.',
      });
    }
    return c.json(person, 200);
  });
}
