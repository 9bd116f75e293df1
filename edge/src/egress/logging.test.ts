import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  appToken,
  CREDENTIALS_KEY,
  call,
  devEnv,
  egressAdmin,
  putCredential,
  putTarget,
  targetBase,
  targetPort,
} from '../../test/egress';

/** Credentials are never logged: every console line written while they are set, rotated and injected is checked. */

const ORG = 'quiet';
const APP = 'forms';
const METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;

/** Captures every console line (each argument as text) until the spies are restored. */
function captureConsole(): string[] {
  const lines: string[] = [];
  for (const method of METHODS) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(
        args
          .map((a) =>
            typeof a === 'string' ? a : a instanceof Error ? `${a.name}: ${a.message}\n${a.stack}` : JSON.stringify(a),
          )
          .join(' '),
      );
    });
  }
  return lines;
}

afterEach(() => {
  vi.restoreAllMocks();
});

async function egressCall(path: string, headers: Record<string, string> = {}) {
  return call(
    `/_egress/http/127.0.0.1:${targetPort()}${path}`,
    { headers: { PlatformAccessToken: await appToken(ORG, APP), ...headers } },
    devEnv(),
  );
}

describe('egress: credentials never reach a log line', () => {
  it('logs no API key, Basic password, client secret, access token or app credential while setting, rotating and injecting', async () => {
    const lines = captureConsole();
    const secrets: string[] = [CREDENTIALS_KEY];
    const loopback = { scheme: 'http', host: '127.0.0.1', ports: [targetPort()] };
    await putTarget(ORG, 'keyed', { ...loopback, pathPrefixes: ['/api/'] });
    await putTarget(ORG, 'basic', { ...loopback, pathPrefixes: ['/basic/'] });
    await putTarget(ORG, 'oauth', { ...loopback, pathPrefixes: ['/oauth-api/'] });

    const oauth = (clientSecret: string) => ({
      type: 'oauth2',
      tokenUrl: `${targetBase()}/oauth/token`,
      clientId: 'egress-client',
      clientSecret,
      scope: 'read',
    });
    const received: string[] = [];
    // set, call, rotate, call: every version of every credential is injected once
    for (const round of [1, 2]) {
      const apiKey = `api-key-${round}-Zq81xT`;
      const password = `basic-pw-${round}-Kd93vB`;
      secrets.push(apiKey, password, btoa(`svc:${password}`));
      await putCredential(ORG, 'keyed', { type: 'header', name: 'X-Api-Key', value: apiKey, prefix: 'Key ' });
      await putCredential(ORG, 'basic', { type: 'basic', username: 'svc', password });
      await putCredential(ORG, 'oauth', oauth('client-secret-1'));
      for (const path of ['/api/echo', '/basic/echo', '/oauth-api/echo']) {
        const { res, text } = await egressCall(path);
        expect(res.status, text).toBe(200);
        received.push(text);
      }
    }
    // a rotation to a client secret the token endpoint refuses: the error path logs too
    const badSecret = 'client-secret-refused-Pw72mQ';
    await putCredential(ORG, 'oauth', oauth(badSecret));
    expect((await egressCall('/oauth-api/echo')).res.status).toBe(502);
    secrets.push(
      'client-secret-1',
      badSecret,
      btoa('egress-client:client-secret-1'),
      btoa(`egress-client:${badSecret}`),
    );

    // the app's own credentials: its token, and an egress key (issued, used, refused once revoked)
    const token = await appToken(ORG, APP);
    secrets.push(token, token.split('.')[2] ?? token);
    const issued = await egressAdmin('POST', `/${ORG}/apps/${APP}/keys`);
    const { key, keyId } = JSON.parse(issued.text) as { key: string; keyId: string };
    secrets.push(key.split('_')[2] ?? key);
    const viaKey = await call(
      `/_egress/http/127.0.0.1:${targetPort()}/api/echo`,
      { headers: { 'x-egress-key': key } },
      devEnv(),
    );
    expect(viaKey.res.status).toBe(200);
    await egressAdmin('DELETE', `/${ORG}/apps/${APP}/keys/${keyId}`);
    const revoked = await call(
      `/_egress/http/127.0.0.1:${targetPort()}/api/echo`,
      { headers: { 'x-egress-key': key } },
      devEnv(),
    );
    expect(revoked.res.status).toBe(401);

    // what the target received proves the secrets were in play: the injected fields
    const accessTokens = received.flatMap((t) => [...t.matchAll(/Bearer (oauth-token-\d+)/g)].map((m) => m[1] ?? ''));
    expect(accessTokens.length).toBeGreaterThanOrEqual(2);
    secrets.push(...accessTokens);
    const injected = received.join('\n');
    expect(injected).toContain('Key api-key-1-Zq81xT');
    expect(injected).toContain('Key api-key-2-Zq81xT');
    expect(injected).toContain(`Basic ${btoa('svc:basic-pw-2-Kd93vB')}`);

    // the spies saw the logging (admin changes, one line per call, the token failure)
    const logged = lines.join('\n');
    expect(logged).toContain('egress policy changed');
    expect(logged).toContain('credential rotated');
    expect(logged).toContain('"msg":"egress"');
    expect(logged).toContain('credential-unavailable');
    for (const secret of secrets) {
      const line = lines.find((l) => l.includes(secret));
      expect(line, `a log line holds ${secret.slice(0, 12)}...`).toBeUndefined();
    }
  });
});
