/**
 * Credentials at rest: AES-256-GCM (WebCrypto) with a key from the `EGRESS_CREDENTIALS_KEY` secret
 * (32 bytes, base64). Each sealed value names its key by id (so a previous key, in
 * `EGRESS_CREDENTIALS_KEY_PREVIOUS`, still opens it after a rotation) and is bound by additional
 * data to its slot (`org/target`), so a sealed value copied to another target does not open.
 */

/** A credential sealed for storage. */
export interface Sealed {
  v: 1;
  kid: string;
  iv: string;
  ct: string;
}

/** The key secret is missing or malformed. */
export class SealingKeyError extends Error {
  override name = 'SealingKeyError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

interface LoadedKey {
  kid: string;
  key: CryptoKey;
}

/** Imported keys by secret value: CryptoKeys and strings only, no I/O objects or promises. */
const imported = new Map<string, LoadedKey>();

async function loadKey(secret: string): Promise<LoadedKey> {
  const hit = imported.get(secret);
  if (hit !== undefined) return hit;
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = fromBase64(secret.trim());
  } catch {
    throw new SealingKeyError('EGRESS_CREDENTIALS_KEY is not base64');
  }
  if (raw.length !== 32) throw new SealingKeyError('EGRESS_CREDENTIALS_KEY must be 32 bytes (base64)');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', raw));
  const kid = [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
  const loaded = { kid, key };
  imported.set(secret, loaded);
  return loaded;
}

/** The sealing keys configured: the current one first, then the previous one if any. */
export interface SealingKeys {
  current?: string;
  previous?: string;
}

/** Seals `plaintext` for `slot` with the current key. */
export async function seal(keys: SealingKeys, slot: string, plaintext: string): Promise<Sealed> {
  if (!keys.current) throw new SealingKeyError('EGRESS_CREDENTIALS_KEY is not set');
  const { kid, key } = await loadKey(keys.current);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(slot) },
    key,
    encoder.encode(plaintext),
  );
  return { v: 1, kid, iv: toBase64(iv), ct: toBase64(new Uint8Array(ct)) };
}

/** Opens a sealed value of `slot`; throws when no configured key has its id or it was tampered with. */
export async function open(keys: SealingKeys, slot: string, sealed: Sealed): Promise<string> {
  if (!keys.current && !keys.previous) throw new SealingKeyError('EGRESS_CREDENTIALS_KEY is not set');
  for (const secret of [keys.current, keys.previous]) {
    if (!secret) continue;
    const { kid, key } = await loadKey(secret);
    if (kid !== sealed.kid) continue;
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData: encoder.encode(slot) },
      key,
      fromBase64(sealed.ct),
    );
    return decoder.decode(plain);
  }
  throw new SealingKeyError(`neither EGRESS_CREDENTIALS_KEY nor _PREVIOUS is the key ${sealed.kid}`);
}

/** The id of the current key (shown by the admin API, so operators can see what needs re-sealing). */
export async function currentKeyId(keys: SealingKeys): Promise<string> {
  if (!keys.current) throw new SealingKeyError('EGRESS_CREDENTIALS_KEY is not set');
  return (await loadKey(keys.current)).kid;
}
