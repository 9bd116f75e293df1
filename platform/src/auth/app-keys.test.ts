import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeCertificate } from '../../../test/support/certificates.js';
import { AppTokenKeyError, parseAppTokenKey } from './app-keys.js';
import { cachedAppDirectory } from './tokens.js';

const NOW = new Date('2026-06-01T00:00:00Z');

/** The field and message a refused key names. */
async function refusal(input: Parameters<typeof parseAppTokenKey>[0], now = NOW) {
  try {
    await parseAppTokenKey(input, now);
  } catch (error) {
    if (error instanceof AppTokenKeyError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('the key was accepted');
}

describe('parseAppTokenKey', () => {
  it('takes a certificate with its own validity, its SHA-1 thumbprint as keyId and x5t', async () => {
    const cert = makeCertificate('ttd', new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
    const key = await parseAppTokenKey({ certificate: cert.pem }, NOW);
    expect(key).toMatchObject({ kind: 'certificate', keyId: cert.thumbprint, x5t: cert.x5t, subject: 'CN=ttd' });
    expect(key.notBefore.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(key.notAfter?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(key.publicJwk).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB' });
    // Given dates only narrow a certificate's validity.
    const narrowed = await parseAppTokenKey(
      {
        certificate: cert.pem,
        notBefore: new Date('2025-01-01T00:00:00Z'),
        notAfter: new Date('2026-09-01T00:00:00Z'),
      },
      NOW,
    );
    expect(narrowed.notBefore.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(narrowed.notAfter?.toISOString()).toBe('2026-09-01T00:00:00.000Z');
    expect(await refusal({ certificate: cert.pem }, new Date('2027-02-01T00:00:00Z'))).toMatchObject({
      field: 'certificate',
      message: expect.stringMatching(/expired/),
    });
  });

  it('refuses private keys, non-RSA keys, short RSA keys and anything that is not a key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privatePem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(await refusal({ publicKey: privatePem })).toEqual({
      field: 'publicKey',
      message: 'must be a public key, never a private one',
    });
    const privateJwk = rsa.privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
    expect((await refusal({ jwk: privateJwk })).field).toBe('jwk');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(await refusal({ publicKey: ec.publicKey.export({ format: 'pem', type: 'spki' }).toString() })).toEqual({
      field: 'publicKey',
      message: 'must be an RSA key: PlatformAccessTokens are signed with RS256',
    });
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(
      (await refusal({ publicKey: short.publicKey.export({ format: 'pem', type: 'spki' }).toString() })).message,
    ).toMatch(/2048 bits/);
    expect(await refusal({ certificate: 'not a certificate' })).toEqual({
      field: 'certificate',
      message: 'is not a PEM X.509 certificate',
    });
    expect((await refusal({})).message).toMatch(/exactly one of/);
  });

  it('names a bare key by its JWK kid, else by its RFC 7638 thumbprint; notAfter must be ahead', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = rsa.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    expect((await parseAppTokenKey({ jwk: { ...jwk, kid: 'ttd-1' } }, NOW)).keyId).toBe('ttd-1');
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const key = await parseAppTokenKey({ publicKey: pem }, NOW);
    expect(key.keyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({ kind: 'publicKey', notAfter: null, notBefore: NOW });
    expect((await refusal({ publicKey: pem, notAfter: new Date('2026-01-01T00:00:00Z') })).field).toBe('notAfter');
  });
});

describe('cachedAppDirectory', () => {
  it('keeps found apps for the TTL and asks again for apps not found', async () => {
    const asked: string[] = [];
    let deployed = new Set(['ttd/a']);
    let clock = 0;
    const apps = cachedAppDirectory(
      async (org, app) => {
        asked.push(`${org}/${app}`);
        return deployed.has(`${org}/${app}`);
      },
      1000,
      () => clock,
    );
    expect(await apps('ttd', 'a')).toBe(true);
    expect(await apps('ttd', 'a')).toBe(true);
    expect(await apps('ttd', 'b')).toBe(false);
    deployed = new Set(['ttd/b']);
    expect(await apps('ttd', 'b')).toBe(true);
    expect(await apps('ttd', 'a')).toBe(true);
    clock = 1001;
    expect(await apps('ttd', 'a')).toBe(false);
    expect(asked).toEqual(['ttd/a', 'ttd/b', 'ttd/b', 'ttd/a']);
  });
});
