import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';

/** A self-signed RSA certificate and its private key, as an org signs its apps' PlatformAccessTokens with. */
export interface TestCertificate {
  /** The certificate, PEM. */
  pem: string;
  /** The private key, PEM (PKCS#8). */
  privateKeyPem: string;
  /** SHA-1 thumbprint in upper-case hex: the `kid` .NET's X509SigningCredentials writes. */
  thumbprint: string;
  /** Base64url SHA-1 thumbprint: the `x5t` header .NET writes. */
  x5t: string;
}

const CA_CONFIG = `[ ca ]
default_ca = ca_default
[ ca_default ]
dir = .
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
`;

/** OpenSSL's `YYYYMMDDHHMMSSZ`. */
const opensslTime = (date: Date) => `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/**
 * Makes a self-signed certificate for `commonName` valid from `notBefore` to `notAfter` (past dates too, for an
 * expired one) with the `openssl` command line, through `openssl ca -selfsign`, which takes explicit dates.
 */
export function makeCertificate(commonName: string, notBefore: Date, notAfter: Date): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'app-token-cert-'));
  try {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    writeFileSync(path.join(dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(path.join(dir, 'index.txt'), '');
    writeFileSync(path.join(dir, 'serial'), '01\n');
    run(
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'key.pem',
      '-subj',
      `/CN=${commonName}`,
      '-out',
      'csr.pem',
    );
    run(
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-selfsign',
      '-keyfile',
      'key.pem',
      '-in',
      'csr.pem',
      '-notext',
      '-startdate',
      opensslTime(notBefore),
      '-enddate',
      opensslTime(notAfter),
      '-out',
      'cert.pem',
    );
    const pem = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    const der = new X509Certificate(pem).raw;
    const sha1 = createHash('sha1').update(der).digest();
    const privateKeyPem = createPrivateKey(readFileSync(path.join(dir, 'key.pem'), 'utf8'))
      .export({ format: 'pem', type: 'pkcs8' })
      .toString();
    return { pem, privateKeyPem, thumbprint: sha1.toString('hex').toUpperCase(), x5t: sha1.toString('base64url') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What to put in an app-signed PlatformAccessToken; defaults are app-lib's AccessTokenGenerator's. */
export interface AppTokenClaims {
  /** `iss`: the org. */
  issuer: string;
  /** `urn:altinn:app`: the app's name. */
  app: string;
  /** Header `kid` (and `x5t` when given), as .NET writes them for a certificate. */
  kid?: string;
  x5t?: string;
  /** Seconds from now; 300 by default (Altinn's TokenLifetimeInSeconds default). */
  lifetimeSeconds?: number;
}

/**
 * Signs a PlatformAccessToken as app-lib's AccessTokenGenerator does (Altinn.Common.AccessTokenClient): RS256,
 * `iss` = org, `urn:altinn:app` = app, `aud` = `platform.altinn.no`, `nbf` a little in the past, `exp`.
 */
export async function signAppToken(privateKeyPem: string, claims: AppTokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ 'urn:altinn:app': claims.app })
    .setProtectedHeader({
      alg: 'RS256',
      typ: 'JWT',
      ...(claims.kid ? { kid: claims.kid } : {}),
      ...(claims.x5t ? { x5t: claims.x5t } : {}),
    })
    .setIssuer(claims.issuer)
    .setAudience('platform.altinn.no')
    .setNotBefore(now - 5)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.lifetimeSeconds ?? 300))
    .sign(createPrivateKey(privateKeyPem));
}
