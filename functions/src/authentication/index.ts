import { createRoute, z } from '@hono/zod-openapi';
import { getCookie } from 'hono/cookie';
import { errors, type JWTPayload, jwtVerify } from 'jose';
import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import {
  authenticate,
  CLAIMS,
  forbidden,
  hasScope,
  InvalidTokenError,
  principalOf,
  RUNTIME_COOKIE,
  refusing,
  SIGNING_ALGORITHM,
  tokenOf,
  unauthorized,
} from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import type { PlatformAuth } from '../../../platform/src/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { addAppTokenKeyRoutes } from './app-token-keys.js';
import type { IdentityDirectory } from './directory.js';
import { addLoginRoutes } from './login.js';
import { PROVIDERS, type ProviderName, type TestIdentityProvider, type TrustedIssuer } from './providers.js';

/** Public path prefix of the Authentication API, as Altinn's. */
export const AUTHENTICATION_PREFIX = '/authentication/api/v1';

/** What the Authentication API needs. */
export interface AuthenticationApiOptions {
  auth: PlatformAuth;
  /** `iss` of platform tokens; the OpenID configuration is published under it. */
  issuer: string;
  logger: Logger;
  directory: IdentityDirectory;
  /** The external issuers `exchange/{provider}` trusts; a provider without one answers 404. */
  providers: Partial<Record<ProviderName, TrustedIssuer>>;
  /** The built-in test identity provider: its endpoints exist only when given (local mode). */
  testIdp?: TestIdentityProvider;
  /** The operator's token (PROVISIONER_ADMIN_TOKEN): it may manage every org's app-token keys. */
  operatorToken?: string | undefined;
  /**
   * Where the login redirect may send a browser back to: the platform's public URL (relative `goto`s resolve
   * against it) and further hosts (`host` or `host:port`, e.g. the apps' public host).
   */
  login?: { platformUrl: string; redirectHosts: readonly string[] };
}

const EXTERNAL_CLOCK_TOLERANCE_SECONDS = 30;
const jwtText = { 'text/plain': { schema: z.string().openapi({ description: 'A platform JWT' }) } };
const problem = { 'application/problem+json': { schema: z.object({ type: z.string(), detail: z.string() }) } };

const openidConfiguration = createRoute({
  method: 'get',
  path: '/openid/.well-known/openid-configuration',
  summary: 'OpenID Provider metadata of the platform token issuer',
  responses: {
    200: { description: 'The metadata', content: { 'application/json': { schema: z.object({}).passthrough() } } },
  },
});

const jwks = createRoute({
  method: 'get',
  path: '/openid/.well-known/openid-configuration/jwks',
  summary: 'The public keys platform tokens are signed with: the active key and retired keys whose tokens may live',
  responses: {
    200: {
      description: 'A JWK Set',
      content: { 'application/json': { schema: z.object({ keys: z.array(z.object({}).passthrough()) }) } },
    },
  },
});

const exchange = createRoute({
  method: 'get',
  path: '/exchange/{provider}',
  summary: 'Exchange an ID-porten or Maskinporten token (Bearer) for a 30-minute platform token',
  request: { params: z.object({ provider: z.enum(PROVIDERS) }) },
  responses: {
    200: { description: 'The platform token', content: jwtText },
    401: { description: 'The external token is missing or not valid', content: problem },
    403: { description: 'The token names nobody the platform knows', content: problem },
    404: { description: 'The provider is not configured', content: problem },
  },
});

const refresh = createRoute({
  method: 'get',
  path: '/refresh',
  summary: 'A fresh 30-minute platform token with the claims of a valid one (Bearer or AltinnStudioRuntime cookie)',
  responses: {
    200: { description: 'The new token', content: jwtText },
    401: { description: 'No valid platform token', content: problem },
  },
});

const accessToken = createRoute({
  method: 'get',
  path: '/accesstoken/{org}/{app}',
  summary: "A 30-minute PlatformAccessToken for the app `org/app`, for the app's own org (an org token)",
  request: {
    params: z.object({
      org: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
      app: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    }),
  },
  responses: {
    200: { description: 'The PlatformAccessToken', content: jwtText },
    401: { description: 'No valid platform token', content: problem },
    403: { description: "Not the app's own org", content: problem },
  },
});

const rotate = createRoute({
  method: 'post',
  path: '/openid/keys/rotate',
  summary: `Retire the signing key and make a new one active (scope ${'altinn:platform/keys.admin'}); old tokens stay valid until they expire`,
  responses: {
    200: { description: 'The new key id', content: { 'application/json': { schema: z.object({ kid: z.string() }) } } },
    401: { description: 'No valid platform token', content: problem },
    403: { description: 'Without the scope', content: problem },
  },
});

/** The scope that may rotate the platform's signing key. */
export const KEYS_ADMIN_SCOPE = 'altinn:platform/keys.admin';

/** ID-porten's `acr` as an Altinn authentication level: the current names, or the older `Level0`-`Level4`. */
function levelOf(acr: unknown): number | undefined {
  if (acr === 'idporten-loa-substantial') return 3;
  if (acr === 'idporten-loa-high') return 4;
  const old = typeof acr === 'string' ? /^Level([0-4])$/.exec(acr) : null;
  return old ? Number(old[1]) : undefined;
}

/** Verifies an external token against its trusted issuer: RS256, signature, `iss`, `aud`, `exp` and `nbf`. */
async function verifyExternal(token: string, trusted: TrustedIssuer): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, trusted.keys, {
      algorithms: [SIGNING_ALGORITHM],
      issuer: trusted.issuer,
      audience: trusted.audience,
      clockTolerance: EXTERNAL_CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp'],
    });
    return payload;
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new InvalidTokenError('the token has expired');
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw new InvalidTokenError(`the token's ${error.claim} claim is not valid`);
    }
    if (error instanceof errors.JOSEAlgNotAllowed)
      throw new InvalidTokenError(`tokens must be signed with ${SIGNING_ALGORITHM}`);
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
      throw new InvalidTokenError('the token is not signed by the trusted issuer');
    }
    throw new InvalidTokenError('the token is malformed');
  }
}

const notKnown = (detail: string) => new Problem(403, { kind: 'forbidden', detail });

/**
 * The platform token for a verified ID-porten token (the registered user with its level and method) or
 * Maskinporten token (the service owner with the token's scopes); 401 or 403 when it names no one known.
 */
async function platformTokenFor(
  options: AuthenticationApiOptions,
  provider: string,
  claims: Awaited<ReturnType<typeof verifyExternal>>,
): Promise<string> {
  const { auth, directory } = options;
  if (provider === 'id-porten') {
    const ssn = typeof claims.pid === 'string' ? claims.pid : undefined;
    const level = levelOf(claims.acr);
    if (!ssn || level === undefined) {
      throw unauthorized(
        'An ID-porten token needs pid and an acr of substantial or high (or Level0-Level4).',
        'Bearer error="invalid_token"',
      );
    }
    const user = await directory.userBySsn(ssn);
    if (!user) throw notKnown('No user with this national identity number is registered.');
    const method = Array.isArray(claims.amr) && typeof claims.amr[0] === 'string' ? claims.amr[0] : 'IdPorten';
    return auth.issuer.userToken({ ...user, authLevel: level, authMethod: method });
  } else {
    const consumer = claims.consumer as { ID?: unknown } | undefined;
    const orgNumber = typeof consumer?.ID === 'string' ? /^0192:(\d{9})$/.exec(consumer.ID)?.[1] : undefined;
    if (!orgNumber)
      throw unauthorized('A Maskinporten token needs consumer.ID 0192:{orgNumber}.', 'Bearer error="invalid_token"');
    const owner = await directory.serviceOwnerByNumber(orgNumber);
    if (!owner) throw notKnown(`Organisation ${orgNumber} is not a service owner of this platform.`);
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    return auth.issuer.orgToken({ ...owner, scopes });
  }
}

/**
 * The Authentication API (Altinn's `/authentication/api/v1`): the platform's OpenID metadata and JWKS,
 * `exchange/{id-porten|maskinporten}` and `refresh`; with the test identity provider, `testidp/...` too.
 */
export function createAuthenticationApi(options: AuthenticationApiOptions): PlatformApp {
  const api = createApi({
    prefix: AUTHENTICATION_PREFIX,
    title: 'Authentication (Altinn Authentication v1 compatible)',
    version: '1.0.0',
    logger: options.logger,
  });
  const { auth, directory } = options;
  const issuerBase = options.issuer.endsWith('/') ? options.issuer : `${options.issuer}/`;

  api.openapi(openidConfiguration, (c) =>
    c.json(
      {
        issuer: options.issuer,
        jwks_uri: `${issuerBase}.well-known/openid-configuration/jwks`,
        response_types_supported: ['token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [SIGNING_ALGORITHM],
        token_endpoint_auth_methods_supported: ['none'],
        claims_supported: Object.values(CLAIMS),
      },
      200,
      { 'Cache-Control': 'public, max-age=300' },
    ),
  );

  api.openapi(jwks, async (c) => c.json(await auth.keys.jwks(), 200, { 'Cache-Control': 'public, max-age=300' }));

  api.openapi(exchange, async (c) => {
    const { provider } = c.req.valid('param');
    const trusted = options.providers[provider];
    if (!trusted) throw new Problem(404, { kind: 'not-found', detail: `The provider ${provider} is not configured.` });
    const token = tokenOf(c.req.header('authorization'), undefined);
    if (!token) {
      throw unauthorized(`Send the ${provider} token as Authorization: Bearer <token>.`, `Bearer realm="${provider}"`);
    }
    const claims = await refusing(`The ${provider} token`, () => verifyExternal(token, trusted));
    const platformToken = await platformTokenFor(options, provider, claims);
    return c.text(platformToken, 200);
  });

  api.openapi(refresh, async (c) => {
    const token = tokenOf(c.req.header('authorization'), getCookie(c, RUNTIME_COOKIE));
    if (!token) throw unauthorized('Send a platform token to refresh.', 'Bearer realm="platform"');
    const claims = await refusing('Token', () => auth.verifier.verifyClaims(token));
    return c.text(await auth.issuer.sign(claims), 200);
  });

  api.use('/accesstoken/*', authenticate({ verifier: auth.verifier }));
  api.use('/openid/keys/*', authenticate({ verifier: auth.verifier }));

  api.openapi(accessToken, async (c) => {
    const { org, app } = c.req.valid('param');
    const principal = principalOf(c);
    if (principal.kind !== 'org' || principal.org !== org) {
      throw forbidden(`Only the org ${org} gets PlatformAccessTokens for its apps.`);
    }
    return c.text(await auth.issuer.accessToken({ org, app }), 200);
  });

  api.openapi(rotate, async (c) => {
    if (!hasScope(principalOf(c), KEYS_ADMIN_SCOPE))
      throw forbidden(`Rotating keys needs the scope ${KEYS_ADMIN_SCOPE}.`);
    const kid = await auth.keys.rotate();
    c.var.logger.info('signing key rotated', { kid });
    return c.json({ kid }, 200);
  });

  addAppTokenKeyRoutes(api, { keys: auth.appKeys, verifier: auth.verifier, operatorToken: options.operatorToken });
  addLoginRoutes(api, {
    issuer: auth.issuer,
    verifier: auth.verifier,
    directory,
    testLogin: options.testIdp !== undefined,
    platformUrl: options.login?.platformUrl ?? new URL(options.issuer).origin,
    redirectHosts: options.login?.redirectHosts ?? [],
  });
  if (options.testIdp) addTestIdpRoutes(api, options.testIdp);
  return api;
}

const testToken = createRoute({
  method: 'get',
  path: '/testidp/token',
  summary:
    'Local mode: an external token from the built-in test identity provider, for a person (`ssn`, `level`) or an organisation (`orgNumber`, `scope`)',
  request: {
    query: z.strictObject({
      ssn: z
        .string()
        .regex(/^\d{11}$/)
        .optional(),
      level: z.enum(['0', '1', '2', '3', '4']).optional(),
      orgNumber: z
        .string()
        .regex(/^\d{9}$/)
        .optional(),
      scope: z.string().max(2000).optional(),
      exchange: z.enum(['true', 'false']).optional(),
    }),
  },
  responses: {
    200: { description: 'The token (exchanged for a platform token with `exchange=true`)', content: jwtText },
  },
});

const testJwks = createRoute({
  method: 'get',
  path: '/testidp/jwks',
  summary: "Local mode: the test identity provider's public keys",
  responses: {
    200: { description: 'A JWK Set', content: { 'application/json': { schema: z.object({}).passthrough() } } },
  },
});

function addTestIdpRoutes(api: PlatformApp, idp: TestIdentityProvider): void {
  api.openapi(testJwks, async (c) => c.json(await idp.jwks(), 200));
  api.openapi(testToken, async (c) => {
    const query = c.req.valid('query');
    if ((query.ssn === undefined) === (query.orgNumber === undefined)) {
      throw new Problem(400, {
        kind: 'validation',
        title: 'Invalid request',
        detail: 'Give either ssn (a person) or orgNumber (an organisation).',
        errors: [{ field: 'query.ssn', detail: 'exactly one of ssn and orgNumber' }],
      });
    }
    const external = query.ssn
      ? await idp.idporten({
          ssn: query.ssn,
          level: query.level === undefined ? 3 : (Number(query.level) as 0 | 1 | 2 | 3 | 4),
        })
      : await idp.maskinporten({
          orgNumber: query.orgNumber ?? '',
          scopes: (query.scope ?? '').split(' ').filter(Boolean),
        });
    if (query.exchange !== 'true') return c.text(external, 200);
    const provider = query.ssn ? 'id-porten' : 'maskinporten';
    // One curl to a platform token: the same exchange a client makes, through this API.
    const response = await api.request(`${AUTHENTICATION_PREFIX}/exchange/${provider}`, {
      headers: { authorization: `Bearer ${external}` },
    });
    // The exchange's own answer (the token, or its problem) goes back as it is.
    return new Response(response.body, response) as never;
  });
}
