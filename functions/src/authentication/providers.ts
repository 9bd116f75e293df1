import {
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';

/** The external identity providers whose tokens `exchange/{provider}` accepts. */
export const PROVIDERS = ['id-porten', 'maskinporten'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** A trusted issuer of external tokens: its `iss`, the `aud` it must name, and its signing keys. */
export interface TrustedIssuer {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
}

/** A trusted issuer whose keys are fetched (and cached by jose) from its JWKS URL, as ID-porten's and Maskinporten's. */
export function remoteIssuer(issuer: string, audience: string, jwksUri: string): TrustedIssuer {
  return { issuer, audience, keys: createRemoteJWKSet(new URL(jwksUri)) };
}

/** What the built-in test identity provider signs for a person (an ID-porten login). */
export interface TestPersonLogin {
  ssn: string;
  /**
   * 3 (substantial, the default) or 4 (high), as ID-porten's `acr`; 0-2 (as the older `Level0`-`Level2`) let local
   * tests reach the levels Altinn's rules refuse (below 2, below 3), as app-localtest's test users can.
   */
  level?: 0 | 1 | 2 | 3 | 4;
}

/** What it signs for an organisation (a Maskinporten client). */
export interface TestOrgLogin {
  orgNumber: string;
  scopes?: readonly string[];
}

/**
 * The built-in test identity provider (local mode): an RS256 key made at start and kept in memory, signing
 * ID-porten-shaped tokens for persons and Maskinporten-shaped tokens for organisations, and trusted as the
 * issuer of both. It is never on unless configured (npm start turns it on).
 */
export interface TestIdentityProvider {
  issuers: Record<ProviderName, TrustedIssuer>;
  /** The public keys, as the provider's JWKS. */
  jwks(): Promise<{ keys: JWK[] }>;
  idporten(login: TestPersonLogin, lifetimeSeconds?: number): Promise<string>;
  maskinporten(login: TestOrgLogin, lifetimeSeconds?: number): Promise<string>;
}

/** The `acr` of a login at `level`. */
function acrOf(level: number): string {
  if (level === 4) return 'idporten-loa-high';
  if (level === 3) return 'idporten-loa-substantial';
  return `Level${level}`;
}

/** `iss` of the test provider's tokens; `aud` is the platform's issuer, as a real client's audience would be. */
export const TEST_IDP_ISSUER = 'urn:altinn-platform:test-idp';

/**
 * Makes the test identity provider for tokens addressed to `audience`. Its key is made on first use (key
 * generation is asynchronous; the API that uses it is built synchronously).
 */
export function createTestIdentityProvider(audience: string): TestIdentityProvider {
  let made: Promise<{ kid: string; privateKey: CryptoKey; publicJwk: JWK; keys: JWTVerifyGetKey }> | undefined;
  const key = () => {
    made ??= (async () => {
      const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
      const kid = `test-idp-${crypto.randomUUID()}`;
      const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
      return { kid, privateKey, publicJwk, keys: createLocalJWKSet({ keys: [publicJwk] }) };
    })();
    return made;
  };
  const trusted: TrustedIssuer = {
    issuer: TEST_IDP_ISSUER,
    audience,
    keys: async (header, token) => (await key()).keys(header, token),
  };
  const sign = async (claims: JWTPayload, lifetimeSeconds: number) => {
    const { kid, privateKey } = await key();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(TEST_IDP_ISSUER)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetimeSeconds)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
  };
  return {
    issuers: { 'id-porten': trusted, maskinporten: trusted },
    jwks: async () => ({ keys: [(await key()).publicJwk] }),
    idporten: (login, lifetimeSeconds = 120) =>
      sign(
        {
          sub: login.ssn,
          pid: login.ssn,
          acr: acrOf(login.level ?? 3),
          amr: ['TestID'],
        },
        lifetimeSeconds,
      ),
    maskinporten: (login, lifetimeSeconds = 120) =>
      sign(
        {
          consumer: { authority: 'iso6523-actorid-upis', ID: `0192:${login.orgNumber}` },
          scope: (login.scopes ?? []).join(' '),
          client_id: `test-${login.orgNumber}`,
        },
        lifetimeSeconds,
      ),
  };
}
