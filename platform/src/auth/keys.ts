import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Database, Queryable } from '../db/index.js';

/** The one signing algorithm of platform tokens. */
export const SIGNING_ALGORITHM = 'RS256';

/** A key that signs platform tokens, as `importJWK` gives it. */
export type KeyLike = Awaited<ReturnType<typeof importJWK>>;

/** The key currently signing tokens. */
export interface SigningKey {
  kid: string;
  privateKey: KeyLike;
}

/** A JSON Web Key Set (RFC 7517) of public keys. */
export interface Jwks {
  keys: JWK[];
}

/** What the key store needs. */
export interface SigningKeyStoreOptions {
  db: Database;
  /** How long a retired key stays published: the longest token lifetime plus clock leeway. */
  retainRetiredMs: number;
  /** How long a loaded key set is trusted before the database is asked again (another process may rotate). */
  cacheMs?: number;
  now?: () => Date;
}

/**
 * The platform's RS256 signing keys, kept in PostgreSQL so that every functions instance signs with the same
 * key and verifies every other's tokens. One key is active (signs); `rotate` retires it and makes a new one,
 * and a retired key stays in the JWKS until every token it signed has expired.
 *
 * Private keys are stored as JWKs in the database, which is fine locally; in Azure they belong in Key Vault.
 */
export interface SigningKeyStore {
  /** The active key, made on first use when there is none. */
  activeKey(): Promise<SigningKey>;
  /** The public key with this `kid` if it is active or still retained, else undefined. */
  publicKey(kid: string): Promise<KeyLike | undefined>;
  /** The published keys: the active one and the retained retired ones. */
  jwks(): Promise<Jwks>;
  /** Retires the active key and makes a new one active; returns the new key's kid. */
  rotate(): Promise<string>;
}

type KeyRow = {
  kid: string;
  public_jwk: JWK;
  private_jwk: JWK;
  created: Date | string;
  retired: Date | string | null;
};

interface LoadedKeys {
  at: number;
  active: SigningKey | undefined;
  published: Map<string, { jwk: JWK; key: Promise<KeyLike> }>;
}

/** Serialises key creation across processes (PostgreSQL advisory lock id, arbitrary but fixed). */
const KEY_LOCK = 7_304_118_001;

async function newKeyRow(): Promise<Omit<KeyRow, 'created' | 'retired'>> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALGORITHM, {
    modulusLength: 2048,
    extractable: true,
  });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    public_jwk: { ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' },
    private_jwk: { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALGORITHM },
  };
}

async function insertKey(tx: Queryable, now: Date): Promise<string> {
  const row = await newKeyRow();
  await tx.query(
    `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk, created, retired)
     VALUES ($1, $2, $3, $4, $5, NULL)`,
    [row.kid, SIGNING_ALGORITHM, JSON.stringify(row.public_jwk), JSON.stringify(row.private_jwk), now],
  );
  return row.kid;
}

/** Opens the key store on a migrated database. */
export function createSigningKeyStore(options: SigningKeyStoreOptions): SigningKeyStore {
  const { db, retainRetiredMs } = options;
  const cacheMs = options.cacheMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  let loaded: LoadedKeys | undefined;
  let loading: Promise<LoadedKeys> | undefined;

  async function load(): Promise<LoadedKeys> {
    const at = now();
    const rows = await db.query<KeyRow>(
      `SELECT kid, public_jwk, private_jwk, created, retired FROM signing_keys
       WHERE retired IS NULL OR retired > $1 ORDER BY created DESC`,
      [new Date(at.getTime() - retainRetiredMs)],
    );
    const activeRow = rows.find((row) => row.retired === null);
    const published = new Map(
      rows.map((row) => [row.kid, { jwk: row.public_jwk, key: importJWK(row.public_jwk, SIGNING_ALGORITHM) }]),
    );
    const active = activeRow
      ? { kid: activeRow.kid, privateKey: await importJWK(activeRow.private_jwk, SIGNING_ALGORITHM) }
      : undefined;
    return { at: at.getTime(), active, published };
  }

  /** The loaded keys, from cache while fresh; concurrent callers share one load. */
  async function keys(force = false): Promise<LoadedKeys> {
    if (!force && loaded && now().getTime() - loaded.at < cacheMs) return loaded;
    loading ??= load().finally(() => {
      loading = undefined;
    });
    loaded = await loading;
    return loaded;
  }

  /** Makes a key active when none is, under a lock so that two processes starting together make one. */
  async function ensureActive(): Promise<void> {
    await db.transaction(async (tx) => {
      if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const active = await tx.query('SELECT kid FROM signing_keys WHERE retired IS NULL');
      if (active.length === 0) await insertKey(tx, now());
    });
  }

  return {
    async activeKey() {
      let current = await keys();
      if (!current.active) {
        await ensureActive();
        current = await keys(true);
      }
      if (!current.active) throw new Error('no active signing key after creating one');
      return current.active;
    },
    async publicKey(kid) {
      let current = await keys();
      // An unknown kid may be a key another process just made: look again, at most once per second.
      if (!current.published.has(kid) && now().getTime() - current.at >= 1000) current = await keys(true);
      return current.published.get(kid)?.key;
    },
    async jwks() {
      await this.activeKey();
      const current = await keys();
      return { keys: [...current.published.values()].map((entry) => entry.jwk) };
    },
    async rotate() {
      const kid = await db.transaction(async (tx) => {
        if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
        await tx.query('UPDATE signing_keys SET retired = $1 WHERE retired IS NULL', [now()]);
        return insertKey(tx, now());
      });
      await keys(true);
      return kid;
    },
  };
}
