import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Queryable } from '../../platform/src/db/index.js';

/** One RSA signing key per test file: generating one (2048 bits) costs a fifth of a second of CPU per test. */
let cached: Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> | undefined;

async function generate(): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    publicJwk: { ...publicJwk, kid, alg: 'RS256', use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
  };
}

/**
 * Stores this file's signing key as the active platform signing key of a fresh test database, as the key store
 * (platform/src/auth/keys.ts) would on first use; for harnesses whose tests are not about the keys themselves.
 */
export async function seedSigningKey(db: Queryable): Promise<void> {
  cached ??= generate();
  const key = await cached;
  await db.query(
    `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk, created, retired)
     VALUES ($1, 'RS256', $2, $3, now(), NULL)`,
    [key.kid, JSON.stringify(key.publicJwk), JSON.stringify(key.privateJwk)],
  );
}
