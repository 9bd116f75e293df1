import { edgeLog } from '../log';
import { addressRefusal, hostKind, ipv4Refusal, ipv6Refusal, nameRefusal } from '../net/address';
import { denied, EgressRefusal } from './refusal';
import type { Resolver } from './resolver';
import { defaultPort } from './rules';

/**
 * Where an egress call goes, and the SSRF checks on it. Apps ask for
 * `/_egress/{scheme}/{host}[:{port}]/{path}?{query}`; the authority may hold only host characters
 * (no userinfo, percent-escapes or backslashes), and every hop (the first and each redirect) is
 * checked by `checkDestination` before it is fetched.
 */

/** The egress prefix on the edge host. */
export const EGRESS_PREFIX = '/_egress/';

const AUTHORITY = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** A destination: the parsed URL and what the checks need of it. */
export interface Destination {
  url: URL;
  scheme: 'http' | 'https';
  hostname: string;
  port: number;
  /** The host exactly as written (before WHATWG normalisation), for the development loopback allowance; '' when not plainly written. */
  writtenHost: string;
}

/** Parses a URL given by an app or a redirect into a destination; refuses anything but plain http(s). */
export function destinationOf(url: URL, writtenAuthority: string, unwritten = false): Destination {
  const scheme = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : null;
  if (scheme === null) throw denied('malformed-target', 'Only http and https targets are allowed.');
  if (url.username !== '' || url.password !== '' || !AUTHORITY.test(writtenAuthority)) {
    throw denied('malformed-target', 'The target authority may hold only a host name or address and a port.');
  }
  if (url.hostname === '' || url.hostname.endsWith('.')) {
    throw denied('malformed-target', 'The target host must be a name or address without a trailing dot.');
  }
  if (/%2f|%5c/i.test(url.pathname)) throw denied('malformed-target', 'Encoded slashes are not allowed in the path.');
  const port = url.port === '' ? defaultPort(scheme) : Number(url.port);
  const writtenHost = unwritten ? '' : writtenAuthority.replace(/:\d{1,5}$/, '');
  return { url, scheme, hostname: url.hostname, port, writtenHost };
}

/** Parses the app's request path into its first destination. */
export function firstDestination(requestUrl: URL): Destination {
  const rest = requestUrl.pathname.slice(EGRESS_PREFIX.length);
  const schemeEnd = rest.indexOf('/');
  const scheme = schemeEnd === -1 ? rest : rest.slice(0, schemeEnd);
  if (scheme !== 'http' && scheme !== 'https') {
    throw denied('malformed-target', 'Call /_egress/{http|https}/{host}[:{port}]/{path}.');
  }
  const afterScheme = rest.slice(schemeEnd + 1);
  const authorityEnd = afterScheme.indexOf('/');
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd);
  const path = authorityEnd === -1 ? '/' : afterScheme.slice(authorityEnd);
  if (!AUTHORITY.test(authority)) {
    throw denied('malformed-target', 'The target authority may hold only a host name or address and a port.');
  }
  let url: URL;
  try {
    url = new URL(`${scheme}://${authority}${path}${requestUrl.search}`);
  } catch {
    throw denied('malformed-target', 'The target is not a valid URL.');
  }
  return destinationOf(url, authority);
}

/** `text` without leading and trailing C0 control characters and spaces (code points up to U+0020). */
function trimControls(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return text.slice(start, end);
}

/**
 * The authority a `Location` writes, as WHATWG URL reads it: leading and trailing controls and
 * spaces dropped, tabs and newlines removed anywhere. Only the plain forms count as writing one:
 * `http(s)://{authority}` and protocol-relative `//{authority}` (forward slashes). A path-relative
 * reference writes none and keeps the base's (`inherit`). Anything else (backslashes for slashes,
 * a scheme without `//`, one slash) is answered with '' (no written host), so the development
 * loopback allowance never applies to it: `//0x7f.1:8080/` or `http:\\2130706433/` is loopback
 * like any other spelling, not `127.0.0.1` by another name.
 */
export function writtenAuthorityOf(location: string, inherit: string): string {
  // As the WHATWG URL parser: C0 controls and spaces trimmed at both ends, tabs and newlines removed inside.
  const text = trimControls(location).replace(/[\t\n\r]/g, '');
  const plain = /^(?:https?:)?\/\/([^/\\?#]*)(?:[/?#]|$)/i.exec(text);
  if (plain !== null) return plain[1] ?? '';
  const relative = !/^[a-z][a-z0-9+.-]*:/i.test(text) && !/^[/\\][/\\]/.test(text) && !text.startsWith('\\');
  return relative ? inherit : '';
}

/** The destination of a redirect's `Location` (resolved against the hop it came from), checked by `destinationOf`. */
export function redirectDestination(location: string, base: URL, baseWrittenAuthority = base.host): Destination {
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    throw denied('redirect-denied', 'The target redirected to an invalid URL.');
  }
  const written = writtenAuthorityOf(location, baseWrittenAuthority);
  try {
    return destinationOf(url, written === '' ? url.host : written, written === '');
  } catch (error) {
    if (error instanceof EgressRefusal) throw denied('redirect-denied', `Redirect refused: ${error.detail}`);
    throw error;
  }
}

/** Settings of the destination checks. */
export interface DestinationChecks {
  resolver: Resolver;
  /** Development only: loopback ports reachable at the literal host 127.0.0.1 (EGRESS_DEV_LOOPBACK_PORTS). */
  devLoopbackPorts: ReadonlySet<number>;
}

/** Whether the development loopback allowance lets this destination through. */
function devLoopbackAllowed(dest: Destination, checks: DestinationChecks): boolean {
  return dest.writtenHost === '127.0.0.1' && dest.hostname === '127.0.0.1' && checks.devLoopbackPorts.has(dest.port);
}

/** Refuses a destination whose host is, by itself, a forbidden address or name (before the allow-list). */
export function checkHostLiteral(dest: Destination, checks: DestinationChecks): void {
  if (devLoopbackAllowed(dest, checks)) return;
  const kind = hostKind(dest.hostname);
  if (kind.kind === 'ipv4') {
    const why = ipv4Refusal(kind.value);
    if (why !== null) throw denied('forbidden-address', `The target address is ${why}.`);
  } else if (kind.kind === 'ipv6') {
    const why = ipv6Refusal(kind.groups);
    if (why !== null) throw denied('forbidden-address', `The target address is ${why}.`);
  } else {
    const why = nameRefusal(dest.hostname);
    if (why !== null) throw denied('forbidden-name', `The target host is ${why}.`);
  }
}

/** Resolves a named destination and refuses it when any of its addresses is forbidden (or it has none). */
export async function checkResolution(dest: Destination, checks: DestinationChecks): Promise<void> {
  if (devLoopbackAllowed(dest, checks) || hostKind(dest.hostname).kind !== 'name') return;
  let addresses: string[];
  try {
    addresses = await checks.resolver.resolve(dest.hostname);
  } catch (error) {
    // Whatever failed (no connection, a timeout, an answer that is not DNS JSON), there is no answer:
    // refuse with the documented 502, never read it as "no address" nor let it become a 500.
    edgeLog.warn('egress resolver failed', {
      host: dest.hostname,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    throw new EgressRefusal(502, 'resolver-failed', 'Resolver failed', `Could not resolve ${dest.hostname}.`);
  }
  if (addresses.length === 0) {
    throw new EgressRefusal(502, 'unresolvable', 'Target has no address', `${dest.hostname} has no address.`);
  }
  for (const address of addresses) {
    const why = addressRefusal(address);
    if (why !== null) {
      throw denied('resolves-to-forbidden-address', `${dest.hostname} resolves to an address that is ${why}.`);
    }
  }
}
