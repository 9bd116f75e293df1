import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../platform/src/api/index.js';
import { jsonContent } from '../../../platform/src/errors/openapi.js';
import { TEST_PARTIES, TEST_ROLES, TEST_USERS } from './seed.js';

const TestData = z
  .object({
    users: z.array(
      z.object({
        userId: z.number(),
        userUuid: z.string(),
        userName: z.string(),
        userType: z.number(),
        partyId: z.number(),
        name: z.string(),
        ssn: z.string().nullable(),
        email: z.string(),
        isReserved: z.boolean(),
      }),
    ),
    organisations: z.array(
      z.object({
        partyId: z.number(),
        partyUuid: z.string(),
        partyTypeName: z.number(),
        orgNumber: z.string(),
        name: z.string(),
        unitType: z.string().nullable(),
        parentPartyId: z.number().nullable(),
      }),
    ),
    roles: z.array(
      z.object({ userId: z.number(), partyId: z.number(), roles: z.array(z.string()), purpose: z.string() }),
    ),
  })
  .openapi('TestData');

const route = createRoute({
  method: 'get',
  path: '/testdata',
  summary: 'Local mode only: the seeded test users, organisations and roles (see functions/src/register/SEED.md)',
  responses: { 200: { description: 'The test data', content: jsonContent(TestData) } },
});

/** The seeded test data as the testdata route lists it: whom to log in as, and for which organisations. */
export function testDataListing(): z.infer<typeof TestData> {
  const partyById = new Map(TEST_PARTIES.map((party) => [party.partyId, party]));
  return {
    users: TEST_USERS.map((user) => {
      const party = partyById.get(user.partyId);
      return {
        userId: user.userId,
        userUuid: user.userUuid,
        userName: user.userName,
        userType: user.userType,
        partyId: user.partyId,
        name: party?.name ?? user.userName,
        ssn: party?.ssn ?? null,
        email: user.email,
        isReserved: user.isReserved,
      };
    }),
    organisations: TEST_PARTIES.flatMap((party) =>
      party.orgNumber === undefined
        ? []
        : [
            {
              partyId: party.partyId,
              partyUuid: party.partyUuid,
              partyTypeName: party.type,
              orgNumber: party.orgNumber,
              name: party.name,
              unitType: party.unitType ?? null,
              parentPartyId: party.parentPartyId ?? null,
            },
          ],
    ),
    roles: TEST_ROLES.map((role) => ({ ...role, roles: [...role.roles] })),
  };
}

/** Adds `GET testdata`, the list of seeded test users and organisations; only mounted when test data is seeded. */
export function addTestDataRoutes(api: PlatformApp): void {
  api.openapi(route, (c) => c.json(testDataListing(), 200));
}
