import { describe, expect, it } from 'vitest';
import { altinnAppAddressSettings, altinnPlatformSettings, isReservedEnvName } from './env.js';

describe('altinnPlatformSettings', () => {
  it('points every PlatformSettings endpoint app-lib reads at the platform, the PDF generator at /pdf', () => {
    const settings = altinnPlatformSettings('http://127.0.0.1:7071/');
    expect(settings.PlatformSettings__ApiStorageEndpoint).toBe('http://127.0.0.1:7071/storage/api/v1/');
    expect(settings.PlatformSettings__ApiEventsEndpoint).toBe('http://127.0.0.1:7071/events/api/v1/');
    expect(settings.PlatformSettings__ApiNotificationEndpoint).toBe('http://127.0.0.1:7071/notifications/api/v1/');
    expect(settings.PlatformSettings__ApiPdf2Endpoint).toBe('http://127.0.0.1:7071/pdf');
    expect(settings.PlatformSettings__ApiAccessManagementEndpoint).toBe(
      'http://127.0.0.1:7071/accessmanagement/api/v1/',
    );
  });

  it("gives an app its own address: a host name that is not localtest's, and its external base URL", () => {
    expect(altinnAppAddressSettings('https://apps.example.no:8443/', 'ttd', 'forms')).toEqual({
      GeneralSettings__HostName: 'apps.example.no',
      GeneralSettings__ExternalAppBaseUrl: 'https://apps.example.no:8443/ttd/forms/',
    });
  });

  it('leaves them for a release to override (they are not reserved names)', () => {
    expect(isReservedEnvName('PlatformSettings__ApiPdf2Endpoint')).toBe(false);
    expect(isReservedEnvName('PLATFORM_URL')).toBe(true);
  });
});
