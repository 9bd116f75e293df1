import { describe, expect, it } from 'vitest';
import { addressRefusal, parseIpv6 } from '../net/address';
import { dohResolver, mapResolver, ResolveError, resolverFrom } from './resolver';
import { matchTarget, type TargetRule } from './rules';

/** The address classification and rule matching the egress proxy decides with. */

describe('egress addresses', () => {
  it('parses IPv6 with compression and an IPv4 tail', () => {
    expect(parseIpv6('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('::ffff:10.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001]);
    expect(parseIpv6('2001:db8::8:800:200c:417a')).toEqual([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
    expect(parseIpv6('1::2::3')).toBeNull();
    expect(parseIpv6('12345::')).toBeNull();
    expect(parseIpv6('fe80::1%eth0')).toBeNull();
  });

  const refused = [
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '0.0.0.0',
    '::1',
    '::',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::',
    'fd12::1',
    'fe80::1',
    'ff02::1',
    '2001:db8::1',
  ];
  for (const address of refused) {
    it(`refuses ${address}`, () => {
      expect(addressRefusal(address)).not.toBeNull();
    });
  }

  for (const address of [
    '8.8.8.8',
    '93.184.216.34',
    '100.128.0.1',
    '172.32.0.1',
    '2606:4700:4700::1111',
    '2a00:1450::1',
  ]) {
    it(`allows public ${address}`, () => {
      expect(addressRefusal(address)).toBeNull();
    });
  }
});

describe('egress resolver setting', () => {
  it('answers from the configured map, lower-cased, and nothing for other names', async () => {
    const resolver = resolverFrom('{"Api.Example":["10.0.0.1"]}', undefined);
    expect(await resolver.resolve('api.example')).toEqual(['10.0.0.1']);
    expect(await mapResolver({}).resolve('x.example')).toEqual([]);
    expect(() => resolverFrom('[1]', undefined)).toThrow();
  });
});

describe('egress DNS-over-HTTPS resolver', () => {
  function doh(answers: Record<string, unknown>): typeof fetch {
    return (async (input: RequestInfo | URL) => {
      const url = new URL(String(input));
      const body = answers[`${url.searchParams.get('name')}/${url.searchParams.get('type')}`] ?? { Status: 3 };
      return Response.json(body);
    }) as typeof fetch;
  }

  it('collects A and AAAA answers, following a CNAME, and treats NXDOMAIN as no address', async () => {
    const resolver = dohResolver(
      'https://doh.test/dns-query',
      doh({
        'www.doh-a.example/A': {
          Status: 0,
          Answer: [
            { type: 5, data: 'cdn.example.', TTL: 60 },
            { type: 1, data: '10.0.0.7', TTL: 60 },
          ],
        },
        'www.doh-a.example/AAAA': { Status: 0, Answer: [{ type: 28, data: '2606:4700::1', TTL: 60 }] },
      }),
    );
    expect(await resolver.resolve('www.doh-a.example')).toEqual(['10.0.0.7', '2606:4700::1']);
    expect(await resolver.resolve('nx.doh-a.example')).toEqual([]);
  });

  it('fails (does not answer "no address") when the resolver answers SERVFAIL or an HTTP error', async () => {
    const servfail = dohResolver('https://doh.test/dns-query', doh({ 'sf.doh-b.example/A': { Status: 2 } }));
    await expect(servfail.resolve('sf.doh-b.example')).rejects.toBeInstanceOf(ResolveError);
    const down = dohResolver(
      'https://doh.test/dns-query',
      (async () => new Response('no', { status: 502 })) as typeof fetch,
    );
    await expect(down.resolve('down.doh-b.example')).rejects.toBeInstanceOf(ResolveError);
  });
});

describe('egress rule matching', () => {
  const rule = (name: string, host: string, pathPrefixes: string[], apps?: string[]): TargetRule => ({
    name,
    scheme: 'https',
    host,
    ports: [443],
    methods: ['GET'],
    pathPrefixes,
    timeoutMs: 1000,
    maxResponseBytes: 1000,
    maxRedirects: 0,
    ...(apps ? { apps } : {}),
  });
  const ask = { app: 'a', scheme: 'https', hostname: 'api.example.no', port: 443, method: 'GET', pathname: '/v1/x' };

  it('prefers an exact host to a wildcard and a longer prefix to a shorter one', () => {
    const rules = [
      rule('wild', '*.example.no', ['/']),
      rule('short', 'api.example.no', ['/']),
      rule('long', 'api.example.no', ['/v1/']),
    ];
    expect(matchTarget(rules, ask)?.name).toBe('long');
    expect(matchTarget(rules.slice(0, 2), ask)?.name).toBe('short');
  });

  it('denies by default: other port, method, scheme, app, or a wildcard that is only a suffix', () => {
    const rules = [rule('r', 'api.example.no', ['/v1/'], ['b'])];
    expect(matchTarget(rules, ask)).toBeNull();
    const open = [rule('r', 'api.example.no', ['/v1/'])];
    expect(matchTarget(open, { ...ask, port: 8443 })).toBeNull();
    expect(matchTarget(open, { ...ask, method: 'POST' })).toBeNull();
    expect(matchTarget(open, { ...ask, scheme: 'http' })).toBeNull();
    expect(matchTarget(open, { ...ask, pathname: '/v10' })).toBeNull();
    expect(matchTarget([rule('w', '*.example.no', ['/'])], { ...ask, hostname: 'evilexample.no' })).toBeNull();
    expect(matchTarget([rule('w', '*.example.no', ['/'])], { ...ask, hostname: 'example.no' })).toBeNull();
  });
});
