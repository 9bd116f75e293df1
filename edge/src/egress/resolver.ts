/**
 * Name resolution for egress checks, injectable: production asks a DNS-over-HTTPS resolver (JSON API,
 * A and AAAA); local development and tests give a fixed map in `EGRESS_DNS` instead. Answers are cached
 * in isolate memory as plain strings with an expiry, never as promises shared between requests.
 */

/** Resolves a host name to every IPv4 and IPv6 address it has (empty when it has none). */
export interface Resolver {
  resolve(name: string): Promise<string[]>;
}

/** A resolver that answers from a fixed map (`{"name": ["10.0.0.1"]}`); names not in it have no address. */
export function mapResolver(map: Readonly<Record<string, readonly string[]>>): Resolver {
  return {
    async resolve(name) {
      return [...(map[name] ?? [])];
    },
  };
}

interface CachedAnswer {
  addresses: string[];
  expiresAt: number;
}

const MAX_CACHED = 1000;
const cache = new Map<string, CachedAnswer>();

interface DohAnswer {
  Status?: number;
  Answer?: { type: number; data: string; TTL?: number }[];
}

/** A DNS-over-HTTPS resolver (`application/dns-json`, as Cloudflare's and Google's answer). */
export function dohResolver(endpoint: string, fetcher: typeof fetch = fetch): Resolver {
  async function query(name: string, type: 'A' | 'AAAA'): Promise<{ addresses: string[]; ttl: number }> {
    const url = `${endpoint}?name=${encodeURIComponent(name)}&type=${type}`;
    const res = await fetcher(url, { headers: { accept: 'application/dns-json' }, signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new ResolveError(`resolver answered ${res.status}`);
    let body: DohAnswer;
    try {
      body = (await res.json()) as DohAnswer;
    } catch {
      throw new ResolveError('resolver answered no DNS JSON');
    }
    if (body === null || typeof body !== 'object') throw new ResolveError('resolver answered no DNS JSON');
    // NXDOMAIN (3) means no address; other failures must not read as "no address, so fine".
    if (body.Status !== 0 && body.Status !== 3) throw new ResolveError(`resolver status ${body.Status}`);
    const wanted = type === 'A' ? 1 : 28;
    const answers = (body.Answer ?? []).filter((a) => a.type === wanted);
    const ttl = Math.min(300, ...answers.map((a) => a.TTL ?? 60));
    return { addresses: answers.map((a) => a.data), ttl: Math.max(5, ttl) };
  }
  return {
    async resolve(name) {
      const now = Date.now();
      const hit = cache.get(name);
      if (hit !== undefined && hit.expiresAt > now) return [...hit.addresses];
      const [a, aaaa] = await Promise.all([query(name, 'A'), query(name, 'AAAA')]);
      const addresses = [...a.addresses, ...aaaa.addresses];
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(name, { addresses, expiresAt: now + Math.min(a.ttl, aaaa.ttl) * 1000 });
      return [...addresses];
    },
  };
}

/** The resolver could not give an answer (as opposed to: the name has no address). */
export class ResolveError extends Error {
  override name = 'ResolveError';
}

/** Default DNS-over-HTTPS endpoint. */
export const DEFAULT_DOH_URL = 'https://cloudflare-dns.com/dns-query';

/**
 * The resolver `EGRESS_DNS` configures: unset or `doh` -> DNS over HTTPS (`EGRESS_DOH_URL`), a JSON
 * object -> that fixed map (development and tests only).
 */
export function resolverFrom(setting: string | undefined, dohUrl: string | undefined): Resolver {
  if (setting === undefined || setting === '' || setting === 'doh') return dohResolver(dohUrl || DEFAULT_DOH_URL);
  const parsed = JSON.parse(setting) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('EGRESS_DNS must be "doh" or a JSON object of name -> address list');
  }
  const map: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(parsed)) {
    map[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : [String(value)];
  }
  return mapResolver(map);
}
