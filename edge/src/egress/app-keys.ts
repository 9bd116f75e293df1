import { secretsEqual } from '../request/secrets';
import type { AppIdentity } from './identity';

/**
 * The simpler app credential: an egress key the admin API issues to one app (shown once), sent as
 * `X-Egress-Key: egk_{keyId}_{secret}`. Only the secret's SHA-256 is stored, in KV under
 * `egress-appkey/{keyId}`; revoking deletes the record. For apps (and local development) without a
 * platform token; the PlatformAccessToken wins when both are sent.
 */

/** The header apps send an egress key in. */
export const APP_KEY_HEADER = 'x-egress-key';

const KEY = /^egk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** A stored egress key: whose it is and the digest of its secret. */
export interface AppKeyRecord {
  keyId: string;
  org: string;
  app: string;
  sha256: string;
  createdAt: string;
}

const recordKey = (keyId: string) => `egress-appkey/${keyId}`;

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Issues a new key for `org/app`; answers the record (no secret) and the key, which is never shown again. */
export async function issueAppKey(
  kv: KVNamespace,
  identity: AppIdentity,
): Promise<{ record: AppKeyRecord; key: string }> {
  const keyId = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const record: AppKeyRecord = {
    keyId,
    org: identity.org,
    app: identity.app,
    sha256: await sha256Hex(secret),
    createdAt: new Date().toISOString(),
  };
  await kv.put(recordKey(keyId), JSON.stringify(record));
  return { record, key: `egk_${keyId}_${secret}` };
}

/** Revokes `keyId` if it belongs to `org/app`; answers whether it did. */
export async function revokeAppKey(kv: KVNamespace, identity: AppIdentity, keyId: string): Promise<boolean> {
  if (!/^[0-9a-f]{16}$/.test(keyId)) return false;
  const record = await kv.get<AppKeyRecord>(recordKey(keyId), 'json');
  if (record === null || record.org !== identity.org || record.app !== identity.app) return false;
  await kv.delete(recordKey(keyId));
  return true;
}

/** The app an egress key names, or null when it is malformed, unknown, revoked or wrong. */
export async function verifyAppKey(kv: KVNamespace, key: string): Promise<AppIdentity | null> {
  const match = KEY.exec(key.trim());
  if (match?.[1] === undefined || match[2] === undefined) return null;
  const record = await kv.get<AppKeyRecord>(recordKey(match[1]), 'json');
  if (record === null) return null;
  if (!(await secretsEqual(await sha256Hex(match[2]), record.sha256))) return null;
  return { org: record.org, app: record.app };
}
