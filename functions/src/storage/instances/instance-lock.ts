import { createHash, randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { PlatformApp } from '../../../../platform/src/api/index.js';
import { principalOf } from '../../../../platform/src/auth/index.js';
import type { Database, Queryable } from '../../../../platform/src/db/index.js';
import { Problem } from '../../../../platform/src/errors/index.js';
import { jsonContent as json } from '../../../../platform/src/errors/openapi.js';
import { InstanceParams } from '../models/instance-schemas.js';
import { instanceRepository } from '../repositories/instance-repository.js';
import { callerIdOf } from '../shared/access.js';
import { instanceNotFound, problemContent } from '../shared/problems.js';

// Altinn Storage's instance lock (InstanceLockController): one holder per instance until its TTL runs out; app-lib
// takes it around process next. Like Altinn's, it is advisory: no other Storage write checks it.

/** The header carrying the lock token on `PATCH .../lock`, as Altinn's. */
export const LOCK_TOKEN_HEADER = 'altinn-storage-lock-token';

/** Altinn's InstanceLockRequest: how long to hold the lock; 0 releases it on update. */
const InstanceLockRequest = z
  .looseObject({ ttlSeconds: z.number().int().min(0, 'TtlSeconds cannot be negative.').max(2_147_483_647) })
  .openapi('InstanceLockRequest');

/** Altinn's InstanceLockResponse. */
const InstanceLockResponse = z.object({ lockToken: z.string() }).openapi('InstanceLockResponse');

const problem = (description: string) => ({ description, content: problemContent });

const acquire = createRoute({
  method: 'post',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/lock',
  summary: 'Acquire the instance lock for `ttlSeconds`; answers the lock token',
  request: { params: InstanceParams, body: { required: true, content: json(InstanceLockRequest) } },
  responses: {
    200: { description: 'Acquired', content: json(InstanceLockResponse) },
    400: problem('Invalid path or body (e.g. a negative ttlSeconds)'),
    404: problem('No such instance'),
    409: problem('Someone holds the lock'),
  },
});

const update = createRoute({
  method: 'patch',
  path: '/instances/{instanceOwnerPartyId}/{instanceGuid}/lock',
  summary: 'Extend the lock to `ttlSeconds` from now, or release it with 0; the lock token in the header',
  request: {
    params: InstanceParams,
    headers: z.object({ [LOCK_TOKEN_HEADER]: z.string().openapi({ description: 'The token acquire answered' }) }),
    body: { required: true, content: json(InstanceLockRequest) },
  },
  responses: {
    204: { description: 'Updated' },
    400: problem('Invalid path, body or lock token'),
    403: problem('The token is not the lock holder’s'),
    404: problem('No such instance or lock'),
    422: problem('The lock has expired'),
  },
});

/** A lock token: base64url of `{"id":<lock id>,"secret":"<base64 bytes>"}`, as Altinn's LockToken. */
interface LockToken {
  id: string;
  secret: Buffer;
}

function createToken(id: string, secret: Buffer): string {
  return Buffer.from(JSON.stringify({ id: Number(id), secret: secret.toString('base64') })).toString('base64url');
}

/** The token in `header`, or undefined when it is not one (Altinn answers 400). */
export function parseLockToken(header: string): LockToken | undefined {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(header)) return undefined;
  try {
    const data: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    if (typeof data !== 'object' || data === null) return undefined;
    const { id, secret } = data as { id?: unknown; secret?: unknown };
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return undefined;
    if (typeof secret !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) return undefined;
    const bytes = Buffer.from(secret, 'base64');
    return bytes.length === 0 ? undefined : { id: String(id), secret: bytes };
  } catch {
    return undefined;
  }
}

const hashOf = (secret: Buffer) => createHash('sha256').update(secret).digest();

/** Whether someone holds a lock on the instance `instanceGuid` at `at` (ISO 8601). */
export async function isInstanceLocked(db: Queryable, instanceGuid: string, at: string): Promise<boolean> {
  const rows = await db.query(
    'SELECT 1 FROM instance_locks WHERE instance_guid = $1 AND locked_until > $2::timestamptz LIMIT 1',
    [instanceGuid, at],
  );
  return rows.length > 0;
}

/** Adds `POST` and `PATCH instances/{partyId}/{guid}/lock`. */
export function addInstanceLockRoutes(api: PlatformApp, options: { db: Database; now: () => Date }): void {
  const { db, now } = options;

  api.openapi(acquire, async (c) => {
    const { instanceOwnerPartyId: partyId, instanceGuid } = c.req.valid('param');
    const { ttlSeconds } = c.req.valid('json');
    const lockedBy = callerIdOf(principalOf(c));
    const lockToken = await db.transaction(async (tx) => {
      // The instance's row lock serialises acquisitions, as Altinn's advisory lock per instance.
      const instance = await instanceRepository(tx).lockInstance(partyId, instanceGuid.toLowerCase());
      if (!instance) throw instanceNotFound(partyId, instanceGuid);
      const at = now();
      const guid = instanceGuid.toLowerCase();
      if (await isInstanceLocked(tx, guid, at.toISOString())) {
        throw new Problem(409, {
          kind: 'locked',
          title: 'Conflict',
          detail: 'Lock is already held for this instance.',
        });
      }
      const secret = randomBytes(20);
      const [row] = await tx.query<{ id: string }>(
        `INSERT INTO instance_locks (instance_guid, locked_at, locked_until, locked_by, secret_hash)
         VALUES ($1, $2::timestamptz, $2::timestamptz + make_interval(secs => $3), $4, $5)
         RETURNING id::text AS id`,
        [guid, at.toISOString(), ttlSeconds, lockedBy, hashOf(secret)],
      );
      if (!row) throw new Error('instance lock insert returned no row');
      return createToken(row.id, secret);
    });
    return c.json({ lockToken }, 200);
  });

  api.openapi(update, async (c) => {
    const { instanceOwnerPartyId: partyId, instanceGuid } = c.req.valid('param');
    const token = parseLockToken(c.req.valid('header')[LOCK_TOKEN_HEADER]);
    if (!token) {
      throw new Problem(400, {
        kind: 'validation',
        title: 'Invalid request',
        detail: 'Could not parse lock token.',
        errors: [{ field: 'header.Altinn-Storage-Lock-Token', detail: 'not a lock token' }],
      });
    }
    const { ttlSeconds } = c.req.valid('json');
    await db.transaction(async (tx) => {
      const guid = instanceGuid.toLowerCase();
      if (!(await instanceRepository(tx).lockInstance(partyId, guid))) throw instanceNotFound(partyId, instanceGuid);
      const [lock] = await tx.query<{ locked_until: Date | string; secret_hash: Uint8Array }>(
        'SELECT locked_until, secret_hash FROM instance_locks WHERE id = $1 AND instance_guid = $2 FOR UPDATE',
        [token.id, guid],
      );
      if (!lock) throw new Problem(404, { kind: 'not-found', detail: 'Lock not found.' });
      if (!hashOf(token.secret).equals(Buffer.from(lock.secret_hash))) {
        throw new Problem(403, { kind: 'forbidden', detail: 'Lock token is invalid.' });
      }
      const at = now();
      if (new Date(lock.locked_until).getTime() <= at.getTime()) {
        throw new Problem(422, { kind: 'lock-expired', title: 'Unprocessable Entity', detail: 'Lock has expired.' });
      }
      await tx.query(
        'UPDATE instance_locks SET locked_until = $2::timestamptz + make_interval(secs => $3) WHERE id = $1',
        [token.id, at.toISOString(), ttlSeconds],
      );
    });
    return c.body(null, 204);
  });
}
