/**
 * Header rules of a forwarding proxy (RFC 9110 sections 7.6.1 to 7.6.3, RFC 7239): which fields
 * are hop-by-hop, which client-sent forwarding fields are dropped, and how `Via` and `Forwarded`
 * are written.
 */

/** Hop-by-hop fields that never cross the proxy, in either direction. */
export const HOP_BY_HOP = [
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
] as const;

/** Fields that claim to say who the client is; only the edge may set them, so client values are dropped. */
export const CLIENT_IDENTITY_FIELDS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'client-ip',
] as const;

/** Removes hop-by-hop fields, including every field named in `Connection`. */
export function stripHopByHop(headers: Headers): void {
  const connection = headers.get('connection');
  if (connection) {
    for (const token of connection.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') headers.delete(name);
    }
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
}

/** Whether `via` already names `pseudonym` as a recipient, meaning the request has looped. */
export function viaNames(via: string | null, pseudonym: string): boolean {
  if (!via) return false;
  const wanted = pseudonym.toLowerCase();
  return via.split(',').some((entry) => {
    // entry: received-protocol SP received-by [ SP comment ]
    const parts = entry.trim().split(/\s+/);
    return (parts[1] ?? '').toLowerCase() === wanted;
  });
}

/** Appends this proxy's entry to `Via`. */
export function appendVia(headers: Headers, pseudonym: string): void {
  const entry = `1.1 ${pseudonym}`;
  const existing = headers.get('via');
  headers.set('via', existing ? `${existing}, ${entry}` : entry);
}

/** Formats a node for `Forwarded`: IPv6 addresses are bracketed and quoted (RFC 7239 section 6). */
export function forwardedNode(ip: string | undefined): string {
  if (!ip) return 'unknown';
  return ip.includes(':') ? `"[${ip}]"` : ip;
}

function forwardedValue(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** What the edge knows of the client, from which it writes the forwarding fields. */
export interface ClientFacts {
  /** Client address as Cloudflare saw it (`CF-Connecting-IP`), if known. */
  ip: string | undefined;
  /** Scheme of the client's request, without the colon. */
  proto: string;
  /** Host the client asked for. */
  host: string;
}

/** Drops client-sent forwarding fields and writes `Forwarded` and `X-Forwarded-*` from `facts`. */
export function setForwarding(headers: Headers, facts: ClientFacts): void {
  for (const name of CLIENT_IDENTITY_FIELDS) headers.delete(name);
  headers.set('forwarded', `for=${forwardedNode(facts.ip)};host=${forwardedValue(facts.host)};proto=${facts.proto}`);
  if (facts.ip) headers.set('x-forwarded-for', facts.ip);
  headers.set('x-forwarded-proto', facts.proto);
  headers.set('x-forwarded-host', facts.host);
}
