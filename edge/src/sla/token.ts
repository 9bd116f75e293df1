import { ACCESS_TOKEN_AUDIENCE, PlatformKeysUnavailable, verifyPlatformToken } from '../platform-token';

/** Who a verified platform token names: an org (service owner) or a user. */
export interface TokenCaller {
  /** Consumer id it maps to (`org-{org}` or `user-{userId}`): a consumer of that id sets its plan. */
  id: string;
}

/** Verified tokens until they expire: plain data, so a token is verified once per isolate. */
const verified = new Map<string, { caller: TokenCaller | null; until: number }>();

/** The platform token of a request: `Authorization: Bearer` or the `AltinnStudioRuntime` cookie. */
export function tokenOf(headers: Headers): string | null {
  const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(headers.get('authorization') ?? '');
  if (bearer?.[1] !== undefined) return bearer[1];
  const cookie = headers.get('cookie');
  if (cookie === null) return null;
  const match = /(?:^|;\s*)AltinnStudioRuntime=([^;]+)/.exec(cookie);
  return match?.[1] ?? null;
}

/**
 * The caller a platform token names, when it verifies against `PLATFORM_JWKS` (RS256, the
 * platform's Authentication keys: the JWKS as JSON, or the URL it is served at; see
 * ../platform-token):
 * `urn:altinn:org` makes it the org, else `urn:altinn:userid` the
 * user. A token that does not verify names nobody (the caller is then limited as anonymous; the
 * app itself refuses the token). Results are cached per isolate until the token expires.
 */
export async function tokenCaller(
  headers: Headers,
  jwksText: string | undefined,
  now = Date.now(),
): Promise<TokenCaller | null> {
  if (jwksText === undefined || jwksText === '') return null;
  const token = tokenOf(headers);
  if (token === null || token === '') return null;
  const hit = verified.get(token);
  if (hit !== undefined && hit.until > now) return hit.caller;
  let caller: TokenCaller | null = null;
  let until = now + 60_000;
  try {
    const payload = await verifyPlatformToken(token, jwksText);
    // An app's PlatformAccessToken (held by every replica) identifies the app, not a caller: not a plan key.
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (audiences.includes(ACCESS_TOKEN_AUDIENCE)) throw new Error('an app access token does not identify a caller');
    const org = payload['urn:altinn:org'];
    const user = payload['urn:altinn:userid'];
    if (typeof org === 'string' && /^[a-z0-9-]{1,63}$/.test(org)) caller = { id: `org-${org}` };
    else if ((typeof user === 'string' || typeof user === 'number') && /^[0-9]{1,18}$/.test(String(user))) {
      caller = { id: `user-${user}` };
    }
    if (typeof payload.exp === 'number') until = Math.min(until, payload.exp * 1000);
  } catch (err) {
    if (err instanceof PlatformKeysUnavailable) return null; // not the token's fault: verify it again later
    caller = null;
  }
  if (verified.size >= 10_000) verified.clear();
  verified.set(token, { caller, until });
  return caller;
}
