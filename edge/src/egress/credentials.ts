import { z } from 'zod';

/**
 * Credentials the proxy injects into calls to a target (Envoy's credential injector): an API key
 * header, HTTP Basic, or an OAuth2 client-credentials token that the proxy fetches, caches and
 * refreshes. Apps never see them; the admin API can set and rotate them but never read them back.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN_HEADERS = new Set(['host', 'cookie', 'content-length', 'transfer-encoding', 'connection']);

/** The admin API's credential body (PUT `/_edge/egress/{org}/targets/{target}/credential`). */
export const credentialBody = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('header'),
      name: z
        .string()
        .regex(TOKEN, 'must be an HTTP field name')
        .transform((n) => n.toLowerCase())
        .refine((n) => !FORBIDDEN_HEADERS.has(n), 'cannot be set by a credential'),
      value: z
        .string()
        .min(1)
        .max(8192)
        .regex(/^[\t\x20-\x7e]+$/, 'must be printable ASCII'),
      prefix: z.string().max(64).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('basic'),
      username: z
        .string()
        .min(1)
        .max(512)
        .refine((u) => !u.includes(':'), 'must not contain ":"'),
      password: z.string().max(4096),
    })
    .strict(),
  z
    .object({
      type: z.literal('oauth2'),
      tokenUrl: z.url({ protocol: /^https?$/ }).max(2048),
      clientId: z.string().min(1).max(512),
      clientSecret: z.string().min(1).max(4096),
      scope: z.string().max(2048).optional(),
      audience: z.string().max(2048).optional(),
      clientAuth: z.enum(['basic', 'body']).default('basic'),
    })
    .strict(),
]);

/** A credential in plain form (only ever in memory while a call is made). */
export type Credential = z.output<typeof credentialBody>;

/** What the admin API may show of a credential: its kind and non-secret parts, never the secret. */
export interface CredentialInfo {
  type: Credential['type'];
  header?: string;
  username?: string;
  tokenUrl?: string;
  clientId?: string;
  scope?: string;
  version: number;
  keyId: string;
  updatedAt: string;
}

/** The non-secret description of `credential`. */
export function describe(credential: Credential, version: number, keyId: string, updatedAt: string): CredentialInfo {
  const base = { type: credential.type, version, keyId, updatedAt };
  switch (credential.type) {
    case 'header':
      return { ...base, header: credential.name };
    case 'basic':
      return { ...base, username: credential.username };
    case 'oauth2':
      return {
        ...base,
        tokenUrl: credential.tokenUrl,
        clientId: credential.clientId,
        ...(credential.scope === undefined ? {} : { scope: credential.scope }),
      };
  }
}

/** The fields a credential of each kind writes, removed from the app's request before injection. */
export function injectedField(credential: Credential): string {
  return credential.type === 'header' ? credential.name : 'authorization';
}

/** Basic credentials as the Authorization value. */
function basic(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return `Basic ${btoa(text)}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * OAuth2 tokens by credential slot (`org/target`), each with the id of the credential it was minted
 * for: plain strings with an expiry, never promises. The id is the sealed credential's IV (96 random
 * bits, new for every sealing, and never reused under one key, or AES-GCM itself would break), so a
 * target or credential deleted and set again never finds the old client's token, whatever its version.
 */
const tokens = new Map<string, CachedToken & { credentialId: string }>();
const SKEW_MS = 30_000;

/** Which credential a token belongs to: its slot (`org/target`) and the sealed credential's id. */
export interface TokenKey {
  slot: string;
  credentialId: string;
}

/** Forgets the cached token of a slot (the target refused it, or its credential changed or is gone). */
export function forgetToken(slot: string): void {
  tokens.delete(slot);
}

/** Fetches an OAuth2 token; `fetchToken` is the checked fetch of the egress proxy (SSRF rules apply). */
export type TokenFetcher = (url: string, init: RequestInit) => Promise<Response>;

/** The token endpoint failed; the message is safe to show (it carries no secret). */
export class TokenError extends Error {
  override name = 'TokenError';
}

async function clientCredentialsToken(
  credential: Extract<Credential, { type: 'oauth2' }>,
  fetchToken: TokenFetcher,
): Promise<CachedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (credential.scope) form.set('scope', credential.scope);
  if (credential.audience) form.set('audience', credential.audience);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (credential.clientAuth === 'basic') {
    headers.authorization = basic(encodeURIComponent(credential.clientId), encodeURIComponent(credential.clientSecret));
  } else {
    form.set('client_id', credential.clientId);
    form.set('client_secret', credential.clientSecret);
  }
  const res = await fetchToken(credential.tokenUrl, { method: 'POST', headers, body: form.toString() });
  if (!res.ok) {
    await res.body?.cancel();
    throw new TokenError(`token endpoint answered ${res.status}`);
  }
  const body = (await res.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new TokenError('token endpoint answered no access_token');
  }
  const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300;
  return { token: body.access_token, expiresAt: Date.now() + lifetime * 1000 - SKEW_MS };
}

/**
 * Writes `credential` into `headers` (after the app's own Authorization and cookies are gone). An
 * OAuth2 token comes from the isolate's cache while it has more than 30 s left, else is fetched anew.
 */
export async function inject(
  headers: Headers,
  credential: Credential,
  key: TokenKey,
  fetchToken: TokenFetcher,
): Promise<void> {
  switch (credential.type) {
    case 'header':
      headers.set(credential.name, `${credential.prefix ?? ''}${credential.value}`);
      return;
    case 'basic':
      headers.set('authorization', basic(credential.username, credential.password));
      return;
    case 'oauth2': {
      let cached = tokens.get(key.slot);
      if (cached === undefined || cached.credentialId !== key.credentialId || cached.expiresAt <= Date.now()) {
        tokens.delete(key.slot);
        const minted = await clientCredentialsToken(credential, fetchToken);
        if (tokens.size > 1000) tokens.clear();
        cached = { ...minted, credentialId: key.credentialId };
        tokens.set(key.slot, cached);
      }
      headers.set('authorization', `Bearer ${cached.token}`);
      return;
    }
  }
}
