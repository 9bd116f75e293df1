import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { Problem } from '../../../platform/src/errors/index.js';

/** Resolves a host name to its addresses (all of them), as `dns.lookup(host, { all: true })`. */
export type Resolve = (host: string) => Promise<string[]>;

/** The system resolver. */
export const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * Addresses never fetched, whatever the allow-list says: unspecified, link-local (cloud metadata services such as
 * 169.254.169.254 live there), multicast, broadcast, and the well-known metadata addresses outside link-local.
 */
const NEVER = new BlockList();
NEVER.addSubnet('0.0.0.0', 8, 'ipv4');
NEVER.addSubnet('169.254.0.0', 16, 'ipv4');
NEVER.addSubnet('224.0.0.0', 4, 'ipv4');
NEVER.addSubnet('240.0.0.0', 4, 'ipv4');
NEVER.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
NEVER.addAddress('::', 'ipv6');
NEVER.addSubnet('fe80::', 10, 'ipv6');
NEVER.addSubnet('ff00::', 8, 'ipv6');
NEVER.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6

const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data']);

/** The IPv4 address an IPv4-mapped or -compatible IPv6 address embeds, else the address itself. */
function unmapped(address: string): string {
  const mapped = /^::(ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[2]) return mapped[2];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] && hex[2]) {
    const high = Number.parseInt(hex[1], 16);
    const low = Number.parseInt(hex[2], 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return address;
}

/** True when `address` (IPv4 or IPv6, mapped forms included) is one the renderer never fetches. */
export function isForbiddenAddress(address: string): boolean {
  const plain = unmapped(address.replace(/^\[|\]$/g, ''));
  const family = isIP(plain);
  if (family === 0) return true;
  return NEVER.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

/** True when `host` (and `port`) matches one allow-list entry: `name`, `*.suffix`, each optionally `:port`. */
export function isAllowedHost(allowed: readonly string[], host: string, port: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((entry) => {
    const [pattern = '', onlyPort] = entry.split(/:(?=\d+$)/);
    if (onlyPort !== undefined && onlyPort !== port) return false;
    if (pattern.startsWith('*.')) return name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1;
    return name === pattern;
  });
}

const refused = (detail: string) => new Problem(403, { kind: 'forbidden', detail });

/**
 * Checks that `address` names an app page the renderer may open: http(s), no credentials, a host on the
 * allow-list, and no address of the host among those never fetched. Answers the URL; throws 400 or 403 problems.
 */
export async function checkAppPage(address: string, allowed: readonly string[], resolve: Resolve): Promise<URL> {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Problem(400, { kind: 'bad-request', detail: 'url must be an absolute URL.' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Problem(400, { kind: 'bad-request', detail: 'url must be an http or https URL.' });
  }
  if (url.username || url.password)
    throw new Problem(400, { kind: 'bad-request', detail: 'url must not carry credentials.' });
  await checkHost(url, allowed, resolve);
  return url;
}

/** Refuses (403) a URL whose host is not on the allow-list or resolves to an address never fetched. */
export async function checkHost(url: URL, allowed: readonly string[], resolve: Resolve): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (allowed.length === 0) refusedNoHosts();
  if (!isAllowedHost(allowed, host, port)) {
    throw refused(`Only pages of the configured app hosts are rendered; ${url.host} is not one (PDF_APP_HOSTS).`);
  }
  await checkAddresses(host, resolve);
}

function refusedNoHosts(): never {
  throw refused('No app hosts are configured for PDF rendering (PDF_APP_HOSTS).');
}

/** Refuses (403) a host that is a metadata name or resolves to an address never fetched. */
export async function checkAddresses(host: string, resolve: Resolve): Promise<void> {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (METADATA_NAMES.has(name)) throw refused(`${host} is a cloud metadata service.`);
  let addresses: string[];
  try {
    addresses = isIP(name) ? [name] : await resolve(name);
  } catch {
    throw new Problem(400, { kind: 'bad-request', detail: `The host ${host} does not resolve.` });
  }
  if (addresses.length === 0 || addresses.some(isForbiddenAddress)) {
    throw refused(`${host} resolves to an address that is never rendered (link-local, metadata or unspecified).`);
  }
}
