import { describe, expect, it } from 'vitest';
import { type Credential, inject } from './credentials';

const client = (id: string): Credential => ({
  type: 'oauth2',
  tokenUrl: 'https://idp.example/token',
  clientId: id,
  clientSecret: 'secret',
  clientAuth: 'body',
});

/** A token endpoint that mints `token-{n}-{client_id}` and counts its calls. */
function tokenEndpoint() {
  let minted = 0;
  const fetchToken = async (_url: string, init: RequestInit) => {
    minted += 1;
    const clientId = new URLSearchParams(String(init.body)).get('client_id');
    return Response.json({ access_token: `token-${minted}-${clientId}`, expires_in: 3600 });
  };
  return { fetchToken, minted: () => minted };
}

async function bearer(
  credential: Credential,
  credentialId: string,
  fetchToken: ReturnType<typeof tokenEndpoint>['fetchToken'],
) {
  const headers = new Headers();
  await inject(headers, credential, { slot: 'org/target-cache', credentialId }, fetchToken);
  return headers.get('authorization');
}

describe('OAuth2 token cache', () => {
  it('keys a token by the credential it was minted for: a new credential in the same slot never gets the old one', async () => {
    const idp = tokenEndpoint();
    expect(await bearer(client('old'), 'k1.iv-a', idp.fetchToken)).toBe('Bearer token-1-old');
    expect(await bearer(client('old'), 'k1.iv-a', idp.fetchToken)).toBe('Bearer token-1-old');
    // the slot's credential was set again (another isolate's admin write): another sealing, another id
    expect(await bearer(client('new'), 'k1.iv-b', idp.fetchToken)).toBe('Bearer token-2-new');
    expect(await bearer(client('new'), 'k1.iv-b', idp.fetchToken)).toBe('Bearer token-2-new');
    expect(idp.minted()).toBe(2);
  });
});
