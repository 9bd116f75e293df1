/**
 * Header rules of a forwarding proxy (RFC 9110 sections 7.6.1 to 7.6.3, RFC 7239): which fields
 * are hop-by-hop, which client-sent forwarding fields are dropped, and how `Via` and `Forwarded`
 * are written. Each direction copies the fields it keeps in one pass over the source.
 */

/** Hop-by-hop fields that never cross the proxy, in either direction. */
export const HOP_BY_HOP: readonly string[] = [
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
];

/** Fields that claim to say who the client is; only the edge may set them, so client values are dropped. */
export const CLIENT_IDENTITY_FIELDS: readonly string[] = [
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
  'cf-connecting-ip',
];

/** Fields the edge always writes itself (`set` replaces what the client sent, so no delete is needed). */
const WRITTEN_BY_EDGE = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'via',
  'x-request-id',
]);

/**
 * Fields of a client request that must be deleted before it goes upstream: hop-by-hop fields,
 * the client-identity fields the edge does not overwrite, and `Host` (the upstream URL's).
 */
export const REQUEST_DROPPED: ReadonlySet<string> = new Set(
  [...HOP_BY_HOP, ...CLIENT_IDENTITY_FIELDS, 'host'].filter((name) => !WRITTEN_BY_EDGE.has(name)),
);

/** Fields of an upstream response that must be deleted before it goes to the client. */
export const RESPONSE_DROPPED: ReadonlySet<string> = new Set(HOP_BY_HOP);

/** Every run of field-name characters (RFC 9110 `token`) in a `Connection` value. */
const CONNECTION_TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/g;

/**
 * Removes from `headers` the fields in `dropped` and every field named in `Connection` (RFC 9110
 * section 7.6.1). A malformed `Connection` (options split by spaces, parameters, stray characters)
 * still names fields: each token-shaped run in it is removed, so a field the sender may have meant
 * as hop-by-hop never passes, and a name `Headers` would refuse never throws (was a 500).
 * Deleting a known short list costs less than copying field by field in workerd.
 */
export function dropFields(headers: Headers, dropped: ReadonlySet<string>): void {
  const connection = headers.get('connection');
  if (connection) for (const [name] of connection.matchAll(CONNECTION_TOKEN)) headers.delete(name);
  for (const name of dropped) headers.delete(name);
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

/** `Via` with this proxy's entry appended to what the message carried. */
export function viaWith(existing: string | null, pseudonym: string): string {
  return existing ? `${existing}, 1.1 ${pseudonym}` : `1.1 ${pseudonym}`;
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

/**
 * Writes `Forwarded` and `X-Forwarded-For|Proto|Host` from `facts`, replacing whatever the client
 * sent; a client's `X-Forwarded-For` is deleted when the edge does not know the address.
 */
export function setForwarding(headers: Headers, facts: ClientFacts): void {
  headers.set('forwarded', `for=${forwardedNode(facts.ip)};host=${forwardedValue(facts.host)};proto=${facts.proto}`);
  if (facts.ip) headers.set('x-forwarded-for', facts.ip);
  else headers.delete('x-forwarded-for');
  headers.set('x-forwarded-proto', facts.proto);
  headers.set('x-forwarded-host', facts.host);
}
