import { beforeAll, describe, expect, inject, it } from 'vitest';
import { appToken, call, egressEnv, problemOf, putTarget, targetBase, targetHits, targetPort } from '../../test/egress';

/**
 * SSRF payloads, each refused with 403 while the development loopback allowance is OFF (the
 * production default), although the org's rule allows every host (`*`) on the ports used: so each
 * refusal comes from the SSRF defences, not from deny-by-default.
 */

const ORG = 'ssrf';
const APP = 'prober';
/** Reasons that come from the SSRF defences (not from the allow-list). */
const SSRF_REASONS = ['forbidden-address', 'forbidden-name', 'resolves-to-forbidden-address', 'malformed-target'];

function payloads(port: number): string[] {
  return [
    // IPv4 loopback in every spelling WHATWG accepts
    'http/127.0.0.1/',
    `http/127.0.0.1:${port}/`,
    'http/127.1/',
    'http/127.0.1/',
    'http/0177.0.0.1/',
    'http/0x7f.0.0.1/',
    `http/0x7f.1:${port}/`,
    'http/0x7f000001/',
    'http/2130706433/',
    'http/017700000001/',
    'http/127.000.000.001/',
    // this network, private, CGNAT, link-local and metadata
    'http/0/',
    'http/0.0.0.0/',
    'http/10.0.0.1/',
    'http/172.16.0.1/',
    'http/172.31.255.255/',
    'http/192.168.1.1/',
    'http/100.64.0.1/',
    'http/169.254.169.254/latest/meta-data/',
    'http/0xa9fea9fe/',
    'http/2852039166/',
    'http/0251.0376.0251.0376/',
    'http/169.254.0.1/',
    'http/198.18.0.1/',
    'http/224.0.0.1/',
    'http/255.255.255.255/',
    // IPv6 loopback, unspecified, mapped and embedded IPv4, ULA, link-local
    'http/[::1]/',
    'http/[::]/',
    'http/[0:0:0:0:0:0:0:1]/',
    `http/[::ffff:127.0.0.1]:${port}/`,
    'http/[::ffff:7f00:1]/',
    'http/[::ffff:169.254.169.254]/',
    'http/[::ffff:a9fe:a9fe]/',
    'http/[::127.0.0.1]/',
    'http/[64:ff9b::a9fe:a9fe]/',
    'http/[2002:7f00:1::]/',
    'http/[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'http/[fc00::1]/',
    'http/[fd00:ec2::254]/',
    'http/[fe80::1]/',
    'http/[fe80::1%25eth0]/',
    'http/[ff02::1]/',
    // names that mean this machine or an internal network
    'http/localhost/',
    `http/localhost:${port}/`,
    'http/LOCALHOST/',
    'http/localhost./',
    'http/app.localhost/',
    'http/metadata.google.internal/computeMetadata/v1/',
    'http/metadata/',
    // userinfo and authority tricks
    'http/allowed.example@evil.example/',
    'http/allowed.example%40127.0.0.1/',
    'http/user:pass@127.0.0.1/',
    `http/public.example@127.0.0.1:${port}/`,
    'http/evil.example\\@public.example/',
    'http/public.example%2f@10.0.0.1/',
    // names that resolve to forbidden addresses (DNS answers an attacker controls)
    'http/evil.example/',
    'http/rebind.example/',
    'http/ipv6-loop.example/',
    'http/mapped.example/',
    'http/cgnat.example/',
    'http/metadata.example/',
    'http/ula.example/',
    'http/127.0.0.1.nip.io/',
    // other schemes
    'ftp/public.example/',
    'gopher/127.0.0.1:25/',
    'file/etc/passwd',
  ];
}

describe('egress SSRF defences (development loopback allowance off)', () => {
  beforeAll(async () => {
    await putTarget(ORG, 'anything', {
      scheme: 'http',
      host: '*',
      ports: [80, 443, 25, targetPort()],
      methods: ['GET', 'POST'],
    });
  });

  it('has at least 40 payloads', () => {
    expect(payloads(targetPort()).length).toBeGreaterThanOrEqual(40);
  });

  for (const payload of payloads(0)) {
    const shown = payload.replace(':0/', ':{port}/');
    it(`refuses /_egress/${shown} with 403 and an SSRF reason`, async () => {
      const path = `/_egress/${payload.replace(':0/', `:${targetPort()}/`)}`;
      const before = await targetHits();
      const { res, text } = await call(path, { headers: { PlatformAccessToken: await appToken(ORG, APP) } });
      const problem = problemOf(res, text, 403);
      expect(SSRF_REASONS).toContain(problem.reason);
      expect(problem.type).toBe(`urn:altinn-platform:problem:egress-${problem.reason}`);
      expect(await targetHits()).toBe(before);
    });
  }

  it('lets the same rule reach the loopback target once the development allowance names its port', async () => {
    // Proves the payloads above fail on the defences, not on the rule: with the allowance on, the rule lets the call through.
    const env = egressEnv({ EGRESS_DEV_LOOPBACK_PORTS: String(targetPort()) });
    const { res, text } = await call(
      `/_egress/http/127.0.0.1:${targetPort()}/api/echo`,
      { headers: { PlatformAccessToken: await appToken(ORG, APP) } },
      env,
    );
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ method: 'GET', url: '/api/echo' });
  });

  it('keeps refusing the loopback target when the allowance names another port', async () => {
    const env = egressEnv({ EGRESS_DEV_LOOPBACK_PORTS: String(targetPort() + 1) });
    const { res, text } = await call(
      `/_egress/http/127.0.0.1:${targetPort()}/api/echo`,
      { headers: { PlatformAccessToken: await appToken(ORG, APP) } },
      env,
    );
    expect(problemOf(res, text, 403).reason).toBe('forbidden-address');
  });

  it('answers 502 resolver-failed, never 500, when the DNS-over-HTTPS resolver is down or answers garbage', async () => {
    for (const doh of [`http://127.0.0.1:${inject('deadPort')}/dns-query`, `${targetBase()}/api/big?bytes=10`]) {
      const env = egressEnv({ EGRESS_DNS: 'doh', EGRESS_DOH_URL: doh });
      const { res, text } = await call(
        `/_egress/http/dns-broken-${crypto.randomUUID().slice(0, 8)}.example/`,
        { headers: { PlatformAccessToken: await appToken(ORG, APP) } },
        env,
      );
      const problem = problemOf(res, text, 502);
      expect(problem.reason, doh).toBe('resolver-failed');
    }
  });
});
