import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../../../platform/src/db/index.js';

/**
 * Platform subscription keys: what Altinn's API gateway checks as `Ocp-Apim-Subscription-Key` before an app's
 * PEP reaches `POST decision` without a token. A key belongs to one org; an app calling with it is that org's app.
 * Keys are 32 random bytes shown once at issue; only their SHA-256 is stored.
 */

/** The header Altinn's PEP and AuthorizationClient send the key in. */
export const SUBSCRIPTION_KEY_HEADER = 'Ocp-Apim-Subscription-Key';

/** The environment variable the app runtime reads its org's key from (app-lib's `PlatformSettings__SubscriptionKey`). */
export const SUBSCRIPTION_KEY_SETTING = 'PLATFORM_SUBSCRIPTION_KEY';

const KEY_PREFIX = 'psk_';

/** A stored key, without its secret. */
export interface SubscriptionKey {
  id: string;
  org: string;
  name: string | null;
  created: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
}

type KeyRow = {
  key_id: string;
  org: string;
  name: string | null;
  created: Date;
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
};

const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

function keyOf(row: KeyRow): SubscriptionKey {
  return {
    id: row.key_id,
    org: row.org,
    name: row.name,
    created: new Date(row.created).toISOString(),
    createdBy: row.created_by,
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
    revokedBy: row.revoked_by,
  };
}

/** The stored form of a key: its SHA-256, hex. */
export function hashOfKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key: `psk_` and 32 random bytes, base64url. */
export function newSubscriptionKey(): string {
  return `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** SQL of subscription keys. */
export function subscriptionKeyRepository(db: Queryable) {
  return {
    /** Stores a new key for `org`; answers the record and the key itself, which is never readable again. */
    async issue(
      input: { org: string; name: string | undefined; expiresAt: Date | undefined; createdBy: string },
      now: Date,
    ): Promise<{ record: SubscriptionKey; key: string }> {
      const key = newSubscriptionKey();
      const [row] = await db.query<KeyRow>(
        `INSERT INTO subscription_keys (key_id, org, key_hash, name, created, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [randomUUID(), input.org, hashOfKey(key), input.name ?? null, now, input.createdBy, input.expiresAt ?? null],
      );
      if (!row) throw new Error('subscription key insert returned no row');
      return { record: keyOf(row), key };
    },

    /** The org's keys, oldest first, revoked ones included. */
    async list(org: string): Promise<SubscriptionKey[]> {
      const rows = await db.query<KeyRow>('SELECT * FROM subscription_keys WHERE org = $1 ORDER BY created, key_id', [
        org,
      ]);
      return rows.map(keyOf);
    },

    /** Revokes the org's key `id`; answers it, or undefined when the org has no such key or it was revoked already. */
    async revoke(org: string, id: string, revokedBy: string, now: Date): Promise<SubscriptionKey | undefined> {
      const [row] = await db.query<KeyRow>(
        `UPDATE subscription_keys SET revoked_at = $3, revoked_by = $4
         WHERE org = $1 AND key_id = $2 AND revoked_at IS NULL RETURNING *`,
        [org, id, now, revokedBy],
      );
      return row ? keyOf(row) : undefined;
    },

    /** The org a key presented now belongs to: undefined when it is unknown, revoked or expired. */
    async verify(key: string, now: Date): Promise<{ org: string; id: string } | undefined> {
      if (!key.startsWith(KEY_PREFIX) || key.length > 200) return undefined;
      const [row] = await db.query<{ org: string; key_id: string }>(
        `SELECT org, key_id FROM subscription_keys
         WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)`,
        [hashOfKey(key), now],
      );
      return row ? { org: row.org, id: row.key_id } : undefined;
    },
  };
}
