import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { importJWK, SignJWT } from 'jose';
import { inject } from 'vitest';
import worker from '../src/index';
import { ADMIN_TOKEN } from './helpers';

/** Helpers of the egress tests: the Worker called with egress settings, app tokens, and the loopback target. */

/** A fixed 32-byte credentials key (base64) for the tests. */
export const CREDENTIALS_KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));

/** Names the test resolver knows: each plays an attacker's DNS answer. */
export const DNS_MAP: Record<string, string[]> = {
  'evil.example': ['127.0.0.1'],
  'rebind.example': ['93.184.216.34', '10.0.0.1'],
  'ipv6-loop.example': ['::1'],
  'mapped.example': ['::ffff:10.0.0.1'],
  'cgnat.example': ['100.100.100.200'],
  'metadata.example': ['169.254.169.254'],
  'ula.example': ['fd00::1'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
  'public.example': ['93.184.216.34'],
};

/** Port of the loopback egress target. */
export function targetPort(): number {
  return inject('egressTargetPort');
}

/** Base URL of the loopback egress target. */
export function targetBase(): string {
  return `http://127.0.0.1:${targetPort()}`;
}

/** The Worker's env with egress configured; the development loopback allowance stays off unless asked. */
export function egressEnv(overrides: Record<string, string | undefined> = {}): Cloudflare.Env {
  return {
    ...env,
    EGRESS_JWKS_URL: `${targetBase()}/jwks`,
    EGRESS_CREDENTIALS_KEY: CREDENTIALS_KEY,
    EGRESS_DNS: JSON.stringify(DNS_MAP),
    EGRESS_DEV_LOOPBACK_PORTS: undefined,
    ...overrides,
  } as Cloudflare.Env;
}

/** A dev env: the loopback target's port allowed at 127.0.0.1 (the documented development allowance). */
export function devEnv(overrides: Record<string, string | undefined> = {}): Cloudflare.Env {
  return egressEnv({ EGRESS_DEV_LOOPBACK_PORTS: String(targetPort()), ...overrides });
}

/** Calls the Worker with `workerEnv`, reads the whole body and waits for its background work (the audit). */
export async function call(
  path: string,
  init: RequestInit = {},
  workerEnv: Cloudflare.Env = egressEnv(),
): Promise<{ res: Response; text: string }> {
  const ctx = createExecutionContext();
  const request = new Request(`https://edge.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const res = await worker.fetch(request, workerEnv as never, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { res, text };
}

/** Calls the egress admin API with the admin token. */
export function egressAdmin(
  method: string,
  path: string,
  body?: unknown,
  workerEnv: Cloudflare.Env = egressEnv(),
): Promise<{ res: Response; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return call(
    `/_edge/egress${path}`,
    { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
    workerEnv,
  );
}

/** Creates or replaces a target and fails loudly when the admin API refuses it. */
export async function putTarget(org: string, name: string, rule: Record<string, unknown>): Promise<void> {
  const { res, text } = await egressAdmin('PUT', `/${org}/targets/${name}`, rule);
  if (res.status !== 201 && res.status !== 200) throw new Error(`target ${org}/${name}: ${res.status} ${text}`);
}

/** Sets a target's credential. */
export async function putCredential(org: string, name: string, credential: Record<string, unknown>): Promise<void> {
  const { res, text } = await egressAdmin('PUT', `/${org}/targets/${name}/credential`, credential);
  if (res.status !== 201 && res.status !== 200) throw new Error(`credential ${org}/${name}: ${res.status} ${text}`);
}

/** A PlatformAccessToken for `org/app`, minted like the functions host does (claims may be overridden). */
export async function appToken(
  org: string,
  app: string,
  claims: Record<string, unknown> = {},
  jwk = inject('egressSigningJwk'),
): Promise<string> {
  const key = await importJWK(jwk, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    'urn:altinn:org': org,
    'urn:altinn:app': app,
    aud: 'urn:altinn-platform:access-token',
    sub: `${org}/${app}`,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid ?? 'egress-test-key', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now + 1800)
    .sign(key);
}

/** A problem+json body with the egress `reason`. */
export interface EgressProblem {
  type: string;
  status: number;
  title: string;
  detail: string;
  reason: string;
}

/** Parses a response that must be a problem+json of `status`. */
export function problemOf(res: Response, text: string, status: number): EgressProblem {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text.slice(0, 500)}`);
  if (res.headers.get('content-type') !== 'application/problem+json') throw new Error(`not problem+json: ${text}`);
  return JSON.parse(text) as EgressProblem;
}

/** How many requests the loopback target has answered on its API paths. */
export async function targetHits(): Promise<number> {
  return ((await (await fetch(`${targetBase()}/__hits`)).json()) as { hits: number }).hits;
}
