import { SELF } from 'cloudflare:test';
import { inject } from 'vitest';

/** Admin token the workers project binds (vitest.config.ts). */
export const ADMIN_TOKEN = 'test-admin-token';

/** Base URL of the loopback upstream that plays a cluster ingress. */
export function upstreamBase(): string {
  return `http://127.0.0.1:${inject('upstreamPort')}`;
}

/** Calls the admin API with the admin token (or `token`, or none when null). */
export function admin(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return SELF.fetch(`https://edge.test/_edge${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** Registers `org` at `clusterBase` (the loopback upstream by default) and checks it took. */
export async function routeOrg(org: string, clusterBase = upstreamBase()): Promise<void> {
  const res = await admin('PUT', `/routes/${org}`, { clusterBase });
  if (res.status !== 201 && res.status !== 200) throw new Error(`route ${org}: ${res.status} ${await res.text()}`);
}

/** A problem+json body. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: { field: string; detail: string }[];
}

/** Reads a response that must be problem+json with `status`. */
export async function expectProblem(res: Response, status: number): Promise<ProblemBody> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  if (res.headers.get('content-type') !== 'application/problem+json') {
    throw new Error(`expected problem+json, got ${res.headers.get('content-type')}: ${text}`);
  }
  const body = JSON.parse(text) as ProblemBody;
  if (body.status !== status) throw new Error(`body status ${body.status} != ${status}`);
  return body;
}

/** How many requests carrying `x-test-marker: marker` reached the loopback upstream. */
export async function upstreamHits(marker: string): Promise<number> {
  const res = await fetch(`${upstreamBase()}/__hits?marker=${encodeURIComponent(marker)}`);
  return ((await res.json()) as { hits: number }).hits;
}
