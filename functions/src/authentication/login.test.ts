import { describe, expect, it } from 'vitest';
import { createApi } from '../../../platform/src/api/index.js';
import { InvalidTokenError } from '../../../platform/src/auth/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { silentLogger } from '../../../platform/src/logging/index.js';
import { lastNamesOf } from '../register/persons.js';
import { addLoginRoutes, safeGoto } from './login.js';

const SELF = 'http://127.0.0.1:7071';
const HOSTS = ['localhost', 'apps.example.no:8443'];

describe('safeGoto', () => {
  it('allows paths and URLs on the host called or on a configured host', () => {
    expect(safeGoto('/ttd/demo/', SELF, HOSTS)).toBe('http://127.0.0.1:7071/ttd/demo/');
    expect(safeGoto('http://127.0.0.1:7071/x', SELF, HOSTS)).toBe('http://127.0.0.1:7071/x');
    expect(safeGoto('http://localhost:8787/ttd/demo/?a=1#f', SELF, HOSTS)).toBe(
      'http://localhost:8787/ttd/demo/?a=1#f',
    );
    expect(safeGoto('https://apps.example.no:8443/ttd/demo', SELF, HOSTS)).toBe(
      'https://apps.example.no:8443/ttd/demo',
    );
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    '/\\evil.example/',
    'javascript:alert(1)',
    'https://apps.example.no/ttd/demo',
    'http://user:pass@localhost/',
    'http://127.0.0.1:9999/',
    'data:text/html,hi',
  ])('refuses %s with a 400 problem', (goto) => {
    expect(() => safeGoto(goto, SELF, HOSTS)).toThrow(Problem);
  });
});

describe('lastNamesOf', () => {
  it('reads app-lib’s Base64 last name and still takes a plain one', () => {
    expect(lastNamesOf(Buffer.from('Sørensen').toString('base64'))[0]).toBe('Sørensen');
    expect(lastNamesOf('Salt')).toEqual(['Salt']);
    expect(lastNamesOf('Nordmann')).toContain('Nordmann');
  });
});

describe('authentication?goto= without the test identity provider', () => {
  it('answers 501 problem and mints no token, however valid goto is', async () => {
    const api = createApi({ prefix: '/authentication/api/v1', title: 't', version: '1', logger: silentLogger });
    const refuse = async (): Promise<never> => {
      throw new InvalidTokenError('no');
    };
    addLoginRoutes(api, {
      issuer: { userToken: refuse, orgToken: refuse, accessToken: refuse, sign: refuse },
      verifier: { verify: refuse, verifyClaims: refuse, verifyAccessToken: refuse },
      directory: { userBySsn: async () => undefined, serviceOwnerByNumber: async () => undefined },
      testLogin: false,
      platformUrl: 'https://platform.example.no',
      redirectHosts: ['apps.example.no'],
    });
    const response = await api.request('/authentication/api/v1/authentication?goto=https://apps.example.no/ttd/demo');
    expect(response.status).toBe(501);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect((await api.request('/authentication/api/v1/testidp/login?goto=/x')).status).toBe(404);
  });
});
