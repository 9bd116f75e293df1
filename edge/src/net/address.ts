/**
 * Which network addresses an egress call may reach (Smokescreen's rule): public unicast only. IPv4 is
 * checked after WHATWG URL parsing, which already turns decimal, octal and hex forms
 * (`2130706433`, `0177.0.0.1`, `0x7f.1`) into dotted quads; IPv6 is checked as eight groups, and
 * anything outside global unicast 2000::/3, or carrying an IPv4 address inside it, is refused.
 */

/** IPv4 ranges that are not public unicast: [first octets as a number, prefix length, what it is]. */
const IPV4_FORBIDDEN: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved and broadcast'],
];

/** A dotted quad as a 32-bit unsigned number, or null when `text` is not exactly one. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

const IPV4_RANGES = IPV4_FORBIDDEN.map(([base, bits, what]) => {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (parseIpv4(base) ?? 0) & mask, mask, what };
});

/** Why an IPv4 address is refused, or null when it is public unicast. */
export function ipv4Refusal(address: number): string | null {
  for (const range of IPV4_RANGES) {
    if ((address & range.mask) >>> 0 === range.base >>> 0) return range.what;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (no brackets, no zone), or null when it is not one. */
export function parseIpv6(text: string): number[] | null {
  if (text.includes('%')) return null;
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(body.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [v4 >>> 16, v4 & 0xffff];
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const group = (g: string) => (/^[0-9a-f]{1,4}$/i.test(g) ? Number.parseInt(g, 16) : Number.NaN);
  const head = halves[0] === '' ? [] : (halves[0] ?? '').split(':').map(group);
  const rest = halves.length === 2 ? (halves[1] === '' ? [] : (halves[1] ?? '').split(':').map(group)) : [];
  const known = head.length + rest.length + tail.length;
  if ([...head, ...rest].some(Number.isNaN)) return null;
  if (halves.length === 1) return known === 8 ? [...head, ...tail] : null;
  if (known > 7) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
}

/** Why an IPv6 address is refused, or null when it is global unicast with no IPv4 inside. */
export function ipv6Refusal(groups: readonly number[]): string | null {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroTo4 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroTo4 && g5 === 0 && g6 === 0 && g7 <= 1) return g7 === 1 ? 'IPv6 loopback' : 'IPv6 unspecified';
  if (zeroTo4 && g5 === 0xffff) return 'IPv4-mapped IPv6';
  if (zeroTo4 && g5 === 0) return 'IPv4-compatible IPv6';
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return 'IPv4-translated IPv6';
  if (g0 === 0x64 && g1 === 0xff9b) return 'NAT64 (IPv4-embedded IPv6)';
  if (g0 === 0x2002) return '6to4 (IPv4-embedded IPv6)';
  if (g0 === 0x2001 && g1 === 0) return 'Teredo (IPv4-embedded IPv6)';
  if (g0 === 0x2001 && g1 === 0xdb8) return 'IPv6 documentation';
  if (g0 === 0x2001 && g1 < 0x200) return 'IETF protocol assignments';
  if ((g0 & 0xfe00) === 0xfc00) return 'IPv6 unique local';
  if ((g0 & 0xffc0) === 0xfe80) return 'IPv6 link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'IPv6 site-local';
  if ((g0 & 0xff00) === 0xff00) return 'IPv6 multicast';
  if ((g0 & 0xe000) !== 0x2000) return 'not IPv6 global unicast';
  return null;
}

/** What kind of host a URL's hostname is: an IPv4 or IPv6 literal, or a name to resolve. */
export type HostKind = { kind: 'ipv4'; value: number } | { kind: 'ipv6'; groups: number[] } | { kind: 'name' };

/** Classifies a WHATWG-parsed hostname (IPv6 in brackets). */
export function hostKind(hostname: string): HostKind {
  if (hostname.startsWith('[') && hostname.endsWith(']')) {
    const groups = parseIpv6(hostname.slice(1, -1));
    return groups === null ? { kind: 'name' } : { kind: 'ipv6', groups };
  }
  const v4 = parseIpv4(hostname);
  return v4 === null ? { kind: 'name' } : { kind: 'ipv4', value: v4 };
}

/** Names that mean this machine or a private network whatever DNS says. */
const FORBIDDEN_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa|in-addr\.arpa|ip6\.arpa)$/;

/** Why a host name is refused by name alone (before any resolution), or null. */
export function nameRefusal(hostname: string): string | null {
  if (FORBIDDEN_NAMES.test(hostname)) return 'a local or internal name';
  if (!hostname.includes('.')) return 'a single-label name';
  return null;
}

/** Why a resolved or literal address (text form) is refused, or null when it is public. */
export function addressRefusal(address: string): string | null {
  const v4 = parseIpv4(address);
  if (v4 !== null) return ipv4Refusal(v4);
  const v6 = parseIpv6(address.replace(/^\[|\]$/g, ''));
  if (v6 !== null) return ipv6Refusal(v6);
  return 'not an IP address';
}
