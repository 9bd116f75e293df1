import { describe, expect, it } from 'vitest';
import { Problem } from '../../../platform/src/errors/index.js';
import { checkAppPage, isAllowedHost, isForbiddenAddress, type Resolve } from './target.js';

const HOSTS = ['localhost', '*.apps.altinn.no', 'app.example:8443'];
const dns: Record<string, string[]> = {
  'ttd.apps.altinn.no': ['20.100.1.2'],
  'evil.apps.altinn.no': ['169.254.169.254'],
  'mapped.apps.altinn.no': ['::ffff:169.254.169.254'],
  'app.example': ['10.0.0.5'],
  localhost: ['127.0.0.1', '::1'],
};
const resolve: Resolve = async (host) => {
  const found = dns[host];
  if (!found) throw new Error('ENOTFOUND');
  return found;
};

const statusOf = async (url: string, hosts: readonly string[] = HOSTS) => {
  try {
    await checkAppPage(url, hosts, resolve);
    return 200;
  } catch (error) {
    if (error instanceof Problem) return error.status;
    throw error;
  }
};

describe('isForbiddenAddress', () => {
  it('refuses link-local, metadata, unspecified and multicast addresses, mapped IPv6 forms too', () => {
    for (const address of [
      '169.254.169.254',
      '169.254.0.1',
      '0.0.0.0',
      '224.0.0.1',
      'fe80::1',
      '::',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      'fd00:ec2::254',
      '100.100.100.200',
    ]) {
      expect(isForbiddenAddress(address), address).toBe(true);
    }
  });

  it('lets loopback, private and public addresses through (the host allow-list decides those)', () => {
    for (const address of ['127.0.0.1', '::1', '10.0.0.5', '20.100.1.2', '2001:db8::1']) {
      expect(isForbiddenAddress(address), address).toBe(false);
    }
  });
});

describe('isAllowedHost', () => {
  it('matches names exactly, *. suffixes below the domain only, and pinned ports', () => {
    expect(isAllowedHost(HOSTS, 'ttd.apps.altinn.no', '443')).toBe(true);
    expect(isAllowedHost(HOSTS, 'apps.altinn.no', '443')).toBe(false);
    expect(isAllowedHost(HOSTS, 'ttd.apps.altinn.no.evil.com', '443')).toBe(false);
    expect(isAllowedHost(HOSTS, 'app.example', '8443')).toBe(true);
    expect(isAllowedHost(HOSTS, 'app.example', '443')).toBe(false);
    expect(isAllowedHost(HOSTS, 'LOCALHOST', '5005')).toBe(true);
  });
});

describe('checkAppPage', () => {
  it('accepts app pages of allowed hosts', async () => {
    expect(await statusOf('https://ttd.apps.altinn.no/ttd/app/#/instance/510001/abc?pdf=1')).toBe(200);
    expect(await statusOf('http://localhost:5005/ttd/app/')).toBe(200);
  });

  it('answers 400 for what is not an http(s) URL or carries credentials', async () => {
    for (const url of ['not a url', 'file:///etc/passwd', 'ftp://localhost/x', 'http://user:pw@localhost/x']) {
      expect(await statusOf(url), url).toBe(400);
    }
  });

  it('answers 403 for other hosts, metadata addresses and names, and when no hosts are configured', async () => {
    for (const url of [
      'https://example.com/',
      'http://169.254.169.254/latest/meta-data/',
      'http://metadata.google.internal/',
      'https://evil.apps.altinn.no/',
      'https://mapped.apps.altinn.no/',
      'http://[fe80::1]/',
    ]) {
      expect(await statusOf(url), url).toBe(403);
    }
    expect(await statusOf('http://localhost/x', [])).toBe(403);
    expect(await statusOf('http://169.254.169.254/', ['169.254.169.254'])).toBe(403);
  });
});
