import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { Problem } from '../errors/index.js';
import type { AuthVariables } from './principal.js';
import { InvalidTokenError, type TokenVerifier } from './tokens.js';

/** The cookie Altinn apps carry the platform token in. */
export const RUNTIME_COOKIE = 'AltinnStudioRuntime';

/** The header an app sends its own token in, beside the caller's. */
export const ACCESS_TOKEN_HEADER = 'PlatformAccessToken';

/** What the authenticate middleware needs. */
export interface AuthenticateOptions {
  verifier: TokenVerifier;
  /** Paths (below the API's prefix, as `c.req.path` ends) that need no token, e.g. `/openapi.json`. */
  openPaths?: readonly string[];
  /**
   * The caller is an app identified by its `PlatformAccessToken` alone (as Access management's app APIs): that token
   * is required (401 without it or when invalid), no caller token is read, and `principal` stays unset.
   */
  appTokenOnly?: boolean;
}

/** A 401 problem with the given `WWW-Authenticate` challenge. */
export function unauthorized(detail: string, challenge: string): Problem {
  return new Problem(401, { kind: 'unauthorized', detail, headers: { 'WWW-Authenticate': challenge } });
}

/** The caller's token: `Authorization: Bearer` first, else the runtime cookie; a 401 when malformed. */
export function tokenOf(authorization: string | undefined, cookie: string | undefined): string | undefined {
  if (authorization !== undefined) {
    const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization);
    if (!match?.[1]) {
      throw unauthorized(
        'The Authorization header must be "Bearer <token>"',
        'Bearer realm="platform", error="invalid_request"',
      );
    }
    return match[1];
  }
  return cookie === '' ? undefined : cookie;
}

/** Runs a verification, turning an InvalidTokenError into a 401 naming `what` was refused. */
export async function refusing<T>(what: string, verify: () => Promise<T>): Promise<T> {
  try {
    return await verify();
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error;
    throw unauthorized(
      `${what} refused: ${error.message}`,
      `Bearer realm="platform", error="invalid_token", error_description="${quoted(error.message)}"`,
    );
  }
}

const quoted = (text: string) => text.replaceAll('\\', '').replaceAll('"', "'");

/**
 * Verifies the caller's platform token (Bearer or `AltinnStudioRuntime` cookie) and the app's
 * `PlatformAccessToken` when sent, and sets `principal` and `appIdentity`. Every path not open needs a valid
 * caller token: none answers 401 with a Bearer challenge, an invalid one 401 with `error="invalid_token"`.
 */
export function authenticate(options: AuthenticateOptions): MiddlewareHandler<{ Variables: AuthVariables }> {
  const open = new Set(options.openPaths ?? []);
  return async (c, next) => {
    c.set('principal', undefined);
    c.set('appIdentity', undefined);
    if ([...open].some((path) => c.req.path.endsWith(path))) return next();
    if (options.appTokenOnly) {
      const accessToken = c.req.header(ACCESS_TOKEN_HEADER);
      if (accessToken === undefined || accessToken === '') {
        throw unauthorized(`This call needs the app's ${ACCESS_TOKEN_HEADER} header`, 'Bearer realm="platform"');
      }
      c.set('appIdentity', await refusing(ACCESS_TOKEN_HEADER, () => options.verifier.verifyAccessToken(accessToken)));
      return next();
    }
    const token = tokenOf(c.req.header('authorization'), getCookie(c, RUNTIME_COOKIE));
    if (token === undefined) {
      throw unauthorized(
        `This call needs a platform token: Authorization: Bearer <token> or the ${RUNTIME_COOKIE} cookie`,
        'Bearer realm="platform"',
      );
    }
    c.set('principal', await refusing('Token', () => options.verifier.verify(token)));
    const accessToken = c.req.header(ACCESS_TOKEN_HEADER);
    if (accessToken !== undefined) {
      c.set('appIdentity', await refusing(ACCESS_TOKEN_HEADER, () => options.verifier.verifyAccessToken(accessToken)));
    }
    return next();
  };
}
