import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Database } from '../db/index.js';

/**
 * App-token keys: the public keys (or X.509 certificates) an org's apps sign their `PlatformAccessToken`s with.
 * Altinn's app library signs that token itself with its org's certificate (`iss` = the org, `urn:altinn:app` = the
 * app), and Altinn's platform verifies it with the public certificate it holds for that issuer. Here an org (or the
 * operator) registers those keys over HTTP; several may be valid at once so that a new certificate can be rolled in
 * before the old one expires.
 */

/** How a key was given: an X.509 certificate (validity from the certificate) or a bare public key. */
export type AppTokenKeyKind = 'certificate' | 'publicKey';

/** A registered key as listed to its org: what it is, when it is valid, and whether it was revoked. */
export interface AppTokenKey {
  org: string;
  /** The key's id: a certificate's SHA-1 thumbprint in upper-case hex (the `kid` .NET writes), else the RFC 7638 thumbprint. */
  keyId: string;
  kind: AppTokenKeyKind;
  /** The public key as a JWK (RSA: `kty`, `n`, `e`). */
  publicJwk: JWK;
  /** The certificate's subject, when a certificate was given. */
  subject: string | null;
  /** Base64url SHA-1 (`x5t`) of the certificate, when one was given. */
  x5t: string | null;
  notBefore: string;
  notAfter: string | null;
  created: string;
  createdBy: string;
  revoked: string | null;
  revokedBy: string | null;
}

/** Why a key could not be registered; the message is safe to show to the caller. */
export class AppTokenKeyError extends Error {
  override name = 'AppTokenKeyError';
  /** The body field the problem is in. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** What an org sends to register a key: exactly one of a PEM certificate, a PEM public key or a JWK. */
export interface AppTokenKeyInput {
  certificate?: string | undefined;
  publicKey?: string | undefined;
  jwk?: Record<string, unknown> | undefined;
  /** For a bare key: from when it is valid (now by default). A certificate's own dates are used and may only be narrowed. */
  notBefore?: Date | undefined;
  /** For a bare key: until when it is valid (open-ended when left out). */
  notAfter?: Date | undefined;
}

/** A key parsed and checked, ready to store. */
export interface ParsedAppTokenKey {
  keyId: string;
  kind: AppTokenKeyKind;
  publicJwk: JWK;
  certificate: string | null;
  subject: string | null;
  x5t: string | null;
  x5tS256: string | null;
  notBefore: Date;
  notAfter: Date | null;
}

/** Smallest RSA modulus accepted, in bits. */
const MIN_RSA_BITS = 2048;

const base64url = (bytes: Buffer) => bytes.toString('base64url');

function rsaJwkOf(key: KeyObject, field: string): JWK {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new AppTokenKeyError(field, 'must be an RSA key: PlatformAccessTokens are signed with RS256');
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new AppTokenKeyError(field, `the RSA key must have at least ${MIN_RSA_BITS} bits`);
  const jwk = key.export({ format: 'jwk' }) as JWK;
  return { kty: 'RSA', n: jwk.n, e: jwk.e };
}

function publicKeyOf(parse: () => KeyObject, field: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = parse();
  } catch {
    throw new AppTokenKeyError(field, `is not ${what}`);
  }
  if (key.type !== 'public') throw new AppTokenKeyError(field, 'must be a public key, never a private one');
  return key;
}

/**
 * Parses and checks a key an org registers: an RSA key of at least 2048 bits; a certificate must not have expired,
 * and given dates may only narrow its validity. Throws AppTokenKeyError naming the field.
 */
export async function parseAppTokenKey(input: AppTokenKeyInput, now: Date): Promise<ParsedAppTokenKey> {
  const given = (['certificate', 'publicKey', 'jwk'] as const).filter((field) => input[field] !== undefined);
  if (given.length !== 1) {
    throw new AppTokenKeyError('certificate', 'give exactly one of certificate (PEM), publicKey (PEM) and jwk');
  }
  if (input.notAfter && input.notBefore && input.notAfter <= input.notBefore) {
    throw new AppTokenKeyError('notAfter', 'must be after notBefore');
  }
  if (input.certificate !== undefined) {
    if (/PRIVATE KEY/.test(input.certificate)) {
      throw new AppTokenKeyError('certificate', 'must be a public certificate, never a private key');
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(input.certificate);
    } catch {
      throw new AppTokenKeyError('certificate', 'is not a PEM X.509 certificate');
    }
    const validFrom = new Date(certificate.validFrom);
    const validTo = new Date(certificate.validTo);
    if (validTo <= now) {
      throw new AppTokenKeyError('certificate', `the certificate expired at ${validTo.toISOString()}`);
    }
    const notBefore = input.notBefore && input.notBefore > validFrom ? input.notBefore : validFrom;
    const notAfter = input.notAfter && input.notAfter < validTo ? input.notAfter : validTo;
    if (notAfter <= now) throw new AppTokenKeyError('notAfter', 'must be in the future');
    const der = certificate.raw;
    const sha1 = createHash('sha1').update(der).digest();
    return {
      keyId: sha1.toString('hex').toUpperCase(),
      kind: 'certificate',
      publicJwk: rsaJwkOf(certificate.publicKey, 'certificate'),
      certificate: certificate.toString(),
      subject: certificate.subject.replaceAll('\n', ', '),
      x5t: base64url(sha1),
      x5tS256: base64url(createHash('sha256').update(der).digest()),
      notBefore,
      notAfter,
    };
  }
  // createPublicKey would derive the public half of a private key: a private key is refused, never stored.
  if (input.publicKey !== undefined && /PRIVATE KEY/.test(input.publicKey)) {
    throw new AppTokenKeyError('publicKey', 'must be a public key, never a private one');
  }
  const key =
    input.publicKey !== undefined
      ? publicKeyOf(() => createPublicKey(input.publicKey ?? ''), 'publicKey', 'a PEM public key')
      : publicKeyOf(
          () => {
            const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = input.jwk ?? {};
            if (input.jwk && 'd' in input.jwk) throw new Error('private');
            return createPublicKey({ key: rest as never, format: 'jwk' });
          },
          'jwk',
          'a public JWK',
        );
  const field = input.publicKey !== undefined ? 'publicKey' : 'jwk';
  const publicJwk = rsaJwkOf(key, field);
  if (input.notAfter && input.notAfter <= now) throw new AppTokenKeyError('notAfter', 'must be in the future');
  const kid = typeof input.jwk?.kid === 'string' && input.jwk.kid !== '' ? input.jwk.kid : undefined;
  return {
    keyId: kid ?? (await calculateJwkThumbprint(publicJwk)),
    kind: 'publicKey',
    publicJwk,
    certificate: null,
    subject: null,
    x5t: null,
    x5tS256: null,
    notBefore: input.notBefore ?? now,
    notAfter: input.notAfter ?? null,
  };
}

/** A stored key as verification needs it. */
export interface VerificationKey {
  keyId: string;
  x5t: string | null;
  publicJwk: JWK;
  notBefore: Date;
  notAfter: Date | null;
  revoked: Date | null;
}

/** Registered app-token keys, kept in PostgreSQL (`app_token_keys`). */
export interface AppTokenKeyStore {
  /** Registers a key for `org`; `created` is false when the same key was registered already (it is returned as stored). */
  register(org: string, key: ParsedAppTokenKey, by: string): Promise<{ key: AppTokenKey; created: boolean }>;
  /** Every key of `org`, newest first, revoked ones included. */
  list(org: string): Promise<AppTokenKey[]>;
  /** Revokes a key; undefined when `org` has no such key. */
  revoke(org: string, keyId: string, by: string): Promise<AppTokenKey | undefined>;
  /** Every key of `org` for verification (revoked and expired ones too, so that a refusal can say why). */
  verificationKeys(org: string): Promise<VerificationKey[]>;
}

type KeyRow = {
  org: string;
  key_id: string;
  kind: AppTokenKeyKind;
  public_jwk: JWK;
  certificate: string | null;
  x5t: string | null;
  not_before: Date | string;
  not_after: Date | string | null;
  created: Date | string;
  created_by: string;
  revoked: Date | string | null;
  revoked_by: string | null;
};

const COLUMNS = `org, key_id, kind, public_jwk, certificate, x5t, not_before, not_after, created, created_by, revoked,
  revoked_by`;
const iso = (value: Date | string) => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null) => (value === null ? null : iso(value));

function subjectOf(pem: string | null): string | null {
  if (pem === null) return null;
  try {
    return new X509Certificate(pem).subject.replaceAll('\n', ', ');
  } catch {
    return null;
  }
}

function keyOf(row: KeyRow): AppTokenKey {
  return {
    org: row.org,
    keyId: row.key_id,
    kind: row.kind,
    publicJwk: row.public_jwk,
    subject: subjectOf(row.certificate),
    x5t: row.x5t,
    notBefore: iso(row.not_before),
    notAfter: isoOrNull(row.not_after),
    created: iso(row.created),
    createdBy: row.created_by,
    revoked: isoOrNull(row.revoked),
    revokedBy: row.revoked_by,
  };
}

/** What the store needs; `cacheMs` is how long one process trusts an org's loaded keys (0 reads every time). */
export interface AppTokenKeyStoreOptions {
  db: Database;
  now?: () => Date;
  cacheMs?: number;
}

/** Opens the app-token key store on a migrated database. */
export function createAppTokenKeyStore(options: AppTokenKeyStoreOptions): AppTokenKeyStore {
  const { db } = options;
  const now = options.now ?? (() => new Date());
  const cacheMs = options.cacheMs ?? 5_000;
  const cache = new Map<string, { at: number; keys: VerificationKey[] }>();
  return {
    async register(org, key, by) {
      const rows = await db.query<KeyRow>(
        `INSERT INTO app_token_keys (org, key_id, kind, public_jwk, certificate, x5t, x5t_s256, not_before, not_after,
           created, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (org, key_id) DO NOTHING RETURNING ${COLUMNS}`,
        [
          org,
          key.keyId,
          key.kind,
          JSON.stringify(key.publicJwk),
          key.certificate,
          key.x5t,
          key.x5tS256,
          key.notBefore,
          key.notAfter,
          now(),
          by,
        ],
      );
      cache.delete(org);
      const [row] = rows;
      if (row) return { key: keyOf(row), created: true };
      const [existing] = await db.query<KeyRow>(
        `SELECT ${COLUMNS} FROM app_token_keys WHERE org = $1 AND key_id = $2`,
        [org, key.keyId],
      );
      if (!existing) throw new Error('app-token key neither inserted nor found');
      return { key: keyOf(existing), created: false };
    },
    async list(org) {
      const rows = await db.query<KeyRow>(
        `SELECT ${COLUMNS} FROM app_token_keys WHERE org = $1 ORDER BY created DESC, key_id`,
        [org],
      );
      return rows.map(keyOf);
    },
    async revoke(org, keyId, by) {
      const rows = await db.query<KeyRow>(
        `UPDATE app_token_keys SET revoked = coalesce(revoked, $3), revoked_by = coalesce(revoked_by, $4)
         WHERE org = $1 AND key_id = $2 RETURNING ${COLUMNS}`,
        [org, keyId, now(), by],
      );
      cache.delete(org);
      return rows[0] ? keyOf(rows[0]) : undefined;
    },
    async verificationKeys(org) {
      const cached = cache.get(org);
      if (cached && now().getTime() - cached.at < cacheMs) return cached.keys;
      const rows = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM app_token_keys WHERE org = $1`, [org]);
      const keys = rows.map((row) => ({
        keyId: row.key_id,
        x5t: row.x5t,
        publicJwk: row.public_jwk,
        notBefore: new Date(row.not_before),
        notAfter: row.not_after === null ? null : new Date(row.not_after),
        revoked: row.revoked === null ? null : new Date(row.revoked),
      }));
      cache.set(org, { at: now().getTime(), keys });
      return keys;
    },
  };
}
