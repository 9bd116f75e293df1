import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearer, TTD, useReplayHost } from './harness.js';

/**
 * Replays of the two localtest pages app-lib (v8.12.7) calls when its `GeneralSettings.HostName` is localtest's
 * (`local.altinn.cloud`, the library's default), both on the host of `PlatformSettings.ApiStorageEndpoint`: served in
 * local mode so an unmodified app started with localtest's settings runs against this platform, never in production.
 */

const local = useReplayHost();
const withoutTestIdp = useReplayHost({ TEST_IDP: 'false' });

/** `MaskinportenClient.GetFormattedScopes` joins with spaces; `Uri.EscapeDataString` escapes `:`, `/` and spaces. */
const SCOPES = 'altinn:serviceowner/instances.read altinn:serviceowner/instances.write';
const escaped = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);

describe('localtest pages app-lib calls in local mode', () => {
  // src/Altinn.App.Core/Internal/LocaltestValidation.cs Version: GET {platform base}/Home/Localtest/Version, parsed
  // with int.TryParse; a 404 or a version below MinSupportedApiVersion (5) stops the app.
  it('answers the version app-lib requires (an integer >= 5, as text)', async () => {
    const response = await local.send('GET', '/Home/Localtest/Version');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/^\d+$/);
    expect(Number(text)).toBeGreaterThanOrEqual(5);
  });

  // src/Altinn.App.Core/Internal/Auth/AuthenticationTokenResolver.cs GetLocaltestToken: GET
  // {platform base}/Home/GetTestOrgToken?org={org}&orgNumber=991825827&authenticationLevel=3&scopes={escaped}, the
  // body read as the JWT of an AltinnToken (the service owner's platform token).
  it("issues the app's service owner a platform token with the scopes asked, usable on Storage", async () => {
    const path =
      `/Home/GetTestOrgToken?org=${TTD.org}&orgNumber=991825827&authenticationLevel=3` + `&scopes=${escaped(SCOPES)}`;
    expect(path).toContain('scopes=altinn%3Aserviceowner%2Finstances.read%20altinn%3Aserviceowner%2Finstances.write');
    const response = await local.send('GET', path);
    expect(response.status).toBe(200);
    const token = await response.text();
    const claims = decodeJwt(token);
    expect(claims['urn:altinn:org']).toBe(TTD.org);
    expect(claims['urn:altinn:scope']).toBe(SCOPES);
    // The registered owner's number, not the fixed one localtest's caller sends.
    expect(claims['urn:altinn:orgNumber']).not.toBe('991825827');
    const instances = await local.send('GET', `/storage/api/v1/instances?org=${TTD.org}`, { headers: bearer(token) });
    expect(instances.status).toBe(200);
  });

  it('refuses an org that is not a registered service owner (404) and a malformed one (400)', async () => {
    const unknown = await local.send('GET', '/Home/GetTestOrgToken?org=nosuchorg&scopes=');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    const malformed = await local.send('GET', '/Home/GetTestOrgToken?org=../ttd');
    expect(malformed.status).toBe(400);
  });

  it('serves neither page without the test identity provider (production mode has none)', async () => {
    for (const path of ['/Home/Localtest/Version', `/Home/GetTestOrgToken?org=${TTD.org}&scopes=`]) {
      expect((await withoutTestIdp.send('GET', path)).status).toBe(404);
    }
  });
});
